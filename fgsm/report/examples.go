package report

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/onnxguard/onnxguard/fgsm"
)

// maxRows caps the examples drawn, so the picture stays readable.
const maxRows = 8

// Examples draws a PNG at path with one row per example (at most 8) and
// three columns: the clean image, the adversarial image and the
// perturbation amplified to the full range, 0.5 + (adv−clean)/(2ε), so that
// −ε is black and +ε white (per channel for RGB). Images with one channel
// are grey, with three RGB; with another count only the first channel is
// shown, in grey. The examples drawn are those of the strongest result (the
// lowest accuracy) or, when the report kept none for it, of the first
// attack. Small images are enlarged by whole factors, nearest neighbour, so
// their pixels stay sharp.
func Examples(path string, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	title, exs := pickExamples(r)
	if len(exs) == 0 {
		return fmt.Errorf("%s: the report holds no example images to draw; keep some example images when auditing", path)
	}
	for _, e := range exs {
		if n := e.C * e.H * e.W; e.C <= 0 || e.H <= 0 || e.W <= 0 || len(e.Clean) != n || len(e.Adv) != n {
			return fmt.Errorf("%s: example of sample %d has %d clean and %d adversarial pixels for a %d×%d×%d image; the report is damaged",
				path, e.Index, len(e.Clean), len(e.Adv), e.C, e.H, e.W)
		}
	}
	return writeAtomic(path, func(w io.Writer) error { return drawExamples(w, r, title, exs) })
}

// pickExamples returns the examples of the strongest result and its name,
// falling back to those of the first attack in r.Examples.
func pickExamples(r *fgsm.Report) (string, []*fgsm.Example) {
	if len(r.Examples) == 0 {
		return "", nil
	}
	var strongest *fgsm.Result
	for _, res := range r.Results {
		if strongest == nil || res.Accuracy < strongest.Accuracy {
			strongest = res
		}
	}
	if strongest != nil {
		if exs := examplesOf(r.Examples, string(strongest.Method), strongest.Eps); len(exs) > 0 {
			return strongest.Name(), exs
		}
	}
	first := r.Examples[0]
	return fmt.Sprintf("%s ε=%g", first.Attack, first.Eps), examplesOf(r.Examples, first.Attack, first.Eps)
}

// examplesOf returns up to maxRows examples of one attack at one ε.
func examplesOf(all []*fgsm.Example, attack string, eps float64) []*fgsm.Example {
	var exs []*fgsm.Example
	for _, e := range all {
		if e.Attack == attack && e.Eps == eps && len(exs) < maxRows {
			exs = append(exs, e)
		}
	}
	return exs
}

// grid places the picture's pieces, in pixels from the top left corner;
// the canvas runs at 72 DPI so that a point is a pixel.
type grid struct {
	tile           int // side of the square each image is centred in
	colW, rowH     int
	margin, header int
	w, h           int
}

const (
	dpi        = 72
	minTile    = 112 // 28×28 images at ×4
	captionH   = 30  // two lines of caption under each image
	titleH     = 26
	colTitleH  = 20
	captionPt  = 10
	titlePt    = 13
	colPadding = 40
)

func newGrid(exs []*fgsm.Example) grid {
	g := grid{tile: minTile, margin: 12}
	for _, e := range exs {
		g.tile = max(g.tile, e.H, e.W)
	}
	g.colW = max(g.tile+colPadding, 180)
	g.rowH = g.tile + captionH + 8
	g.header = titleH + colTitleH
	g.w = 2*g.margin + 3*g.colW
	g.h = 2*g.margin + g.header + len(exs)*g.rowH
	return g
}

// scale is the whole factor that enlarges e to fit the tile.
func (g grid) scale(e *fgsm.Example) int { return max(1, g.tile/max(e.H, e.W)) }

// imageRect is where column col (0 clean, 1 adversarial, 2 perturbation)
// of row row shows e.
func (g grid) imageRect(row, col int, e *fgsm.Example) image.Rectangle {
	k := g.scale(e)
	w, h := e.W*k, e.H*k
	x := g.margin + col*g.colW + (g.colW-w)/2
	y := g.margin + g.header + row*g.rowH + (g.tile-h)/2
	return image.Rect(x, y, x+w, y+h)
}

