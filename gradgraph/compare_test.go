//go:build cgo

package gradgraph

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// tolerance is the largest relative error (relErr) allowed between the
// graph's gradients on ONNX Runtime and the interpreter's.
const tolerance = 1e-4

// relErr is max|a − b| / max|b|, or max|a − b| when b is all zeros: a
// measure that does not blow up where single elements are near zero.
func relErr(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var diff, scale float64
	for i := range a {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = max(scale, math.Abs(float64(b[i])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// comparison holds the worst relative errors of one model's gradient graph
// against the interpreter.
type comparison struct {
	logits, loss, input, params float64
	worstParam                  string
}

// compareWithInterp builds m's gradient graph (with weight gradients when
// weights is set), runs it on ONNX Runtime and the interpreter on the same
// seeded batch, and returns the relative errors.
func compareWithInterp(t *testing.T, m *onnx.Model, batch int, weights bool, seed uint64) (comparison, error) {
	return compareOn(t, m, batch, weights, seed, 0, 1)
}

// compareOn is compareWithInterp with the input drawn uniformly from [lo, hi).
func compareOn(t *testing.T, m *onnx.Model, batch int, weights bool, seed uint64, lo, hi float32) (comparison, error) {
	t.Helper()
	gr, err := Build(m, &Options{Weights: weights})
	if err != nil {
		return comparison{}, err
	}
	p, err := interp.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Input.Shape[0]; d > 0 {
		batch = int(d)
	}
	shape := []int{batch}
	for _, d := range p.Input.Shape[1:] {
		shape = append(shape, int(d))
	}
	x := &interp.Tensor{Shape: shape, Data: make([]float32, batch*prod(shape[1:]))}
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range x.Data {
		x.Data[i] = lo + (hi-lo)*rng.Float32()
	}
	res, err := p.Grad(x, make([]int, batch), interp.Want{})
	if err != nil {
		t.Fatal(err)
	}
	classes := res.Logits.Len() / batch
	labels := make([]int, batch)
	ys := make([]int64, batch)
	for i := range labels {
		labels[i] = rng.IntN(classes)
		ys[i] = int64(labels[i])
	}
	ref, err := p.Grad(x, labels, interp.Want{Input: true, Params: weights})
	if err != nil {
		t.Fatal(err)
	}
	data, err := gr.Model.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	outNames := append([]string{gr.Logits, gr.Loss, gr.InputGrad}, gr.ParamGrads...)
	sess, err := ort.OpenGraph(data, []string{gr.Input, gr.Labels}, outNames, &ort.Options{Device: ort.DeviceCPU})
	if err != nil {
		t.Fatalf("ONNX Runtime refused the gradient graph: %v", err)
	}
	defer sess.Close()
	xs := make([]int64, len(shape))
	for i, d := range shape {
		xs[i] = int64(d)
	}
	got, err := sess.Run([]ort.Tensor{{Shape: xs, Float: x.Data}, {Shape: []int64{int64(batch)}, Int: ys}})
	if err != nil {
		t.Fatalf("running the gradient graph: %v", err)
	}
	c := comparison{
		logits: relErr(got[0].Float, ref.Logits.Data),
		loss:   math.Abs(float64(got[1].Float[0])-ref.Loss) / max(math.Abs(ref.Loss), 1e-12),
		input:  relErr(got[2].Float, ref.Input.Data),
	}
	for i, prm := range p.Params() {
		if !weights {
			break
		}
		want := make([]float32, prm.T.Len())
		if ref.Params[i] != nil {
			want = ref.Params[i].Data
		}
		if e := relErr(got[3+i].Float, want); e > c.params || math.IsNaN(e) {
			c.params, c.worstParam = e, prm.Name
		}
	}
	return c, nil
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (c comparison) check(t *testing.T, name string) {
	t.Helper()
	t.Logf("%s: relative errors: logits %.2g, loss %.2g, input gradient %.2g, weight gradients %.2g (worst %q)",
		name, c.logits, c.loss, c.input, c.params, c.worstParam)
	for _, e := range []struct {
		what string
		v    float64
	}{{"logits", c.logits}, {"loss", c.loss}, {"input gradient", c.input}, {"weight gradient " + c.worstParam, c.params}} {
		if !(e.v <= tolerance) {
			t.Errorf("%s: %s relative error %.3g, want ≤ %g", name, e.what, e.v, tolerance)
		}
	}
}
