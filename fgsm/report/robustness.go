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
// points per attack configuration and per ensemble (its worst case), each
// starting from the clean accuracy at ε=0; the clean accuracy as a dashed
// horizontal line; and, where FAB measured every correctly classified
// sample, the accuracy its smallest perturbations imply at every ε.
func Robustness(path string, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	return writeAtomic(path, func(w io.Writer) error { return robustness(w, r) })
}

func robustness(w io.Writer, r *fgsm.Report) error {
	norm := plotNorm(r)
	p := plot.New()
	p.Title.Text = "Robustness of " + modelName(r)
	p.X.Label.Text = "ε (L∞ radius, pixels in [0,1])"
	if norm == fgsm.L2 {
		p.X.Label.Text = "ε (L2 radius, pixels in [0,1])"
	}
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
	for _, e := range r.Ensembles {
		if e.Norm == norm {
			maxEps = max(maxEps, e.Eps)
		}
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

	groups := attackGroups(r.Results)
	if norm == fgsm.Linf || len(r.Results) == 0 {
		groups = append(groups, ensembleGroups(r.Ensembles, norm)...)
	}
	for i, g := range groups {
		xys := plotter.XYs{{X: 0, Y: clean}}
		for _, pt := range g.points {
			xys = append(xys, plotter.XY{X: pt.eps, Y: 100 * pt.acc})
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
	if err := minNormCurves(p, r, norm, maxEps, len(groups)); err != nil {
		return err
	}
	wt, err := p.WriterTo(7*vg.Inch, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// plotNorm is the norm of the plot's ε axis: L∞, unless the report holds
// only L2 ensembles.
func plotNorm(r *fgsm.Report) fgsm.Norm {
	if len(r.Results) > 0 {
		return fgsm.Linf
	}
	for _, e := range r.Ensembles {
		if e.Norm == fgsm.Linf {
			return fgsm.Linf
		}
	}
	if len(r.Ensembles) > 0 {
		return fgsm.L2
	}
	return fgsm.Linf
}

// ensembleGroups is one curve per ensemble in norm, over its budgets.
func ensembleGroups(ens []*fgsm.EnsembleResult, norm fgsm.Norm) []attackGroup {
	var groups []attackGroup
	index := map[string]int{}
	for _, e := range ens {
		if e.Norm != norm {
			continue
		}
		key := fmt.Sprint(e.Name, e.Stages)
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, attackGroup{label: fmt.Sprintf("%s (%s, worst case)", e.Name, e.Norm)})
		}
		groups[i].points = append(groups[i].points, point{e.Eps, e.Accuracy})
	}
	for _, g := range groups {
		sort.SliceStable(g.points, func(i, j int) bool { return g.points[i].eps < g.points[j].eps })
	}
	return groups
}

// minNormCurves draws, for each ensemble whose minimum-norm stage (FAB)
// measured every correctly classified sample, the accuracy its smallest
// perturbations imply at every ε: a dotted curve.
func minNormCurves(p *plot.Plot, r *fgsm.Report, norm fgsm.Norm, maxEps float64, first int) error {
	const steps = 60
	epss := make([]float64, steps+1)
	for i := range epss {
		epss[i] = maxEps * float64(i) / steps
	}
	seen := map[string]bool{}
	for _, e := range r.Ensembles {
		curve, ok := e.MinNormCurve(r.CleanCorrect, epss)
		if e.Norm != norm || !ok || seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		xys := make(plotter.XYs, len(epss))
		for i := range epss {
			xys[i] = plotter.XY{X: epss[i], Y: 100 * curve[i]}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(first)
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		first++
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s: smallest %s perturbations found", e.Name, e.Norm), l)
	}
	return nil
}

// attackGroup is one attack configuration's accuracy, by increasing ε.
type attackGroup struct {
	label  string
	points []point
}

type point struct{ eps, acc float64 }

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
		groups[i].points = append(groups[i].points, point{res.Eps, res.Accuracy})
	}
	for _, g := range groups {
		sort.SliceStable(g.points, func(i, j int) bool { return g.points[i].eps < g.points[j].eps })
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
