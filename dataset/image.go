package dataset

import (
	"bufio"
	"fmt"
	"image"
	"io"
	"math"
	"os"

	"golang.org/x/image/draw"
)

// MaxImagePixels bounds the declared size of a PNG or JPEG in an image
// folder: a header is read before the image, and one that declares more
// pixels is refused before any are decoded. A file of a few hundred
// kilobytes can declare 30000×30000 pixels, which would take 3.6 GB to
// decode.
const MaxImagePixels = 1 << 26 // 64 megapixels, 256 MB as RGBA

// checkImageConfig checks an image's declared size.
func checkImageConfig(path string, cfg image.Config) error {
	if cfg.Width < 1 || cfg.Height < 1 {
		return fmt.Errorf("dataset: %s: image is %dx%d; want at least 1x1", path, cfg.Height, cfg.Width)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return fmt.Errorf("dataset: %s: image declares %dx%d pixels, more than the %d megapixels an image may have; resize it first", path, cfg.Height, cfg.Width, MaxImagePixels>>20)
	}
	return nil
}

// loadImage decodes the PNG or JPEG at path, fits it to h×w and writes its
// c planes (1: grey, 3: RGB) to dst in [0,1].
func loadImage(dst []float32, path string, c, h, w int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("dataset: %s: cannot decode as PNG or JPEG: %v", path, err)
	}
	if err := checkImageConfig(path, cfg); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	img, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("dataset: %s: cannot decode as PNG or JPEG: %v", path, err)
	}
	if b := img.Bounds(); b.Empty() {
		return fmt.Errorf("dataset: %s: image is empty (%dx%d)", path, b.Dy(), b.Dx())
	}
	planes(dst, fit(img, h, w), c, h, w)
	return nil
}

// fit scales img so that it covers h×w, keeping its aspect ratio, and
// returns the centred h×w crop. Only the part of img that the crop keeps
// is scaled, straight into an h×w image: scaling the whole image first
// would, for a long thin image, make an intermediate image of billions of
// pixels. Transparent pixels come out over black.
func fit(img image.Image, h, w int) *image.RGBA {
	b := img.Bounds()
	sh, sw := b.Dy(), b.Dx()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if sh == h && sw == w {
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return dst
	}
	scale := max(float64(h)/float64(sh), float64(w)/float64(sw))
	cw := min(sw, max(1, int(math.Round(float64(w)/scale))))
	ch := min(sh, max(1, int(math.Round(float64(h)/scale))))
	x0, y0 := b.Min.X+(sw-cw)/2, b.Min.Y+(sh-ch)/2
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, image.Rect(x0, y0, x0+cw, y0+ch), draw.Src, nil)
	return dst
}

// planes writes img, h×w, as c planes in [0,1]; grey
// uses the luma weights of image/color, which keep grey pixels exact.
func planes(dst []float32, img *image.RGBA, c, h, w int) {
	hw := h * w
	for y := range h {
		row := img.Pix[img.PixOffset(0, y):]
		for x := range w {
			px := row[4*x : 4*x+3]
			i := y*w + x
			if c == 1 {
				r, g, b := uint32(px[0]), uint32(px[1]), uint32(px[2])
				dst[i] = pixel[(19595*r+38470*g+7471*b+1<<15)>>16]
				continue
			}
			dst[i], dst[hw+i], dst[2*hw+i] = pixel[px[0]], pixel[px[1]], pixel[px[2]]
		}
	}
}
