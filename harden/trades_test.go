package harden

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/harden/arch"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// paperLoss is the papers' per-sample outer loss written out from their
// definitions, in float64, for the tests to compare against: TRADES (Zhang
// et al. 2019, eq. 5) and MART (Wang et al. 2020, eq. 10).
func paperLoss(r Recipe, beta float64, a, b []float64, y int) float64 {
	soft := func(z []float64) []float64 {
		m := math.Inf(-1)
		for _, v := range z {
			m = math.Max(m, v)
		}
		var s float64
		out := make([]float64, len(z))
		for j, v := range z {
			out[j] = math.Exp(v - m)
			s += out[j]
		}
		for j := range out {
			out[j] /= s
		}
		return out
	}
	p, q := soft(a), soft(b)
	var kl float64
	for j := range p {
		kl += p[j] * math.Log(p[j]/q[j])
	}
	if r == TRADES {
		return -math.Log(p[y]) + beta*kl
	}
	top := 0.0
	for j := range q {
		if j != y {
			top = math.Max(top, q[j])
		}
	}
	return -math.Log(q[y]) - math.Log(1-top) + beta*kl*(1-p[y])
}

func batchPaperLoss(r Recipe, beta float64, logits []float64, labels []int, k int) float64 {
	n := len(labels) / 2
	var s float64
	for i := range n {
		s += paperLoss(r, beta, logits[i*k:(i+1)*k], logits[(n+i)*k:(n+i+1)*k], labels[i])
	}
	return s / float64(n)
}

func lossFor(r Recipe, beta float64) interp.LossFunc {
	if r == MART {
		return MARTLoss(beta)
	}
	return TRADESLoss(beta)
}

// TestSurrogateLosses checks TRADESLoss and MARTLoss against the papers'
// definitions, and their logit gradients against central differences of
// those definitions.
func TestSurrogateLosses(t *testing.T) {
	const n, k = 4, 5
	rng := rand.New(rand.NewPCG(3, 4))
	for _, test := range []struct {
		r    Recipe
		beta float64
	}{{TRADES, 0}, {TRADES, 1}, {TRADES, 6}, {MART, 0}, {MART, 1}, {MART, 6}} {
		logits := &interp.Tensor{Shape: []int{2 * n, k}, Data: make([]float32, 2*n*k)}
		for j := range logits.Data {
			logits.Data[j] = float32(rng.NormFloat64() * 2)
		}
		labels := make([]int, 2*n)
		for i := range n {
			labels[i] = rng.IntN(k)
			labels[n+i] = labels[i]
		}
		loss, d, err := lossFor(test.r, test.beta)(logits, labels)
		if err != nil {
			t.Fatal(err)
		}
		z := make([]float64, len(logits.Data))
		for j, v := range logits.Data {
			z[j] = float64(v)
		}
		if want := batchPaperLoss(test.r, test.beta, z, labels, k); math.Abs(loss-want) > 1e-7*math.Max(1, want) {
			t.Errorf("%s β=%g: loss %.12g, the paper's definition gives %.12g", test.r, test.beta, loss, want)
		}
		const h = 1e-6
		for j := range z {
			v := z[j]
			z[j] = v + h
			up := batchPaperLoss(test.r, test.beta, z, labels, k)
			z[j] = v - h
			down := batchPaperLoss(test.r, test.beta, z, labels, k)
			z[j] = v
			if fd := (up - down) / (2 * h); math.Abs(fd-float64(d.Data[j])) > 1e-5+1e-4*math.Abs(fd) {
				t.Errorf("%s β=%g: d loss/d logit %d = %g, central difference %g", test.r, test.beta, j, d.Data[j], fd)
			}
		}
	}
	if _, _, err := TRADESLoss(6)(&interp.Tensor{Shape: []int{3, k}, Data: make([]float32, 3*k)}, []int{0, 0, 0}); err == nil {
		t.Error("an odd batch gave no error")
	}
}

// TestSurrogateWeightGradients checks the weight gradient one training pass
// over [x; x_adv] gives with TRADESLoss and MARTLoss against central
// differences of the papers' loss, computed from separate forward passes
// over x and x_adv in float64, on a tiny paper-simple network: the
// gradient flows through both passes.
func TestSurrogateWeightGradients(t *testing.T) {
	shape := [3]int{1, 4, 4}
	m, err := arch.Build("paper-simple", &arch.Options{Input: shape, Classes: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, &interp.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	per := shape[0] * shape[1] * shape[2]
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 2*n*per)
	for j := range n * per {
		x[j] = rng.Float32()
		x[n*per+j] = min(max(x[j]+float32(rng.NormFloat64()*0.1), 0), 1)
	}
	labels := []int{0, 2, 1, 0, 2, 1}
	in := &interp.Tensor{Shape: []int{2 * n, shape[0], shape[1], shape[2]}, Data: x}
	// The paper's loss from two separate passes, in float64.
	ref := func(r Recipe, beta float64) float64 {
		half := func(lo int) []float64 {
			out, err := p.Run(&interp.Tensor{Shape: []int{n, shape[0], shape[1], shape[2]}, Data: x[lo*per : (lo+n)*per]})
			if err != nil {
				t.Fatal(err)
			}
			z := make([]float64, len(out[0].Data))
			for j, v := range out[0].Data {
				z[j] = float64(v)
			}
			return z
		}
		return batchPaperLoss(r, beta, append(half(0), half(n)...), labels, 3)
	}
	for _, r := range []Recipe{TRADES, MART} {
		res, err := p.Grad(in, labels, interp.Want{Params: true, Loss: lossFor(r, 6)})
		if err != nil {
			t.Fatal(err)
		}
		if want := ref(r, 6); math.Abs(res.Loss-want) > 1e-5*math.Max(1, want) {
			t.Errorf("%s: loss %g, the paper's %g", r, res.Loss, want)
		}
		for i, prm := range p.Params() {
			g := res.Params[i]
			if g == nil {
				t.Fatalf("%s: no gradient reaches %s", r, prm.Name)
			}
			// The largest entry of each parameter, where the check is sharpest.
			j := 0
			for jj, v := range g.Data {
				if math.Abs(float64(v)) > math.Abs(float64(g.Data[j])) {
					j = jj
				}
			}
			const h = 1e-2
			v := prm.T.Data[j]
			prm.T.Data[j] = v + h
			up := ref(r, 6)
			prm.T.Data[j] = v - h
			down := ref(r, 6)
			prm.T.Data[j] = v
			fd := (up - down) / (2 * h)
			if math.Abs(fd-float64(g.Data[j])) > 2e-3+2e-2*math.Abs(fd) {
				t.Errorf("%s: d loss/d %s[%d] = %g, central difference %g", r, prm.Name, j, g.Data[j], fd)
			}
		}
	}
}
