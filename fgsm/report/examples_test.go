package report

import (
	"bytes"
	"fmt"
	"image/png"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/fgsm"
)

// TestExamplesPixels checks that each column shows its image where the
// layout puts it: the clean and adversarial images' bright and raised
// squares, the perturbation at ±ε as white and zero as mid grey, and
// nothing where an attack kept no example of a sample.
func TestExamplesPixels(t *testing.T) {
	r := testReport()
	var buf bytes.Buffer
	if err := WriteExamples(&buf, r); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	l, err := layoutExamples(r)
	if err != nil {
		t.Fatal(err)
	}
	g := newGrid(l)
	if b := img.Bounds(); b.Dx() != g.w || b.Dy() != g.h {
		t.Fatalf("examples.png is %d×%d, want the grid's %d×%d", b.Dx(), b.Dy(), g.w, g.h)
	}
	// at returns the picture's colour at pixel (y, x) of row's image in col.
	at := func(row, col, y, x int) [3]uint8 {
		e := l.rows[row]
		rect, k := g.imageRect(row, col, e), g.scale(e)
		c := img.At(rect.Min.X+x*k+k/2, rect.Min.Y+y*k+k/2)
		r, gr, b, _ := c.RGBA()
		return [3]uint8{uint8(r >> 8), uint8(gr >> 8), uint8(b >> 8)}
	}
	grey := func(v uint8) [3]uint8 { return [3]uint8{v, v, v} }
	// Columns: 0 clean; 1, 2 fgsm ε=0.05; 3, 4 pgd ε=0.3.
	for i, test := range []struct {
		row, col, y, x int
		want           [3]uint8
	}{
		{0, 0, 8, 8, grey(230)},                // clean, bright square
		{0, 0, 20, 20, grey(26)},               // clean, dark square
		{0, 1, 20, 20, grey(38)},               // fgsm adversarial, raised by ε=0.05
		{0, 2, 20, 20, grey(255)},              // fgsm perturbation +ε
		{0, 3, 8, 8, grey(230)},                // pgd adversarial, bright square
		{0, 3, 20, 20, grey(102)},              // pgd adversarial, square raised by ε=0.3
		{0, 3, 0, 27, grey(26)},                // pgd adversarial, untouched corner
		{0, 4, 20, 20, grey(255)},              // pgd perturbation +ε
		{0, 4, 8, 8, grey(128)},                // pgd perturbation 0
		{2, 0, 16, 16, [3]uint8{230, 26, 26}},  // RGB clean, red square
		{2, 1, 16, 16, grey(255)},              // fgsm kept no example of sample 2: blank
		{2, 3, 16, 16, [3]uint8{230, 102, 26}}, // RGB adversarial, green raised
		{2, 3, 2, 2, [3]uint8{26, 26, 26}},     // RGB adversarial, dark corner
		{2, 4, 16, 16, [3]uint8{128, 255, 128}},
	} {
		got := at(test.row, test.col, test.y, test.x)
		for ch := range got {
			if d := int(got[ch]) - int(test.want[ch]); d < -3 || d > 3 {
				t.Errorf("case %d (row %d, column %d, pixel %d,%d): colour %v, want %v", i, test.row, test.col, test.y, test.x, got, test.want)
				break
			}
		}
	}
}

