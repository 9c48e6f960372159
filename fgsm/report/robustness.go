package report

import (
	"fmt"
	"image/color"
	"io"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/onnxguard/onnxguard/fgsm"
)

// Robustness draws accuracy (%) against ε as a PNG at path: one line with
// points per attack configuration, each starting from the clean accuracy at
// ε=0, and the clean accuracy as a dashed horizontal line.
func Robustness(path string, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	return writeAtomic(path, func(w io.Writer) error { return robustness(w, r) })
}

func robustness(w io.Writer, r *fgsm.Report) error {
	p := plot.New()
	p.Title.Text = "Robustness of " + modelName(r)
	p.X.Label.Text = "ε (L∞ radius, pixels in [0,1])"
	p.Y.Label.Text = "accuracy (%)"
	p.Y.Min, p.Y.Max = 0, 100
	p.X.Min = 0
	// Accuracy starts at the clean level and falls with ε, so the lower
	// left corner is where the curves are least likely to be.
	p.Legend.Left = true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), vg.Points(8)
	p.Add(plotter.NewGrid())

	clean := 100 * r.CleanAccuracy
	maxEps := 0.0
	for _, res := range r.Results {
		maxEps = max(maxEps, res.Eps)
	}
	if maxEps == 0 {
		maxEps = 1
	}
	p.X.Max = maxEps

	base, err := plotter.NewLine(plotter.XYs{{X: 0, Y: clean}, {X: maxEps, Y: clean}})
	if err != nil {
		return err
	}
	base.Color = color.Black
	base.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	p.Add(base)
	p.Legend.Add(fmt.Sprintf("clean (%.2f%%)", clean), base)

	for i, g := range attackGroups(r.Results) {
		xys := plotter.XYs{{X: 0, Y: clean}}
		for _, res := range g.results {
			xys = append(xys, plotter.XY{X: res.Eps, Y: 100 * res.Accuracy})
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("%s: %w", g.label, err)
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(g.label, l, s)
	}
	wt, err := p.WriterTo(7*vg.Inch, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// attackGroup is one attack configuration's results, by increasing ε.
type attackGroup struct {
	label   string
	results []*fgsm.Result
}

// attackGroups groups results by their configuration less ε, in the order
// each configuration first appears. The step size counts relative to ε,
// since Normalize derives the default α from ε: PGD's 10 steps of 2.5·ε/10
// at several ε are one curve.
func attackGroups(results []*fgsm.Result) []attackGroup {
	var groups []attackGroup
	index := map[fgsm.Config]int{}
	for _, res := range results {
		key := res.Config.Family()
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, attackGroup{label: attackLabel(key)})
		}
		groups[i].results = append(groups[i].results, res)
	}
	for _, g := range groups {
		sort.SliceStable(g.results, func(i, j int) bool { return g.results[i].Eps < g.results[j].Eps })
	}
	return groups
}

// attackLabel names a configuration whose Eps is zero and whose Alpha is
// relative to ε, such as "pgd (10×0.25ε, random start)".
func attackLabel(c fgsm.Config) string {
	var opts []string
	if c.Method != fgsm.FGSM && c.Steps > 0 {
		opts = append(opts, fmt.Sprintf("%d×%.3gε", c.Steps, c.Alpha))
	}
	if c.RandomStart {
		opts = append(opts, "random start")
	}
	if c.Restarts > 1 {
		opts = append(opts, fmt.Sprintf("%d restarts", c.Restarts))
	}
	if c.Momentum != 0 {
		opts = append(opts, fmt.Sprintf("μ=%g", c.Momentum))
	}
	s := string(c.Method)
	if len(opts) > 0 {
		s += " (" + strings.Join(opts, ", ") + ")"
	}
	if c.Target.Mode != "" {
		s += ", targeted " + c.Target.String()
	}
	return s
}
