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
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/onnxguard/onnxguard/fgsm"
)

// Robustness draws accuracy (%) against ε as a PNG at path: markers at
// every measured (attack, ε), joined only between measured budgets of the
// same attack; the clean accuracy as a marked point at ε = 0 and a dashed
// horizontal reference; per ensemble its worst case; and, where FAB
// measured every correctly classified sample, the accuracy its smallest
// perturbations imply at every ε (a continuous curve, since every ε is
// then measured). The ε axis is ticked at the measured budgets, and the
// legend sits below the plot, naming attacks as the report's table does.
func Robustness(path string, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	return writeAtomic(path, func(w io.Writer) error { return robustness(w, r) })
}

// robustnessPlan is what robustness.png shows, computed apart from the
// drawing so that tests can check it.
type robustnessPlan struct {
	norm   fgsm.Norm
	clean  float64 // accuracy in %
	xMax   float64 // the axis' end, past the largest budget so its label fits
	ticks  []float64
	curves []attackGroup // measured points, one curve per attack or ensemble
	minima []minNormCurve
}

// percentXYs are the points to plot for pts: ε against accuracy in percent.
func percentXYs(pts []point) plotter.XYs {
	xys := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		xys[i] = plotter.XY{X: pt.eps, Y: 100 * pt.acc}
	}
	return xys
}

type minNormCurve struct {
	label  string
	points []point // accuracy in [0,1] at evenly spaced ε
}

func planRobustness(r *fgsm.Report) robustnessPlan {
	norm := plotNorm(r)
	pl := robustnessPlan{norm: norm, clean: 100 * r.CleanAccuracy}
	pl.curves = attackGroups(r.Results)
	if norm == fgsm.Linf || len(r.Results) == 0 {
		pl.curves = append(pl.curves, ensembleGroups(r.Ensembles, norm)...)
	}
	measured := map[float64]bool{}
	maxEps := 0.0
	for _, g := range pl.curves {
		for _, pt := range g.points {
			measured[pt.eps] = true
			maxEps = max(maxEps, pt.eps)
		}
	}
	if maxEps == 0 {
		maxEps = 1
	}
	pl.ticks = append(pl.ticks, 0)
	for e := range measured {
		pl.ticks = append(pl.ticks, e)
	}
	sort.Float64s(pl.ticks)
	pl.xMax = 1.08 * maxEps
	pl.minima = minNormCurves(r, norm, maxEps)
	return pl
}

func robustness(w io.Writer, r *fgsm.Report) error {
	pl := planRobustness(r)
	p := plot.New()
	p.Title.Text = "Robustness of " + modelName(r.Model)
	p.X.Label.Text = "ε (L∞ radius, pixels in [0,1])"
	if pl.norm == fgsm.L2 {
		p.X.Label.Text = "ε (L2 radius, pixels in [0,1])"
	}
	p.Y.Label.Text = "accuracy (%)"
	p.Y.Min, p.Y.Max = 0, 100
	p.X.Min, p.X.Max = 0, pl.xMax
	p.X.Tick.Marker = epsTicks(pl.ticks)
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.XOffs, leg.Padding = vg.Points(12), vg.Points(4)

	ref, err := plotter.NewLine(plotter.XYs{{X: 0, Y: pl.clean}, {X: pl.xMax, Y: pl.clean}})
	if err != nil {
		return err
	}
	ref.Color = color.Black
	ref.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	cleanPt, err := plotter.NewScatter(plotter.XYs{{X: 0, Y: pl.clean}})
	if err != nil {
		return err
	}
	cleanPt.Color, cleanPt.Shape = color.Black, draw.BoxGlyph{}
	p.Add(ref, cleanPt)
	leg.Add(fmt.Sprintf("clean: %.2f%% (ε = 0)", pl.clean), ref, cleanPt)
	entries := 1 + len(pl.curves) + len(pl.minima)

	for i, g := range pl.curves {
		xys := percentXYs(g.points)
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return fmt.Errorf("%s: %w", g.label, err)
		}
		s.Color, s.Shape = plotutil.Color(i), plotutil.Shape(i)
		s.Radius = vg.Points(4)
		thumbs := []plot.Thumbnailer{s}
		if len(xys) > 1 {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return err
			}
			l.Color = plotutil.Color(i)
			p.Add(l)
			thumbs = append(thumbs, l)
		}
		p.Add(s)
		leg.Add(g.label, thumbs...)
	}
	for i, c := range pl.minima {
		xys := percentXYs(c.points)
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(len(pl.curves) + i)
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		leg.Add(c.label, l)
	}

	// The legend goes below the plot, one line an entry, so that it never
	// hides a curve.
	width, plotH := 7*vg.Inch, 4.5*vg.Inch
	lineH := leg.TextStyle.Height("Xy") + leg.Padding
	legH := lineH*vg.Length(entries) + vg.Points(10)
	c := vgimg.New(width, plotH+legH)
	dc := draw.New(c)
	p.Draw(draw.Crop(dc, 0, -vg.Points(14), legH, 0))
	leg.Draw(draw.Crop(dc, 0, 0, 0, -plotH))
	_, err = vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// epsTicks labels the ε axis at the measured budgets only.