// point turns pixel coordinates from the top left into a canvas point.
func (g grid) point(x, y int) vg.Point {
	return vg.Point{X: vg.Length(x), Y: vg.Length(g.h - y)}
}

func drawExamples(w io.Writer, r *fgsm.Report, title string, exs []*fgsm.Example) error {
	g := newGrid(exs)
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(g.w), vg.Length(g.h)), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	text := func(pt float64, clr color.Color) draw.TextStyle {
		return draw.TextStyle{Color: clr, Font: font.From(plot.DefaultFont, font.Length(pt)),
			Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YTop}
	}
	dc.FillText(text(titlePt, color.Black), g.point(g.w/2, g.margin), fmt.Sprintf("%s: %s", modelName(r), title))
	for col, s := range []string{"clean", "adversarial", "perturbation (−ε black, +ε white)"} {
		dc.FillText(text(captionPt, color.Black), g.point(g.margin+col*g.colW+g.colW/2, g.margin+titleH), s)
	}
	for row, e := range exs {
		pert := make([]float32, len(e.Adv))
		for i, v := range e.Adv {
			pert[i] = 0.5
			if e.Eps > 0 {
				pert[i] += (v - e.Clean[i]) / float32(2*e.Eps)
			}
		}
		advCaption := "adv pred " + label(r, e.AdvPred)
		advColor := color.Color(color.Black)
		switch {
		case !e.Perturbed:
			advCaption += "\n(not attacked: label is the target)"
		case e.AdvPred != e.Label:
			advColor = color.RGBA{R: 200, A: 255}
		}
		for col, cell := range []struct {
			px      []float32
			caption string
			color   color.Color
		}{
			{e.Clean, fmt.Sprintf("label %s / pred %s", label(r, e.Label), label(r, e.CleanPred)), color.Black},
			{e.Adv, advCaption, advColor},
			{pert, fmt.Sprintf("L∞ %.3g", linf(e)), color.Black},
		} {
			rect := g.imageRect(row, col, e)
			c.DrawImage(vg.Rectangle{Min: g.point(rect.Min.X, rect.Max.Y), Max: g.point(rect.Max.X, rect.Min.Y)},
				PixelImage(cell.px, e.C, e.H, e.W, g.scale(e)))
			caption := cell.caption
			sty := text(captionPt, cell.color)
			if sty.Width(caption) > vg.Length(g.colW-8) {
				caption = breakCaption(caption)
			}
			top := g.margin + g.header + row*g.rowH + g.tile + 4
			dc.FillText(sty, g.point(g.margin+col*g.colW+g.colW/2, top), caption)
		}
	}
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// breakCaption puts "label L / pred P" on two lines when one is too narrow.
func breakCaption(s string) string {
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] == " / " {
			return s[:i] + "\n" + s[i+3:]
		}
	}
	return s
}

// label is a class's name when the report has one, else its number.
func label(r *fgsm.Report, c int) string {
	if c >= 0 && c < len(r.Classes) && r.Classes[c] != "" {
		return r.Classes[c]
	}
	return fmt.Sprint(c)
}

func linf(e *fgsm.Example) float64 {
	var m float64
	for i, v := range e.Adv {
		m = math.Max(m, math.Abs(float64(v-e.Clean[i])))
	}
	return m
}

// PixelImage turns C×H×W pixels in [0,1] into an image k times larger,
// each pixel a k×k block: RGB when C is 3, else grey (an image.Gray, a
// third the size of RGB in a PNG) from the first channel; values are
// clipped to [0,1] and NaN shows black.
func PixelImage(px []float32, c, h, w, k int) image.Image {
	rect := image.Rect(0, 0, w*k, h*k)
	if c != 3 {
		img := image.NewGray(rect)
		for y := range h * k {
			for x := range w * k {
				img.SetGray(x, y, color.Gray{Y: byteOf(px[(y/k)*w+x/k])})
			}
		}
		return img
	}
	img := image.NewRGBA(rect)
	hw := h * w
	for y := range h * k {
		for x := range w * k {
			i := (y/k)*w + x/k
			img.SetRGBA(x, y, color.RGBA{R: byteOf(px[i]), G: byteOf(px[hw+i]), B: byteOf(px[2*hw+i]), A: 255})
		}
	}
	return img
}

// byteOf maps [0,1] to 0…255, clipping, with NaN as 0.
func byteOf(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(v*255 + 0.5)
}
