package report

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/onnxguard/onnxguard/fgsm"
)

// maxRows caps the samples drawn and maxGroups the attacks, so the picture
// stays readable.
const (
	maxRows   = 8
	maxGroups = 6
)

// Examples draws a PNG at path (see WriteExamples).
func Examples(path string, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	l, err := layoutExamples(r)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeAtomic(path, func(w io.Writer) error { return drawExamples(w, r, l) })
}

// WriteExamples draws the examples as a PNG on w: one row per sample (at
// most 8), the clean image first, then for every attack and ε whose
// examples the report kept (at most 6; beyond that the largest ε of each
// attack first) the adversarial image and the perturbation amplified to
// the full range, 0.5 + (adv−clean)/(2ε), so that −ε is black and +ε white
// (per channel for RGB). Each attack's name and ε head its two columns
// once. Labels and predictions show class names when the report has them.
// Images with one channel are grey, with three RGB; with another count
// only the first channel is shown, in grey. Small images are enlarged by
// whole factors, nearest neighbour, so their pixels stay sharp.
func WriteExamples(w io.Writer, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	l, err := layoutExamples(r)
	if err != nil {
		return err
	}
	return drawExamples(w, r, l)
}

// exampleGroup is one attack at one ε: its name and its examples by row
// (nil where the report kept none for that row's sample).
type exampleGroup struct {
	attack string
	eps    float64
	name   string // the result's name, "pgd ε=0.1 (10×0.025, random start)"
	cells  []*fgsm.Example
}

// exampleLayout is what examples.png shows: the samples, one per row, and
// the attacks, one column group each.
type exampleLayout struct {
	rows   []*fgsm.Example // an example of each row's sample: its clean image and label
	groups []exampleGroup
}

// layoutExamples groups the report's examples by attack and ε, in the
// order the results list them, and lines them up by sample.
func layoutExamples(r *fgsm.Report) (exampleLayout, error) {
	var l exampleLayout
	if len(r.Examples) == 0 {
		return l, fmt.Errorf("the report holds no example images to draw; keep some example images when auditing")
	}
	for _, e := range r.Examples {
		if n := e.C * e.H * e.W; e.C <= 0 || e.H <= 0 || e.W <= 0 || len(e.Clean) != n || len(e.Adv) != n {
			return l, fmt.Errorf("example of sample %d has %d clean and %d adversarial pixels for a %d×%d×%d image; the report is damaged",
				e.Index, len(e.Clean), len(e.Adv), e.C, e.H, e.W)
		}
	}
	type key struct {
		attack string
		eps    float64
	}
	byKey := map[key][]*fgsm.Example{}
	var order []key
	for _, e := range r.Examples {
		k := key{e.Attack, e.Eps}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], e)
	}
	// Results, then AutoAttack ensembles, order the groups and name them;
	// examples of an attack neither lists (a damaged report) come last,
	// named plainly.
	var keys []key
	names := map[key]string{}
	for _, res := range r.Results {
		k := key{string(res.Method), res.Eps}
		if _, ok := byKey[k]; ok && names[k] == "" {
			keys, names[k] = append(keys, k), res.Name()
		}
	}
	for _, e := range r.Ensembles {
		k := key{e.Name, e.Eps}
		if _, ok := byKey[k]; ok && names[k] == "" {
			keys, names[k] = append(keys, k), e.Label()+" (worst case)"
		}
	}
	for _, k := range order {
		if names[k] == "" {
			keys, names[k] = append(keys, k), fmt.Sprintf("%s ε=%g", k.attack, k.eps)
		}
	}
	keys = capGroups(keys, func(k key) (string, float64) { return k.attack, k.eps })
	// Attacks keep the same first samples, but a targeted attack may
	// skip some: the rows are every sample kept, by index.
	seen := map[int]bool{}
	for _, k := range keys {
		for _, e := range byKey[k] {
			if !seen[e.Index] {
				seen[e.Index] = true
				l.rows = append(l.rows, e)
			}
		}
	}
	sort.SliceStable(l.rows, func(i, j int) bool { return l.rows[i].Index < l.rows[j].Index })
	l.rows = l.rows[:min(len(l.rows), maxRows)]
	for _, k := range keys {
		g := exampleGroup{attack: k.attack, eps: k.eps, name: names[k], cells: make([]*fgsm.Example, len(l.rows))}
		for i, row := range l.rows {
			for _, e := range byKey[k] {
				if e.Index == row.Index {
					g.cells[i] = e
					break
				}
			}
		}
		l.groups = append(l.groups, g)
	}
	return l, nil
}

// capGroups keeps at most maxGroups keys: when there are more, each
// attack's largest ε first (where attacks differ most), then the next
// largest, keeping the original order among those kept.
func capGroups[K comparable](keys []K, of func(K) (string, float64)) []K {
	if len(keys) <= maxGroups {
		return keys
	}
	rank := map[K]int{} // 0 for an attack's largest ε, 1 for the next…
	for _, k := range keys {
		a, e := of(k)
		for _, o := range keys {
			if oa, oe := of(o); oa == a && oe > e {
				rank[k]++
			}
		}
	}
	kept := map[K]bool{}
	for r := 0; len(kept) < maxGroups; r++ {
		for _, k := range keys {
			if rank[k] == r && len(kept) < maxGroups {
				kept[k] = true
			}
		}
	}
	var out []K
	for _, k := range keys {
		if kept[k] {
			out = append(out, k)
		}
	}
	return out
}

