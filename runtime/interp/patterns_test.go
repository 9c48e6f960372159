package interp

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"google.golang.org/protobuf/proto"
)

// unfused returns m compiled as Compile compiles it and the same program
// with its nodes as the model lists them (no pattern, no fusion).
func unfused(t *testing.T, m *onnx.Model) (fused, apart *Program) {
	t.Helper()
	fused, err := Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if apart, err = Compile(m, nil); err != nil {
		t.Fatal(err)
	}
	apart.nodes = raw.nodes
	apart.findLastUses()
	return fused, apart
}

// countOps counts the compiled nodes of type op.
func countOps(p *Program, op string) int {
	n := 0
	for _, nd := range p.nodes {
		if nd.n.OpType == op {
			n++
		}
	}
	return n
}

// TestGeluPatternOnModels compiles the small ConvNeXt and ViT under
// testdata, whose GELUs PyTorch exported as Div, Erf, Add, Mul, Mul: both
// GELUs of each become one node; inference gives the unfused program's
// logits bit for bit; the input and weight gradients, in inference and in
// training mode, agree to float rounding, with given-back storage
// poisoned so that a fused node reading a value it did not keep would
// show.
func TestGeluPatternOnModels(t *testing.T) {
	for _, name := range transformerModels {
		m, err := onnx.Load(modelDir + "/" + name + ".onnx")
		if err != nil {
			t.Fatal(err)
		}
		fused, apart := unfused(t, m)
		if got := countOps(fused, "Gelu"); got != 2 {
			t.Errorf("%s: %d GELUs fused, want 2", name, got)
		}
		if got, want := len(fused.nodes), len(apart.nodes)-2*4; got > want {
			t.Errorf("%s: %d nodes compiled, want at most %d", name, got, want)
		}
		x := readNpy(t, modelDir+"/"+name+".input.npy")
		labels := []int{3, 1, 4, 1}[:x.Shape[0]]
		outs := [2][]float32{}
		for i, p := range []*Program{fused, apart} {
			y, err := p.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = slices.Clone(y[0].Data)
		}
		if !slices.Equal(outs[0], outs[1]) {
			t.Errorf("%s: fused logits %v, apart %v", name, outs[0], outs[1])
		}
		fused.buffers.Poison = true
		for _, mode := range []Mode{{}, {Training: true}} {
			want := Want{Mode: mode, Input: true, Params: true}
			if _, err := fused.Grad(x, labels, want); err != nil { // fills the buffers, then poisoned
				t.Fatal(err)
			}
			var res [2]*Result
			for i, p := range []*Program{fused, apart} {
				r, err := p.Grad(x, labels, want)
				if err != nil {
					t.Fatal(err)
				}
				res[i] = &Result{Loss: r.Loss, Input: cloneTensor(r.Input)}
				for _, g := range r.Params {
					res[i].Params = append(res[i].Params, cloneTensor(g))
				}
			}
			if math.Abs(res[0].Loss-res[1].Loss) > 1e-6 {
				t.Errorf("%s %+v: loss %v fused, %v apart", name, mode, res[0].Loss, res[1].Loss)
			}
			// The fused derivative is one float64 expression, the chain's
			// two float32 terms that cancel for negative x; through
			// attention and LayerNorm that leaves up to 4.4e-5 on the
			// vector kernels and 1.003e-4 on one of vit_tiny's weights
			// under -tags purego, whose sums run in another order: 2e-4.
			const tol = 2e-4
			if e := maxRelErr(res[0].Input.Data, res[1].Input.Data, 1e-3); e > tol {
				t.Errorf("%s %+v: input gradients differ by %g relative", name, mode, e)
			}
			for i, w := range res[1].Params {
				if w == nil {
					continue
				}
				if res[0].Params[i] == nil {
					t.Errorf("%s %+v: no gradient for %s fused", name, mode, fused.Params()[i].Name)
				} else if e := maxRelErr(res[0].Params[i].Data, w.Data, 1e-3); e > tol {
					t.Errorf("%s %+v: gradient of %s differs by %g relative", name, mode, fused.Params()[i].Name, e)
				}
			}
		}
	}
}

// geluNodes writes GELU's nodes on x as the ops in order name them, each
// "op:in,in>out"; operands c2, c1 and ch are the constants √2, 1 and 0.5
// unless consts replaces them.
func geluNodes(t *testing.T, spec []string, consts map[string]float32, dims []int64) []*onnx.NodeProto {
	t.Helper()
	values := map[string]float32{"c2": math.Sqrt2, "c1": 1, "ch": 0.5}
	var nodes []*onnx.NodeProto
	for _, c := range []string{"c2", "c1", "ch"} {
		v, ok := consts[c]
		if !ok {
			v = values[c]
		}
		value := &onnx.TensorProto{Dims: dims, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{v}}
		nodes = append(nodes, &onnx.NodeProto{OpType: proto.String("Constant"), Name: proto.String(c), Output: []string{c},
			Attribute: []*onnx.AttributeProto{{Name: proto.String("value"), Type: onnx.AttributeProto_TENSOR.Enum(), T: value}}})
	}
	for _, s := range spec {
		op, rest, _ := strings.Cut(s, ":")
		in, out, _ := strings.Cut(rest, ">")
		nodes = append(nodes, graphNode(op, strings.Split(in, ","), []string{out}))
	}
	return nodes
}