// TestLayoutExamples checks what examples.png lays out: every attack kept,
// in the results' order, named once with its ε; every sample a row; class
// names in the captions.
func TestLayoutExamples(t *testing.T) {
	r := testReport()
	l, err := layoutExamples(r)
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range l.groups {
		var idx []string
		for _, e := range g.cells {
			if e == nil {
				idx = append(idx, "-")
			} else {
				idx = append(idx, fmt.Sprint(e.Index))
			}
		}
		groups = append(groups, g.name+": "+strings.Join(idx, " "))
	}
	want := []string{"fgsm ε=0.05: 0 1 -", "pgd ε=0.3 (10×0.075, random start): 0 1 2"}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("groups %q, want %q", groups, want)
	}
	var captions []string
	for _, c := range l.cells(r, 0) {
		captions = append(captions, c.caption)
	}
	// Sample 0 is a Dress (3) that PGD turns into a Shirt (6).
	wantCaptions := []string{"label Dress\npred Dress", "pred Dress", "", "pred Shirt\n(fooled)", ""}
	for i, c := range wantCaptions {
		wantCaptions[i] = strings.ReplaceAll(c, " ", captionSpace)
	}
	if !reflect.DeepEqual(captions, wantCaptions) {
		t.Errorf("row 0 captions %q, want %q", captions, wantCaptions)
	}
	r.Classes = nil
	if c := l.cells(r, 0)[3].caption; c != "pred"+captionSpace+"6\n(fooled)" {
		t.Errorf("without class names, caption %q, want the class number", c)
	}

	// Twelve attacks: six are drawn, each attack's largest ε first.
	r = testReport()
	r.Results, r.Examples = nil, nil
	for _, m := range []fgsm.Method{fgsm.FGSM, fgsm.BIM, fgsm.PGD} {
		for _, eps := range []float64{0.01, 0.03, 0.1, 0.3} {
			r.Results = append(r.Results, &fgsm.Result{Config: fgsm.Config{Method: m, Eps: eps}})
			for i := range 10 {
				r.Examples = append(r.Examples, greyExample(i, string(m), eps, 0, 0, 1))
			}
		}
	}
	if l, err = layoutExamples(r); err != nil {
		t.Fatal(err)
	}
	groups = nil
	for _, g := range l.groups {
		groups = append(groups, g.name)
	}
	want = []string{"fgsm ε=0.1", "fgsm ε=0.3", "bim ε=0.1 (0×0)", "bim ε=0.3 (0×0)", "pgd ε=0.1 (0×0)", "pgd ε=0.3 (0×0)"}
	if !reflect.DeepEqual(groups, want) || len(l.rows) != maxRows {
		t.Errorf("12 attacks of 10 samples: groups %q and %d rows, want %q and %d", groups, len(l.rows), want, maxRows)
	}
}

func TestAttackGroups(t *testing.T) {
	r := testReport()
	r.Results[0], r.Results[2] = r.Results[2], r.Results[0] // out of ε order
	groups := attackGroups(r.Results)
	var got []string
	for _, g := range groups {
		var eps []string
		for _, pt := range g.points {
			eps = append(eps, fmt.Sprint(pt.eps))
		}
		got = append(got, g.label+": "+strings.Join(eps, " "))
	}
	want := []string{"fgsm: 0.05 0.1 0.3", "pgd (10×0.0125 at ε=0.05, 10×0.025 at ε=0.1, 10×0.075 at ε=0.3, random start): 0.05 0.1 0.3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups %q, want %q", got, want)
	}
}

// TestPlanRobustness checks what robustness.png plots: only measured
// points (no point at an unmeasured ε = 0 on an attack's curve), ticks at
// the measured budgets and 0, an axis that ends past the largest budget so
// its label fits, and legend labels in the table's terms.
func TestPlanRobustness(t *testing.T) {
	r := &fgsm.Report{CleanAccuracy: 0.9, Results: []*fgsm.Result{
		{Config: fgsm.Config{Method: fgsm.PGD, Eps: 0.03, Alpha: 0.0075, Steps: 10, RandomStart: true}, Accuracy: 0.585},
		{Config: fgsm.Config{Method: fgsm.FGSM, Eps: 0.03, Alpha: 0.03, Steps: 1}, Accuracy: 0.634},
	}}
	pl := planRobustness(r)
	if !reflect.DeepEqual(pl.ticks, []float64{0, 0.03}) {
		t.Errorf("ticks %v, want [0 0.03]", pl.ticks)
	}
	if pl.xMax <= 0.03 || pl.xMax > 0.035 {
		t.Errorf("axis ends at %g, want a little past 0.03", pl.xMax)
	}
	if pl.clean != 90 {
		t.Errorf("clean %g%%, want 90%%", pl.clean)
	}
	var got []string
	for _, g := range pl.curves {
		if len(g.points) != 1 || g.points[0].eps != 0.03 {
			t.Errorf("%s: points %v, want the one measured at ε=0.03", g.label, g.points)
		}
		got = append(got, g.label)
	}
	want := []string{r.Results[0].Name(), r.Results[1].Name()}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("labels %q, want the table's %q", got, want)
	}
}

// TestRobustness checks that the plot is drawn: a sensible size, and the
// curves' colours on it (the plot's frame, grid and text are grey).
func TestRobustness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "robustness.png")
	if err := Robustness(path, testReport()); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	b := img.Bounds()
	if b.Dx() < 400 || b.Dy() < 300 || b.Dx() > 4000 || b.Dy() > 4000 {
		t.Errorf("robustness.png is %d×%d, want between 400×300 and 4000×4000", b.Dx(), b.Dy())
	}
	coloured := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 != g>>8 || g>>8 != bl>>8 {
				coloured++
			}
		}
	}
	if coloured < 500 {
		t.Errorf("robustness.png has %d coloured pixels, want the two curves (at least 500)", coloured)
	}
}