// grid places the picture's pieces, in pixels from the top left corner;
// the canvas runs at 72 DPI so that a point is a pixel. Column 0 is the
// clean image; group g has its adversarial image in column 1+2g and its
// perturbation in column 2+2g.
type grid struct {
	tile           int // side of the square each image is centred in
	colW, rowH     int
	margin, header int
	cols           int
	w, h           int
}

const (
	dpi        = 72
	minTile    = 112 // 28×28 images at ×4
	captionH   = 30  // two lines of caption under each image
	titleH     = 26
	groupH     = 34 // an attack's name and settings, on two lines
	colTitleH  = 20
	captionPt  = 10
	groupPt    = 11
	titlePt    = 13
	colPadding = 28
)

func newGrid(l exampleLayout) grid {
	g := grid{tile: minTile, margin: 12, cols: 1 + 2*len(l.groups)}
	for _, e := range l.rows {
		g.tile = max(g.tile, e.H, e.W)
	}
	g.colW = max(g.tile+colPadding, 140)
	g.rowH = g.tile + captionH + 8
	g.header = titleH + groupH + colTitleH
	g.w = 2*g.margin + g.cols*g.colW
	g.h = 2*g.margin + g.header + len(l.rows)*g.rowH
	return g
}

// scale is the whole factor that enlarges e to fit the tile.
func (g grid) scale(e *fgsm.Example) int { return max(1, g.tile/max(e.H, e.W)) }

// imageRect is where column col of row row shows e.
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

// gridCell is one image of the grid with its caption.
type gridCell struct {
	px      []float32
	caption string
	color   color.Color
}

// captionSpace separates "label" from a class name: a no-break space,
// because the plot font's kerning pulls a plain space and a capital A
// together ("labelAnkle boot").
const captionSpace = "\u00a0"

// cells returns what row row shows, column by column; a nil px leaves the
// column empty.
func (l exampleLayout) cells(r *fgsm.Report, row int) []gridCell {
	e := l.rows[row]
	out := []gridCell{{e.Clean, "label" + captionSpace + label(r, e.Label) + "\npred" + captionSpace + label(r, e.CleanPred), color.Black}}
	for _, g := range l.groups {
		a := g.cells[row]
		if a == nil {
			out = append(out, gridCell{caption: "not kept"}, gridCell{})
			continue
		}
		pert := make([]float32, len(a.Adv))
		for i, v := range a.Adv {
			pert[i] = 0.5
			if a.Eps > 0 {
				pert[i] += (v - a.Clean[i]) / float32(2*a.Eps)
			}
		}
		adv := gridCell{a.Adv, "pred" + captionSpace + label(r, a.AdvPred), color.Black}
		switch {
		case !a.Perturbed:
			adv.caption += "\n(not attacked: target)"
		case a.AdvPred != a.Label:
			adv.color = color.RGBA{R: 200, A: 255}
			adv.caption += "\n(fooled)"
		}
		out = append(out, adv, gridCell{pert, "", color.Black})
	}
	return out
}

func drawExamples(w io.Writer, r *fgsm.Report, l exampleLayout) error {
	g := newGrid(l)
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(g.w), vg.Length(g.h)), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	text := func(pt float64, clr color.Color) draw.TextStyle {
		return draw.TextStyle{Color: clr, Font: font.From(plot.DefaultFont, font.Length(pt)),
			Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YTop}
	}
	dc.FillText(text(titlePt, color.Black), g.point(g.w/2, g.margin),
		fmt.Sprintf("%s: adversarial examples of the first %d samples", modelName(r.Model), len(l.rows)))
	top := g.margin + titleH
	dc.FillText(text(captionPt, color.Black), g.point(g.margin+g.colW/2, top+groupH), "clean")
	for i, grp := range l.groups {
		x0 := g.margin + (1+2*i)*g.colW
		name, opts, _ := strings.Cut(grp.name, " (")
		if opts != "" {
			name += "\n(" + opts
		}
		dc.FillText(text(groupPt, color.Black), g.point(x0+g.colW, top), name)
		dc.FillText(text(captionPt, color.Black), g.point(x0+g.colW/2, top+groupH), "adversarial")
		dc.FillText(text(captionPt, color.Black), g.point(x0+3*g.colW/2, top+groupH), fmt.Sprintf("perturbation ±%g", grp.eps))
		// A rule between attacks, so each pair reads as one.
		a, b := g.point(x0, top), g.point(x0, g.h-g.margin)
		dc.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 190}, Width: 1}, a.X, a.Y, b.X, b.Y)
	}
	for row := range l.rows {
		for col, cl := range l.cells(r, row) {
			if cl.px != nil {
				e := l.rows[row]
				rect := g.imageRect(row, col, e)
				c.DrawImage(vg.Rectangle{Min: g.point(rect.Min.X, rect.Max.Y), Max: g.point(rect.Max.X, rect.Min.Y)},
					PixelImage(cl.px, e.C, e.H, e.W, g.scale(e)))
			}
			if cl.caption != "" {
				y := g.margin + g.header + row*g.rowH + g.tile + 4
				dc.FillText(text(captionPt, cl.color), g.point(g.margin+col*g.colW+g.colW/2, y), cl.caption)
			}
		}
	}
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// label is a class's name when the report has one, else its number.
func label(r *fgsm.Report, c int) string {
	if c >= 0 && c < len(r.Classes) && r.Classes[c] != "" {
		return r.Classes[c]
	}
	return fmt.Sprint(c)
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
