package gradgraph

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
)

// unsupportedModels are the models in testdata/models the builder refuses,
// with the reason; every other model must match the interpreter.
var unsupportedModels = map[string]string{
	"opset7_mlp.onnx":         "opset 7: gradient graphs need opset 13",
	"fmnist_cnn_qlinear.onnx": "QLinearConv, QLinearMatMul, MatMulInteger: no rules for integer operators",
	"fmnist_fusedmatmul.onnx": "com.microsoft FusedMatMul: the interpreter, the reference, does not run it",
}

// TestBuildTestdataModels builds every model in testdata/models, without
// ONNX Runtime: each either is listed as unsupported, failing with
// ErrUnsupported, or gives a valid graph with the inputs and outputs Graph
// names.
func TestBuildTestdataModels(t *testing.T) {
	paths, err := filepath.Glob("../testdata/models/*.onnx")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no models in ../testdata/models: %v", err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		m, err := onnx.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Build(m, &Options{Weights: true})
		if _, listed := unsupportedModels[name]; listed {
			if !errors.Is(err, ErrUnsupported) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: Build = %v, want one line wrapping ErrUnsupported", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		gr, err := g.Model.Graph()
		if err != nil {
			t.Errorf("%s: the gradient graph is invalid: %v", name, err)
			continue
		}
		var ins, outs []string
		for _, v := range gr.Inputs {
			ins = append(ins, v.Name)
		}
		for _, v := range gr.Outputs {
			outs = append(outs, v.Name)
		}
		if want := []string{g.Input, g.Labels}; !slices.Equal(ins, want) {
			t.Errorf("%s: inputs %q, want %q", name, ins, want)
		}
		want := append([]string{g.Logits, g.Loss, g.InputGrad}, g.ParamGrads...)
		for _, o := range g.Outputs {
			if o != g.Logits {
				want = append(want, o)
			}
		}
		if !slices.Equal(outs, want) {
			t.Errorf("%s: outputs %q, want %q", name, outs, want)
		}
		if gr.Opset < emitOpset {
			t.Errorf("%s: opset %d, want at least %d", name, gr.Opset, emitOpset)
		}
	}
}

// TestEveryRuleTested keeps TestOperatorsMatchInterpreter's table in step
// with the registry.
func TestEveryRuleTested(t *testing.T) {
	want := []string{"Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Celu", "Clip", "Concat", "Conv", "ConvTranspose", "CumSum", "DepthToSpace", "DequantizeLinear", "Div", "Dropout",
		"Elu", "Erf", "Exp", "Expand", "Flatten", "Gather", "GatherElements", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "HardSigmoid", "HardSwish",
		"Identity", "InstanceNormalization", "LayerNormalization", "LeakyRelu", "Log", "LogSoftmax", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mish", "Mul", "Neg", "PRelu", "Pad",
		"Pow", "QuantizeLinear", "Reciprocal", "ReduceLogSumExp", "ReduceMean", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize", "Selu", "Sigmoid", "Slice", "Softmax", "Softplus", "Softsign", "SpaceToDepth", "Split", "Sqrt",
		"Squeeze", "Sub", "Sum", "Tanh", "ThresholdedRelu", "Tile", "Transpose", "Unsqueeze", "Where"}
	if got := Supported(); !slices.Equal(got, want) {
		t.Errorf("operators with rules %v, tested %v: add a case to TestOperatorsMatchInterpreter (or a test of its own) and to this list", got, want)
	}
}

// TestGraphSharesWeights checks that the gradient graph holds the source
// model's weights without copying their bytes, and keeps them when the
// source's initializers are replaced afterwards, as export replaces them.
func TestGraphSharesWeights(t *testing.T) {
	m, err := onnx.Load("../testdata/models/fmnist_cnn.onnx")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := m.Proto.GetGraph().GetInitializer()
	own := map[string]*onnx.TensorProto{}
	for _, tp := range g.Model.Proto.GetGraph().GetInitializer() {
		own[tp.GetName()] = tp
	}
	shared := 0
	for _, tp := range src {
		c := own[tp.GetName()]
		if c == nil || c == tp {
			t.Fatalf("initializer %q: the graph has %p, the model %p; want a copy of its own", tp.GetName(), c, tp)
		}
		if len(tp.RawData) > 0 {
			if &c.RawData[0] != &tp.RawData[0] {
				t.Errorf("initializer %q: the graph copied its %d bytes of raw data", tp.GetName(), len(tp.RawData))
			}
			shared++
		}
	}
	if shared == 0 {
		t.Fatal("fmnist_cnn has no raw-data initializers to check")
	}
	before, err := g.Model.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range src {
		if len(tp.RawData) > 0 {
			tp.RawData = make([]byte, len(tp.RawData)) // new weights, all zero
		}
	}
	after, err := g.Model.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, after) {
		t.Error("replacing the model's initializers changed the gradient graph built before")
	}
}

// TestTwoContributionsAdd checks that two gradient contributions of one
// value are summed by an Add (ONNX Runtime's CPU provider runs Sum on one
// thread): resblock's residual sum sends its gradient down two branches
// that meet again at the block's input.
func TestTwoContributionsAdd(t *testing.T) {
	m, err := onnx.Load("../testdata/models/resblock.onnx")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(m, &Options{Weights: true})
	if err != nil {
		t.Fatal(err)
	}
	summed := 0
	for _, n := range g.Model.Proto.GetGraph().GetNode() {
		switch {
		case n.GetOpType() == "Sum" && len(n.GetInput()) == 2:
			t.Errorf("node %q sums two contributions with Sum; want Add", n.GetName())
		case n.GetOpType() == "Add" && strings.HasPrefix(n.GetName(), "grad/"):
			summed++
		}
	}
	if summed == 0 {
		t.Error("resblock's gradient graph adds no two contributions: nothing checked")
	}
}