// TestGeluPatternMatching runs the GELU pattern rules (ops/gelu.go) over
// small graphs: the forms exporters write are joined, in either operand
// order; a constant off its value, a trained one, one that would change
// the output's rank and an intermediate value read outside the pattern
// keep the nodes apart. Joined or not, the outputs and input gradients
// are the unfused program's.
func TestGeluPatternMatching(t *testing.T) {
	pytorch := []string{"Div:x,c2>u", "Erf:u>e", "Add:e,c1>a", "Mul:x,a>m", "Mul:m,ch>y"}
	for _, test := range []struct {
		name   string
		spec   []string
		consts map[string]float32
		dims   []int64 // the constants' shape
		init   bool    // √2 is an initializer, which training updates
		fused  int
	}{
		{"pytorch", pytorch, nil, nil, false, 1},
		{"operands swapped", []string{"Div:x,c2>u", "Erf:u>e", "Add:c1,e>a", "Mul:a,x>m", "Mul:ch,m>y"}, nil, nil, false, 1},
		{"half first", []string{"Div:x,c2>u", "Erf:u>e", "Add:c1,e>a", "Mul:ch,x>h", "Mul:h,a>y"}, nil, nil, false, 1},
		{"constants of shape 1×1", pytorch, nil, []int64{1, 1}, false, 1},
		{"divisor 1.5", pytorch, map[string]float32{"c2": 1.5}, nil, false, 0},
		{"divisor 1.4142", pytorch, map[string]float32{"c2": 1.4142}, nil, false, 0},
		{"half 0.25", pytorch, map[string]float32{"ch": 0.25}, nil, false, 0},
		{"constants of rank 3", pytorch, nil, []int64{1, 1, 1}, false, 0},
		{"erf read twice", []string{"Div:x,c2>u", "Erf:u>e", "Add:e,c1>a", "Mul:x,a>m", "Mul:m,ch>g", "Add:g,e>y"}, nil, nil, false, 0},
		{"x times itself", []string{"Div:x,c2>u", "Erf:u>e", "Add:e,c1>a", "Mul:u,a>m", "Mul:m,ch>y"}, nil, nil, false, 0},
		{"trained divisor", pytorch, nil, nil, true, 0},
	} {
		nodes := geluNodes(t, test.spec, test.consts, test.dims)
		var inits []*onnx.TensorProto
		if test.init {
			nodes = nodes[1:]
			inits = append(inits, &onnx.TensorProto{Name: proto.String("c2"), DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{math.Sqrt2}})
		}
		ys := []int64{2, 5}
		if len(test.dims) > 2 {
			ys = []int64{1, 2, 5}
		}
		fused, apart := unfused(t, graphModel(t, nodes, 13, []int64{2, 5}, ys, inits...))
		if got := countOps(fused, "Gelu"); got != test.fused {
			t.Errorf("%s: %d GELUs fused, want %d", test.name, got, test.fused)
		}
		rng := rand.New(rand.NewPCG(19, 22))
		x := &Tensor{Shape: []int{2, 5}}
		for range 10 {
			x.Data = append(x.Data, 8*rng.Float32()-4)
		}
		// Near the largest float32, where the order of the Muls decides
		// whether x·a·0.5 overflows, the outputs must still agree.
		huge := &Tensor{Shape: []int{2, 5}, Data: []float32{3e38, 2e38, 1.8e38, -3e38, 1e38, 3e38, -1, 0, 1, 2}}
		for _, in := range []*Tensor{x, huge} {
			var ys2 [2][]float32
			for i, p := range []*Program{fused, apart} {
				y, err := p.Run(in)
				if err != nil {
					t.Fatalf("%s: %v", test.name, err)
				}
				ys2[i] = slices.Clone(y[0].Data)
			}
			if !slices.Equal(ys2[0], ys2[1]) {
				t.Errorf("%s: fused output %v, apart %v", test.name, ys2[0], ys2[1])
			}
		}
		if len(ys) > 2 {
			continue // no logits
		}
		var grads [2]*Tensor
		for i, p := range []*Program{fused, apart} {
			r, err := p.Grad(x, []int{1, 3}, Want{Input: true})
			if err != nil {
				t.Fatalf("%s: %v", test.name, err)
			}
			grads[i] = cloneTensor(r.Input)
		}
		if e := maxRelErr(grads[0].Data, grads[1].Data, 1e-3); e > 1e-5 {
			t.Errorf("%s: input gradients differ by %g relative: %v fused, %v apart", test.name, e, grads[0].Data, grads[1].Data)
		}
	}
}
