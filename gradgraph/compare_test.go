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
	inputL2                     float64 // ‖a − b‖ / ‖b‖ of the input gradient
	inputOff                    float64 // the share of its elements off by more than 1e-4 of max|b|
	// inputScale is max|b| of the interpreter's input gradient: 0 makes
	// the comparison of input gradients vacuous.
	inputScale float64
	// The interpreter against itself on an input moved by one part in
	// 10⁶: input gradient (max and L2) and weight gradients.
	selfInput, selfL2, selfParams float64
}

// l2Err returns ‖a − b‖ / ‖b‖ and the share of elements that differ by
// more than tolerance·max|b|.
func l2Err(a, b []float32) (float64, float64) {
	var d2, b2, scale float64
	for i := range b {
		scale = max(scale, math.Abs(float64(b[i])))
	}
	off := 0
	for i := range b {
		d := float64(a[i]) - float64(b[i])
		d2 += d * d
		b2 += float64(b[i]) * float64(b[i])
		if math.Abs(d) > tolerance*scale {
			off++
		}
	}
	return math.Sqrt(d2 / max(b2, 1e-300)), float64(off) / float64(len(b))
}

// compareWithInterp builds m's gradient graph (with weight gradients when
// weights is set), runs it on ONNX Runtime and the interpreter on the same
// seeded batch, and returns the relative errors.
func compareWithInterp(t *testing.T, m *onnx.Model, batch int, weights bool, seed uint64) (comparison, error) {
	return compareOn(t, m, batch, weights, seed, 0, 1, false)
}

// compareOn is compareWithInterp with the input drawn uniformly from [lo, hi).
// With self set it also measures how far the interpreter's own gradients
// move when each input value is moved by one part in 10⁶ (about as far as
// the two engines' float32 logits differ): on deep networks of Relus and
// max pools, activations that close to a kink flip, and the gradient with
// them.
func compareOn(t *testing.T, m *onnx.Model, batch int, weights bool, seed uint64, lo, hi float32, self bool) (comparison, error) {
	t.Helper()
	c, _, err := compareForm(t, m, batch, weights, seed, lo, hi, self, 0, false)
	return c, err
}

// compareForm is compareOn on the graph's blocked form for NCHWc block
// block (Graph.Blocked; 0: the portable graph), which also returns how
// many of its parts took the blocked form. With fed (which implies
// weights) the graph reads the weights as inputs (Options.FeedWeights), as
// a training engine's does, and is fed the interpreter's.
func compareForm(t *testing.T, m *onnx.Model, batch int, weights bool, seed uint64, lo, hi float32, self bool, block int, fed bool) (comparison, int, error) {
	t.Helper()
	weights = weights || fed
	gr, err := Build(m, &Options{Weights: weights, FeedWeights: fed})
	if err != nil {
		return comparison{}, 0, err
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
	form, blocked, err := gr.Blocked(block)
	if err != nil {
		t.Fatal(err)
	}
	data, err := form.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	outNames := append([]string{gr.Logits, gr.Loss, gr.InputGrad}, gr.ParamGrads...)
	inNames, feeds := graphFeeds(gr, p, x, ys, fed)
	sess, err := ort.OpenGraph(data, inNames, outNames, &ort.Options{Device: ort.DeviceCPU})
	if err != nil {
		t.Fatalf("ONNX Runtime refused the gradient graph: %v", err)
	}
	defer sess.Close()
	got, err := sess.Run(feeds)
	if err != nil {
		t.Fatalf("running the gradient graph: %v", err)
	}
	c := comparison{
		logits: relErr(got[0].Float, ref.Logits.Data),
		loss:   math.Abs(float64(got[1].Float[0])-ref.Loss) / max(math.Abs(ref.Loss), 1e-12),
		input:  relErr(got[2].Float, ref.Input.Data),
	}
	c.inputL2, c.inputOff = l2Err(got[2].Float, ref.Input.Data)
	for _, v := range ref.Input.Data {
		c.inputScale = max(c.inputScale, math.Abs(float64(v)))
	}
	c.params, c.worstParam = paramErr(p, weights, ref.Params, func(i int) []float32 { return got[3+i].Float })
	if self {
		c.selfInput, c.selfL2, c.selfParams = selfSensitivity(t, p, x, labels, rng, weights, ref)
	}
	return c, blocked, nil
}

// graphFeeds returns the names and values of the inputs of gr's run on x
// with labels ys: with fed, the program's weights after them.
func graphFeeds(gr *Graph, p *interp.Program, x *interp.Tensor, ys []int64, fed bool) ([]string, []ort.Tensor) {
	names := []string{gr.Input, gr.Labels}
	feeds := []ort.Tensor{{Shape: int64s(x.Shape), Float: x.Data}, {Shape: []int64{int64(len(ys))}, Int: ys}}
	if fed {
		names = append(names, gr.Params...)
		for _, prm := range p.Params() {
			feeds = append(feeds, ort.Tensor{Shape: int64s(prm.T.Shape), Float: prm.T.Data})
		}
	}
	return names, feeds
}

// selfSensitivity returns how far the interpreter's input gradient (max and
// L2) and weight gradients move from ref when each value of x moves by one
// part in 10⁶. It changes x.
func selfSensitivity(t *testing.T, p *interp.Program, x *interp.Tensor, labels []int, rng *rand.Rand, weights bool, ref *interp.Result) (input, l2, params float64) {
	t.Helper()
	refInput := append([]float32(nil), ref.Input.Data...)
	refParams := make([][]float32, len(ref.Params))
	for i, g := range ref.Params {
		if g != nil {
			refParams[i] = append([]float32(nil), g.Data...)
		}
	}
	for i := range x.Data {
		x.Data[i] *= 1 + 1e-6*float32(rng.IntN(3)-1)
	}
	moved, err := p.Grad(x, labels, interp.Want{Input: true, Params: weights})
	if err != nil {
		t.Fatal(err)
	}
	input = relErr(moved.Input.Data, refInput)
	l2, _ = l2Err(moved.Input.Data, refInput)
	params, _ = paramErr(p, weights, moved.Params, func(i int) []float32 {
		if refParams[i] == nil {
			return make([]float32, p.Params()[i].T.Len())
		}
		return refParams[i]
	})
	return input, l2, params
}

// paramErr returns the worst relative error between the weight gradients
// got(i) and want (nil: zeros), and whose it is.
func paramErr(p *interp.Program, weights bool, want []*interp.Tensor, got func(int) []float32) (float64, string) {
	var worst float64
	var name string
	for i, prm := range p.Params() {
		if !weights {
			break
		}
		w := make([]float32, prm.T.Len())
		if want[i] != nil {
			w = want[i].Data
		}
		if e := relErr(got(i), w); e > worst || math.IsNaN(e) {
			worst, name = e, prm.Name
		}
	}
	return worst, name
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
	t.Logf("%s: relative errors: logits %.2g, loss %.2g, input gradient %.2g (L2 %.2g, %.3g%% of elements off), weight gradients %.2g (worst %q)",
		name, c.logits, c.loss, c.input, c.inputL2, 100*c.inputOff, c.params, c.worstParam)
	for _, e := range []struct {
		what string
		v    float64
	}{{"logits", c.logits}, {"loss", c.loss}, {"input gradient", c.input}, {"weight gradient " + c.worstParam, c.params}} {
		if !(e.v <= tolerance) {
			t.Errorf("%s: %s relative error %.3g, want ≤ %g", name, e.what, e.v, tolerance)
		}
	}
}