type epsTicks []float64

func (t epsTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, v := range t {
		if v >= lo && v <= hi {
			out = append(out, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
		}
	}
	return out
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
			groups = append(groups, attackGroup{label: fmt.Sprintf("%s %s, worst case", e.Name, e.Norm)})
		}
		groups[i].points = append(groups[i].points, point{e.Eps, e.Accuracy})
	}
	for _, g := range groups {
		sort.SliceStable(g.points, func(i, j int) bool { return g.points[i].eps < g.points[j].eps })
	}
	return groups
}

// minNormCurves is, for each ensemble whose minimum-norm stage (FAB)
// measured every correctly classified sample, the accuracy its smallest
// perturbations imply at 61 budgets from 0 to maxEps.
func minNormCurves(r *fgsm.Report, norm fgsm.Norm, maxEps float64) []minNormCurve {
	const steps = 60
	epss := make([]float64, steps+1)
	for i := range epss {
		epss[i] = maxEps * float64(i) / steps
	}
	var out []minNormCurve
	seen := map[string]bool{}
	for _, e := range r.Ensembles {
		curve, ok := e.MinNormCurve(r.CleanCorrect, epss)
		if e.Norm != norm || !ok || seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		c := minNormCurve{label: fmt.Sprintf("%s: accuracy from the smallest %s perturbations FAB found", e.Name, e.Norm)}
		for i := range epss {
			c.points = append(c.points, point{epss[i], curve[i]})
		}
		out = append(out, c)
	}
	return out
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
// at several ε are one curve. Labels use the table's terms.
func attackGroups(results []*fgsm.Result) []attackGroup {
	var groups []attackGroup
	var members [][]*fgsm.Result
	index := map[fgsm.Config]int{}
	for _, res := range results {
		key := res.Config.Family()
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, attackGroup{})
			members = append(members, nil)
		}
		groups[i].points = append(groups[i].points, point{res.Eps, res.Accuracy})
		members[i] = append(members[i], res)
	}
	for i := range groups {
		g, m := &groups[i], members[i]
		sort.SliceStable(g.points, func(i, j int) bool { return g.points[i].eps < g.points[j].eps })
		sort.SliceStable(m, func(i, j int) bool { return m[i].Eps < m[j].Eps })
		g.label = attackLabel(m)
	}
	return groups
}

// attackLabel names one attack configuration measured at several budgets
// as the report's table names each row: "pgd (10×0.0075 at ε=0.03,
// 10×0.025 at ε=0.1, random start)", or the row's own name when there is
// one budget.
func attackLabel(rs []*fgsm.Result) string {
	if len(rs) == 1 {
		return rs[0].Name()
	}
	c := rs[0].Config
	var opts []string
	if c.Method != fgsm.FGSM && c.Steps > 0 {
		for _, r := range rs {
			opts = append(opts, fmt.Sprintf("%d×%.4g at ε=%g", r.Steps, r.Alpha, r.Eps))
		}
	}
	if c.RandomStart {
		opts = append(opts, "random start")
	}
	if c.Restarts > 1 {
		opts = append(opts, fmt.Sprintf("%d restarts", c.Restarts))
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
