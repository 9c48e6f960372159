package dataset

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestFolder(t *testing.T) {
	// Class folders in byte order: "C" < "a" < "b"; "a" is empty but still
	// a class. Files sort within a class.
	counts := map[string]int{"b": 4, "C": 3, "a": 0}
	wantClasses := []string{"C", "a", "b"}
	const n, h, w = 7, 6, 5
	var labels []int
	for label, class := range wantClasses {
		for range counts[class] {
			labels = append(labels, label)
		}
	}
	label := func(i int) int { return labels[i] }
	for _, c := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d channels", c), func(t *testing.T) {
			dir := t.TempDir()
			i := 0
			for _, class := range wantClasses {
				if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
					t.Fatal(err)
				}
				for k := range counts[class] {
					writeFile(t, filepath.Join(dir, class, fmt.Sprintf("img%02d.png", k)), pngBytes(t, i, c, h, w))
					i++
				}
			}
			writeFile(t, filepath.Join(dir, "b", "notes.txt"), []byte("not an image"))
			writeFile(t, filepath.Join(dir, "b", ".hidden.png"), []byte("skipped"))
			writeFile(t, filepath.Join(dir, "b", "nested", "x.png"), []byte("skipped"))
			writeFile(t, filepath.Join(dir, "README"), []byte("not a class"))
			checkSource(t, func(opt *Options) (Source, error) {
				if opt == nil {
					opt = &Options{}
				}
				opt.Channels = c
				return Open(dir, opt)
			}, n, c, h, w, label)

			src, err := Open(dir, &Options{Channels: c})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if got := src.(ClassNamer).Classes(); !slices.Equal(got, wantClasses) {
				t.Errorf("Classes() = %q; want %q", got, wantClasses)
			}
		})
	}
}

// bands returns an h×w image whose outer quarters on its longer side are
// black and whose middle is col, so that a centred crop sees col only.
func bands(h, w int, col color.NRGBA) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			pos, size := x, w
			if h > w {
				pos, size = y, h
			}
			if pos >= size/4 && pos < size-size/4 {
				img.SetNRGBA(x, y, col)
			} else {
				img.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
	}
	return img
}

func TestFolderResize(t *testing.T) {
	col := color.NRGBA{200, 100, 50, 255}
	grey := float32((19595*200+38470*100+7471*50+1<<15)>>16) / 255
	for _, test := range []struct {
		name            string
		h, w            int // source size
		opt             Options
		c, wantH, wantW int
		jpeg            bool
	}{
		{"default size from first image", 10, 20, Options{}, 3, 10, 20, false},
		{"crop only", 8, 16, Options{Height: 8, Width: 8}, 3, 8, 8, false},
		{"downscale wide", 32, 64, Options{Height: 8, Width: 8}, 3, 8, 8, false},
		{"downscale tall", 64, 32, Options{Height: 8, Width: 8}, 3, 8, 8, false},
		{"upscale", 4, 8, Options{Height: 12, Width: 12}, 3, 12, 12, false},
		{"height only", 40, 80, Options{Height: 16}, 3, 16, 16, false},
		{"width only", 40, 80, Options{Width: 12}, 3, 12, 12, false},
		{"non-square target", 40, 80, Options{Height: 10, Width: 16}, 3, 10, 16, false},
		{"grey", 32, 64, Options{Height: 8, Width: 8, Channels: 1}, 1, 8, 8, false},
		{"jpeg", 32, 64, Options{Height: 8, Width: 8}, 3, 8, 8, true},
	} {
		dir := t.TempDir()
		var buf bytes.Buffer
		name := "x.png"
		img := bands(test.h, test.w, col)
		if test.jpeg {
			name = "x.JPG"
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
				t.Fatal(err)
			}
		} else if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "only", name), buf.Bytes())
		src, err := Open(dir, &test.opt)
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		var b Batch
		err = src.Next(&b, 4)
		src.Close()
		if err != nil {
			t.Errorf("%s: Next: %v", test.name, err)
			continue
		}
		if b.N != 1 || b.C != test.c || b.H != test.wantH || b.W != test.wantW || len(b.X) != test.c*test.wantH*test.wantW {
			t.Errorf("%s: batch of %d, %dx%dx%d, %d pixels; want 1 of %dx%dx%d", test.name, b.N, b.C, b.H, b.W, len(b.X), test.c, test.wantH, test.wantW)
			continue
		}
		// The centre of the crop lies well inside the coloured band.
		want := []float32{200.0 / 255, 100.0 / 255, 50.0 / 255}
		if test.c == 1 {
			want = []float32{grey}
		}
		tol := 1e-6
		if test.jpeg {
			tol = 0.05
		}
		hw := b.H * b.W
		centre := b.H/2*b.W + b.W/2
		for ch, v := range want {
			if got := b.X[ch*hw+centre]; math.Abs(float64(got-v)) > tol {
				t.Errorf("%s: channel %d at the centre = %v; want %v", test.name, ch, got, v)
			}
		}
	}
}

