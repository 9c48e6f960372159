package fgsm

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/onnxguard/onnxguard/runtime"
)

// fabRun is one call of FAB: its samples, settings and results.
type fabRun struct {
	m      *Model
	cfg    FABConfig
	x      []float32
	labels []int
	idx    []int
	res    *FABResult
	k, per int
	ranked [][]int // per sample, its targets in order; nil for a clean mistake

	proj   boxProjector
	d1, d2 []float64

	// a pass's linearised boundaries: per sample z_c − z_y, its
	// gradient w, and (untargeted) one class's gradient g and the distance
	// of the closest boundary so far
	w, g       []float32
	diff, dist []float64
	logits     []float32
}

// active lists the samples still to attack: correctly classified when
// clean and not yet broken within the budget.
func (f *fabRun) active() []int {
	var act []int
	for i := range f.labels {
		if f.ranked[i] == nil || f.cfg.Eps > 0 && f.res.MinNorm(f.cfg.Norm, i) <= f.cfg.Eps {
			continue
		}
		act = append(act, i)
	}
	return act
}

// FAB's model passes hold at most fabPass samples, padded to a multiple
// of fabPad. The interpreter's kernels take different paths for different
// batch sizes (a GEMM's tail rows, a convolution plan for large batches),
// so the same sample can get gradients and logits that differ in the last
// bit; FAB's steps use the gradient's values, not only its signs, and its
// iterations would grow such a difference into a different result. In
// batches of a multiple of 8 samples up to 192, with the pure-Go kernels
// and with OpenBLAS alike, a sample gets the same arithmetic at any place
// and beside any samples (on the project's test models), so batching and
// shards do not change results (TestFABDeterministicAcrossBatches).
const (
	fabPass = 128
	fabPad  = 8
)

// run attacks the samples act towards their target of the given rank
// (every class, untargeted), from the clean images (restart 0) or from
// random starts, fabPass samples at a time.
func (f *fabRun) run(ctx context.Context, act []int, rank, restart int) error {
	group := fabPass
	if f.m.fixed > 0 {
		group = len(act) // the model splits and pads to its own batch
	}
	for first := 0; first < len(act); first += group {
		if err := f.runGroup(ctx, act[first:min(first+group, len(act))], rank, restart); err != nil {
			return err
		}
	}
	return nil
}

// runGroup is run for one model pass of samples.
func (f *fabRun) runGroup(ctx context.Context, act []int, rank, restart int) error {
	n, per := len(act), f.per
	padded := n
	if f.m.fixed == 0 {
		padded = (n + fabPad - 1) / fabPad * fabPad
	}
	x0, x1 := make([]float32, padded*per), make([]float32, padded*per)
	lab, tgt := make([]int, padded), make([]int, padded)
	for j, i := range act {
		copy(x0[j*per:(j+1)*per], f.x[i*per:(i+1)*per])
		lab[j] = f.labels[i]
		if !f.cfg.Untargeted {
			tgt[j] = f.ranked[i][rank]
		}
	}
	copy(x1, x0)
	if restart > 0 {
		for j, i := range act {
			f.randomStart(x1[j*per:(j+1)*per], x0[j*per:(j+1)*per], f.idx[i], rank, restart)
		}
	}
	f.d1, f.d2 = slices.Grow(f.d1[:0], per)[:per], slices.Grow(f.d2[:0], per)[:per]
	var after []float32
	var err error
	for it := 0; it < f.cfg.Iters; it++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f.linearise(x1, lab, tgt, n); err != nil {
			return fmt.Errorf("FAB: %w", err)
		}
		for j := range n {
			s := j * per
			f.step(x1[s:s+per], x0[s:s+per], f.w[s:s+per], f.diff[j])
		}
		if after, _, err = f.m.Logits(after, x1, padded); err != nil {
			return fmt.Errorf("FAB: %w", err)
		}
		for j := range n {
			if runtime.Argmax(after[j*f.k:(j+1)*f.k]) == lab[j] {
				continue
			}
			s := j * per
			f.record(act[j], x1[s:s+per])
			// Step back towards the clean image to look for a closer point.
			for p := s; p < s+per; p++ {
				x1[p] = x0[p] + float32(f.cfg.Beta)*(x1[p]-x0[p])
			}
		}
	}
	return nil
}

