package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
	"gonum.org/v1/gonum/diff/fd"
	"google.golang.org/protobuf/proto"
)

// attrs are node attributes for tests: int, int64, float32, float64,
// string, []int64, []float32 or *onnx.TensorProto.
type attrs map[string]any

// makeNode builds a one-node graph and returns the checked node, so tests
// go through the same attribute handling as real models.
func makeNode(t testing.TB, opType string, a attrs, nIn, nOut int) *onnx.Node {
	t.Helper()
	np := &onnx.NodeProto{OpType: proto.String(opType), Name: proto.String("test_" + opType)}
	for i := 0; i < nIn; i++ {
		name := fmt.Sprintf("in%d", i)
		np.Input = append(np.Input, name)
	}
	for i := 0; i < nOut; i++ {
		np.Output = append(np.Output, fmt.Sprintf("out%d", i))
	}
	for name, v := range a {
		ap := &onnx.AttributeProto{Name: proto.String(name)}
		switch v := v.(type) {
		case int:
			ap.Type, ap.I = onnx.AttributeProto_INT.Enum(), proto.Int64(int64(v))
		case int64:
			ap.Type, ap.I = onnx.AttributeProto_INT.Enum(), proto.Int64(v)
		case float32:
			ap.Type, ap.F = onnx.AttributeProto_FLOAT.Enum(), proto.Float32(v)
		case float64:
			ap.Type, ap.F = onnx.AttributeProto_FLOAT.Enum(), proto.Float32(float32(v))
		case string:
			ap.Type, ap.S = onnx.AttributeProto_STRING.Enum(), []byte(v)
		case []int64:
			ap.Type, ap.Ints = onnx.AttributeProto_INTS.Enum(), v
		case []float32:
			ap.Type, ap.Floats = onnx.AttributeProto_FLOATS.Enum(), v
		case *onnx.TensorProto:
			ap.Type, ap.T = onnx.AttributeProto_TENSOR.Enum(), v
		default:
			t.Fatalf("attribute %s: unsupported test value %T", name, v)
		}
		np.Attribute = append(np.Attribute, ap)
	}
	gp := &onnx.GraphProto{Node: []*onnx.NodeProto{np}}
	for _, in := range np.Input {
		gp.Input = append(gp.Input, &onnx.ValueInfoProto{Name: proto.String(in)})
	}
	for _, out := range np.Output {
		gp.Output = append(gp.Output, &onnx.ValueInfoProto{Name: proto.String(out)})
	}
	data, err := proto.Marshal(&onnx.ModelProto{IrVersion: proto.Int64(8), Graph: gp})
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Parse(data, "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.Graph()
	if err != nil {
		t.Fatal(err)
	}
	return g.Nodes[0]
}

// newOp builds the op for a test node at opset.
func newOp(t testing.TB, opType string, a attrs, opset int64, nIn, nOut int) Op {
	t.Helper()
	op, err := New(makeNode(t, opType, a, nIn, nOut), opset, "")
	if err != nil {
		t.Fatalf("%s: %v", opType, err)
	}
	return op
}

// opCase is a row of the operator tables (gradients, rejections): one
// operator with its attributes and opset, and its inputs.
type opCase struct {
	name  string
	op    string
	attrs attrs
	opset int64
	in    []*Tensor
}

// newOp builds the case's op, one output.
func (c opCase) newOp(t testing.TB) Op {
	t.Helper()
	return newOp(t, c.op, c.attrs, c.opset, len(c.in), 1)
}

// randTensor fills a tensor with uniform values in [lo, hi).
func randTensor(rng *rand.Rand, lo, hi float32, shape ...int) *Tensor {
	x := NewFloat(shape...)
	for i := range x.Data {
		x.Data[i] = lo + (hi-lo)*rng.Float32()
	}
	return x
}

// awayFrom moves values within gap of any kink to a safe distance, so
// finite differences do not straddle a point where the derivative jumps.
func awayFrom(x *Tensor, gap float32, kinks ...float32) *Tensor {
	for i, v := range x.Data {
		for _, k := range kinks {
			if d := v - k; d > -gap && d < gap {
				if d >= 0 {
					x.Data[i] = k + gap
				} else {
					x.Data[i] = k - gap
				}
			}
		}
	}
	return x
}

// gradCheck compares an op's backward pass with central differences of
// L = Σ r·y over its float inputs, r a fixed random tensor per output.
// Integer inputs and inputs listed in skip are held constant. It checks
// the portable paths and the vector kernels' (State.Kernels; their Go
// twins where the CPU has no assembly).
func gradCheck(t *testing.T, name string, op Op, in []*Tensor, skip ...int) {
	t.Helper()
	gradCheckOn(t, name, false, op, in, skip...)
	gradCheckOn(t, name+" (kernels)", true, op, in, skip...)
}

func gradCheckOn(t *testing.T, name string, kernels bool, op Op, in []*Tensor, skip ...int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	s := &State{Grad: true, Kernels: kernels, Rand: rand.New(rand.NewPCG(1, 2))}
	outs, err := op.Forward(s, in)
	if err != nil {
		t.Fatalf("%s: forward: %v", name, err)
	}
	weights := make([]*Tensor, len(outs))
	for i, o := range outs {
		if !o.IsInt() {
			weights[i] = randTensor(rng, -1, 1, o.Shape...)
		}
	}
	restore := poisonUnsaved(s, in, outs)
	analytic, err := op.Backward(s, weights)
	restore()
	if err != nil {
		t.Fatalf("%s: backward: %v", name, err)
	}
	loss := func() float64 {
		st := &State{Kernels: kernels, Rand: rand.New(rand.NewPCG(1, 2))}
		outs, err := op.Forward(st, in)
		if err != nil {
			t.Fatalf("%s: forward: %v", name, err)
		}
		var l float64
		for i, o := range outs {
			if weights[i] == nil {
				continue
			}
			for j, v := range o.Data {
				l += float64(v) * float64(weights[i].Data[j])
			}
		}
		return l
	}
	skipped := map[int]bool{}
	for _, i := range skip {
		skipped[i] = true
	}
	for i, x := range in {
		if x == nil || x.IsInt() || skipped[i] {
			continue
		}
		orig := append([]float32(nil), x.Data...)
		numeric := fd.Gradient(nil, func(v []float64) float64 {
			for j := range v {
				x.Data[j] = float32(v[j])
			}
			return loss()
		}, toF64(orig), &fd.Settings{Formula: fd.Central, Step: 1e-2})
		copy(x.Data, orig)
		if i >= len(analytic) || analytic[i] == nil {
			t.Errorf("%s: no gradient for input %d", name, i)
			continue
		}
		got := analytic[i]
		if !slices.Equal(got.Shape, x.Shape) {
			t.Errorf("%s: gradient of input %d has shape %v, want %v", name, i, got.Shape, x.Shape)
			continue
		}
		scale := 0.0
		for _, v := range numeric {
			scale = math.Max(scale, math.Abs(v))
		}
		bad := 0
		for j, want := range numeric {
			if diff := math.Abs(float64(got.Data[j]) - want); !(diff <= 2e-3+2e-2*math.Max(math.Abs(want), 0.1*scale)) { // NaN fails too
				if bad < 3 {
					t.Errorf("%s: d/d input %d [%d]: backward %.5g, finite differences %.5g", name, i, j, got.Data[j], want)
				}
				bad++
			}
		}
		if bad > 3 {
			t.Errorf("%s: input %d: %d of %d gradient entries disagree", name, i, bad, len(numeric))
		}
	}
}

// poisonUnsaved fills with NaN every float input and output of a forward
// pass that shares no storage with what the op saved, as the executor
// recycles them once their last forward reader is done: a backward rule
// that reads them any other way (through SetAux, say) then returns NaN.
// restore puts the inputs back.
func poisonUnsaved(s *State, in, outs []*Tensor) (restore func()) {
	saved := s.SavedTensors()
	var undo []func()
	for _, t := range append(append([]*Tensor(nil), in...), outs...) {
		if t == nil || t.IsInt() || slices.ContainsFunc(saved, func(u *Tensor) bool { return u != nil && overlapping(u.Data, t.Data) }) {
			continue
		}
		orig := append([]float32(nil), t.Data...)
		data := t.Data
		undo = append(undo, func() { copy(data, orig) })
		for j := range data {
			data[j] = float32(math.NaN())
		}
	}
	return func() {
		for i := len(undo) - 1; i >= 0; i-- { // an output may be a view of an input
			undo[i]()
		}
	}
}

// overlapping reports whether a and b share storage.
func overlapping(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := &a[0], &b[0]
	for i := range a {
		if &a[i] == b0 {
			return true
		}
	}
	for i := range b {
		if &b[i] == a0 {
			return true
		}
	}
	return false
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// A convCase is a Conv under test: its attributes, its input and weight
// shapes, and whether it has a bias and a fused Relu.
type convCase struct {
	name  string
	attrs attrs
	x, w  []int
	bias  bool
	relu  bool
}

// inputs returns random inputs for the case: x, w and, with a bias, b.
func (c convCase) inputs(rng *rand.Rand) []*Tensor {
	in := []*Tensor{randTensor(rng, -1, 1, c.x...), randTensor(rng, -1, 1, c.w...)}
	if c.bias {
		in = append(in, randTensor(rng, -1, 1, c.w[0]))
	}
	return in
}

// op returns the case's Conv (opset 13) for inputs inputs, its Relu fused
// where it has one.
func (c convCase) op(t testing.TB, inputs int) Op {
	t.Helper()
	op := newOp(t, "Conv", c.attrs, 13, inputs, 1)
	if !c.relu {
		return op
	}
	fused, ok := fuseRelu(op)
	if !ok {
		t.Fatal("Conv did not take the Relu")
	}
	return fused
}

// closeTo fails unless got equals want within float32 rounding of sums.
func closeTo(t *testing.T, what string, got, want *Tensor) {
	t.Helper()
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	scale := 0.0
	for _, v := range want.Data {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	bad := 0
	for i, w := range want.Data {
		// NaN where want has none is a difference too.
		if d := math.Abs(float64(got.Data[i] - w)); !(d <= 1e-5*scale+1e-6) && !(w != w && got.Data[i] != got.Data[i]) {
			if bad < 3 {
				t.Errorf("%s[%d] = %g, want %g", what, i, got.Data[i], w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d differ", what, bad, len(want.Data))
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// fusedRun is a Conv with the node after it run apart and the fused op
// that joins them run on the same inputs: the Conv's output, both ways'
// outputs, and both ways' gradients of the Conv's inputs from one random
// dY.
type fusedRun struct {
	conv, apart, fused   *Tensor
	gradApart, gradFused []*Tensor
}

// runFused runs conv and then (apart) and fused on in, forward and
// backward, with the vector kernels as kernels says.
func runFused(t *testing.T, rng *rand.Rand, conv, then, fused Op, in []*Tensor, kernels bool) fusedRun {
	t.Helper()
	sc, st, sf := &State{Grad: true, Kernels: kernels}, &State{Grad: true, Kernels: kernels}, &State{Grad: true, Kernels: kernels}
	yc, err := conv.Forward(sc, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := then.Forward(st, yc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fused.Forward(sf, in)
	if err != nil {
		t.Fatal(err)
	}
	dy := randTensor(rng, -1, 1, got[0].Shape...)
	dt, _ := then.Backward(st, []*Tensor{dy})
	wantG, _ := conv.Backward(sc, []*Tensor{dt[0]})
	gotG, _ := fused.Backward(sf, []*Tensor{dy})
	return fusedRun{conv: yc[0], apart: want[0], fused: got[0], gradApart: wantG, gradFused: gotG}
}

// newReluMask returns the mask of y > 0, as a Conv with a Relu folded in
// keeps it (convepilogue.go), for tests that run a strategy's backward
// pass without its forward.
func newReluMask(mk kernel.MaskKernels, y []float32) reluMask {
	m := make(reluMask, (len(y)+63)/64)
	mk.Positive(m, y)
	return m
}