func TestFolderErrors(t *testing.T) {
	good := func(t *testing.T) []byte { return pngBytes(t, 0, 3, 4, 4) }
	for _, test := range []struct {
		name  string
		files map[string][]byte
		opt   *Options
		says  []string
	}{
		{"undecodable", map[string][]byte{"cat/a.png": nil, "cat/b.png": []byte("\x89PNG but not really")},
			&Options{Height: 4, Width: 4}, []string{filepath.Join("cat", "b.png"), "cannot decode"}},
		{"undecodable first image sets the size", map[string][]byte{"cat/a.jpg": []byte("JFIF?")},
			nil, []string{filepath.Join("cat", "a.jpg"), "cannot decode"}},
		{"no classes", map[string][]byte{"a.png": nil}, nil, []string{"no class subfolders"}},
		{"no images", map[string][]byte{"cat/a.gif": nil, "dog/b.txt": nil}, nil, []string{"no .png, .jpg or .jpeg files", "2 class folders"}},
		{"channels", map[string][]byte{"cat/a.png": nil}, &Options{Channels: 2}, []string{"Channels is 2", "1 (grey) or 3 (RGB)"}},
		{"huge PNG", map[string][]byte{"cat/a.png": hugePNG(t, 30000, 30000)}, &Options{Height: 4, Width: 4},
			[]string{"declares 30000x30000 pixels", "resize it first"}},
		{"huge PNG sets the size", map[string][]byte{"cat/a.png": hugePNG(t, 30000, 30000)}, nil, []string{"declares 30000x30000"}},
		{"huge JPEG", map[string][]byte{"dog/a.jpg": hugeJPEG(t, 65535, 65535)}, &Options{Height: 4, Width: 4}, []string{"declares 65535x65535"}},
	} {
		dir := t.TempDir()
		for name, data := range test.files {
			if data == nil {
				data = good(t)
			}
			writeFile(t, filepath.Join(dir, name), data)
		}
		src, err := Open(dir, test.opt)
		if err == nil {
			_, err = drain(src, 8)
		}
		wantError(t, test.name, err, test.says...)
	}
}

// hugePNG is a 1×1 PNG whose header declares h×w pixels.
func hugePNG(t testing.TB, h, w int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// IHDR: length at 8, type at 12, width and height at 16 and 20, CRC
	// of type and data at 29.
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// hugeJPEG is a 1×1 JPEG whose frame header declares h×w pixels.
func hugeJPEG(t testing.TB, h, w int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)), nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	sof := bytes.Index(b, []byte{0xff, 0xc0})
	if sof < 0 {
		t.Fatal("no SOF0 marker in the JPEG")
	}
	// marker, length (2), precision (1), height (2), width (2)
	binary.BigEndian.PutUint16(b[sof+5:], uint16(h))
	binary.BigEndian.PutUint16(b[sof+7:], uint16(w))
	return b
}

// TestFolderThinImage reads a 1×8000 image at 256×256: only the crop is
// scaled, where scaling the whole image to cover 256×256 first would make
// a 256×2048000 intermediate of 2 GB.
func TestFolderThinImage(t *testing.T) {
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 8000, 1))
	for x := range 8000 {
		img.Pix[x] = uint8(x)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "thin", "x.png"), buf.Bytes())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	src, err := Open(dir, &Options{Height: 256, Width: 256, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := drain(src, 1); err != nil || n != 1 {
		t.Fatalf("read %d samples: %v", n, err)
	}
	runtime.ReadMemStats(&after)
	if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 64 {
		t.Errorf("reading one 1×8000 image at 256×256 allocated %d MB", mb)
	}
}