// linearise sets, for the first live of the b samples xs (the rest is
// padding), f.diff to z_c − z_y and f.w to its gradient, for the class c
// whose boundary with the label y FAB steps towards: the sample's target,
// or (untargeted) the class whose linearised boundary is closest in the
// norm, |z_c − z_y| / ‖∇(z_c − z_y)‖_* with the dual norm (L1 for L∞, L2
// for L2), which takes one gradient pass per class other than y.
func (f *fabRun) linearise(xs []float32, lab, tgt []int, live int) error {
	b, per := len(lab), f.per
	f.w = slices.Grow(f.w[:0], b*per)[:b*per]
	f.diff = slices.Grow(f.diff[:0], b)[:b]
	class := func(j, q int) int { return tgt[j] } // the class of sample j in pass q
	passes := 1
	if f.cfg.Untargeted {
		class = func(j, q int) int { return q + btoi(q >= lab[j]) } // the q-th class other than y
		passes = f.k - 1
		f.g = slices.Grow(f.g[:0], b*per)[:b*per]
		f.dist = slices.Grow(f.dist[:0], b)[:b]
	}
	var q int
	loss := func(dRow, row []float32, y, j int) float64 {
		if j >= live {
			return 0 // padding
		}
		c := class(j, q)
		dRow[c], dRow[y] = 1, -1
		return float64(row[c] - row[y])
	}
	var err error
	for q = 0; q < passes; q++ {
		g := f.w
		if f.cfg.Untargeted {
			g = f.g
		}
		if f.logits, _, err = f.m.LossGrad(g, f.logits, xs, lab, b, loss); err != nil {
			return err
		}
		for j := range live {
			row := f.logits[j*f.k : (j+1)*f.k]
			diff := float64(row[class(j, q)]) - float64(row[lab[j]])
			if !f.cfg.Untargeted {
				f.diff[j] = diff
				continue
			}
			gj := g[j*per : (j+1)*per]
			dist := math.Abs(diff) / (1e-12 + dualNorm(f.cfg.Norm, gj))
			if q == 0 || dist < f.dist[j] {
				f.dist[j], f.diff[j] = dist, diff
				copy(f.w[j*per:(j+1)*per], gj)
			}
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dualNorm is the dual of norm of g: L1 for L∞, L2 for L2.
func dualNorm(norm Norm, g []float32) float64 {
	if norm == L2 {
		return vecNorm(L2, g)
	}
	var s float64
	for _, v := range g {
		s += math.Abs(float64(v))
	}
	return s
}

// step is one FAB step of one sample: project the current point x1 and the
// clean image x0 onto the boundary z_t − z_y = 0 linearised at x1 (value
// diff, gradient w) within the box, and move to the overshot projection of
// x1, pulled towards the overshot projection of x0 the more, the closer
// x0 is to the boundary than x1 (by at most α_max).
func (f *fabRun) step(x1, x0, w []float32, diff float64) {
	// The linearised boundary: diff + w·(z − x1) = 0.
	var wd float64
	for p, v := range w {
		wd += float64(v) * (float64(x0[p]) - float64(x1[p]))
	}
	f.proj.project(f.cfg.Norm, f.d1, x1, w, -diff)
	f.proj.project(f.cfg.Norm, f.d2, x0, w, -diff-wd)
	a1 := max(vecNorm(f.cfg.Norm, f.d1), 1e-8)
	a2 := max(vecNorm(f.cfg.Norm, f.d2), 1e-8)
	alpha := min(a1/(a1+a2), f.cfg.AlphaMax)
	eta := f.cfg.Eta
	for p := range x1 {
		v := (float64(x1[p])+eta*f.d1[p])*(1-alpha) + (float64(x0[p])+eta*f.d2[p])*alpha
		x1[p] = float32(min(max(v, 0), 1))
	}
}

// record keeps adv as sample i's result when it is closer to the clean
// image than the best so far.
func (f *fabRun) record(i int, adv []float32) {
	clean := f.x[i*f.per : (i+1)*f.per]
	var linf, l2 float64
	for p, v := range adv {
		d := float64(v) - float64(clean[p]) // exact, unlike a float32 difference
		linf, l2 = max(linf, math.Abs(d)), l2+d*d
	}
	l2 = math.Sqrt(l2)
	now := linf
	if f.cfg.Norm == L2 {
		now = l2
	}
	if now < f.res.MinNorm(f.cfg.Norm, i) {
		copy(f.res.Adv[i*f.per:(i+1)*f.per], adv)
		f.res.MinLinf[i], f.res.MinL2[i] = linf, l2
	}
}

// randomStart sets x1 to a random point at the start radius from x0, in
// the norm, clipped to [0,1]: uniform directions scaled to the radius in
// L∞, Gaussian ones in L2, as in the reference.
func (f *fabRun) randomStart(x1, x0 []float32, index, rank, restart int) {
	rng := SampleRand(f.cfg.Seed, index, fabStream^(uint64(rank)<<32|uint64(restart)))
	u := make([]float64, len(x1))
	for p := range u {
		if f.cfg.Norm == L2 {
			u[p] = rng.NormFloat64()
		} else {
			u[p] = 2*rng.Float64() - 1
		}
	}
	scale := f.cfg.startRadius() / max(vecNorm(f.cfg.Norm, u), 1e-12)
	for p := range x1 {
		x1[p] = clamp01(x0[p] + float32(scale*u[p]))
	}
}

// vecNorm is v's L∞ or L2 norm, summed in float64.
func vecNorm[T float32 | float64](norm Norm, v []T) float64 {
	var s float64
	for _, f := range v {
		x := float64(f)
		if norm == L2 {
			s += x * x
		} else {
			s = max(s, math.Abs(x))
		}
	}
	if norm == L2 {
		return math.Sqrt(s)
	}
	return s
}
