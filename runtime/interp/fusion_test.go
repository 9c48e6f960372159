package interp

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
	"google.golang.org/protobuf/proto"
)

// TestPoolFusion compiles the CNNs under testdata with and without the
// Conv-MaxPool fusion and compares, on the vector kernels (their Go twins
// where the CPU has no assembly): both pairs of each are fused, inference
// gives the same logits bit for bit, and a backward pass the same loss and
// gradients up to the order of float sums.
func TestPoolFusion(t *testing.T) {
	for _, name := range []string{"bench_mnist", "bench_cifar", "fmnist_cnn"} {
		fused := loadProgramWith(t, name, &Options{Seed: 1, Kernels: KernelsOn})
		apart := loadProgramWith(t, name, &Options{Seed: 1, Kernels: KernelsOn, NoPoolFusion: true})
		if want := len(apart.nodes) - 2; len(fused.nodes) != want {
			t.Errorf("%s: %d nodes fused, want %d (two Conv-MaxPool pairs joined)", name, len(fused.nodes), want)
		}
		shape := []int{5}
		for _, d := range fused.Input.Shape[1:] {
			shape = append(shape, int(d))
		}
		x := &Tensor{Shape: shape}
		rng := rand.New(rand.NewPCG(1, 2))
		for range x.Len() {
			x.Data = append(x.Data, rng.Float32())
		}
		labels := []int{0, 1, 2, 3, 4}
		var outs [2][]float32
		var res [2]*Result
		for i, p := range []*Program{fused, apart} {
			out, err := p.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = slices.Clone(out[0].Data)
			r, err := p.Grad(x, labels, Want{Input: true, Params: true})
			if err != nil {
				t.Fatal(err)
			}
			res[i] = &Result{Loss: r.Loss, Input: &Tensor{Shape: r.Input.Shape, Data: slices.Clone(r.Input.Data)}}
			for _, g := range r.Params {
				var c *Tensor
				if g != nil {
					c = &Tensor{Shape: g.Shape, Data: slices.Clone(g.Data)}
				}
				res[i].Params = append(res[i].Params, c)
			}
		}
		if !slices.Equal(outs[0], outs[1]) {
			t.Errorf("%s: fused inference gives %v, the separate ops %v", name, outs[0], outs[1])
		}
		if d := res[0].Loss - res[1].Loss; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s: loss %v fused, %v apart", name, res[0].Loss, res[1].Loss)
		}
		if e := maxRelErr(res[0].Input.Data, res[1].Input.Data, 1e-3); e > 1e-5 {
			t.Errorf("%s: input gradients differ by %g relative", name, e)
		}
		for i, g := range res[1].Params {
			if g == nil {
				continue
			}
			// A bias gradient sums every pixel's, in another order.
			if e := maxRelErr(res[0].Params[i].Data, g.Data, 1e-3); e > 1e-4 {
				t.Errorf("%s: gradient of %s differs by %g relative", name, fused.Params()[i].Name, e)
			}
		}
	}
}

// TestReluFusion checks that every Relu reading a Conv's output alone is
// folded into the Conv by the rule ops register (ops.Fusions), pool
// fusion on or off: the compiled program has no such pair left.
func TestReluFusion(t *testing.T) {
	for _, name := range []string{"bench_mnist", "bench_cifar", "fmnist_cnn"} {
		for _, pools := range []bool{true, false} {
			p := loadProgramWith(t, name, &Options{Seed: 1, NoPoolFusion: !pools})
			convOut := map[string]bool{}
			for _, n := range p.Graph.Nodes {
				if n.OpType == "Conv" {
					convOut[n.Outputs[0]] = true
				}
			}
			pairs := 0
			for _, n := range p.Graph.Nodes {
				if n.OpType == "Relu" && convOut[n.Inputs[0]] {
					pairs++
				}
			}
			if pairs == 0 {
				t.Fatalf("%s: the model has no Conv-Relu pair to fuse", name)
			}
			for _, nd := range p.nodes {
				if nd.n.OpType == "Relu" && convOut[nd.n.Inputs[0]] {
					t.Errorf("%s (pool fusion %v): Relu %s was left apart from its Conv", name, pools, nd.n)
				}
			}
		}
	}
}

// TestGateFusion checks the gate rules (ops/gate.go, ops/convgate.go) on
// the small MobileNet-style model, as exported (HardSigmoid gates) and
// with its HardSigmoids turned into Sigmoids (SiLU gates): the two x·g(x)
// pairs are joined, and into the Convs before them, the squeeze-and-excitation Mul (whose other input is not
// g's) and the Sigmoid(x)·Tanh(x) Mul are not, logits are bit-identical
// to the unfused program's and gradients equal up to float rounding.
func TestGateFusion(t *testing.T) {
	for _, g := range []string{"HardSigmoid", "Sigmoid"} {
		m, err := onnx.Load(filepath.Join(modelDir, "mobile.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range m.Proto.Graph.Node {
			if n.GetOpType() == "HardSigmoid" && g == "Sigmoid" {
				n.OpType, n.Attribute = proto.String("Sigmoid"), nil
			}
		}
		fused, err := Compile(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := compile(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		apart, err := Compile(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		apart.nodes = raw.nodes
		apart.findLastUses()
		if gated, joined, inConv := gatesJoined(m, fused, g); gated != 2 || joined != 2 || inConv != 2 {
			t.Errorf("%s: %d of %d gates joined, %d of them into their Conv, want 2 of 2, both", g, joined, gated, inConv)
		}
		x := &Tensor{Shape: slices.Clone(fused.Shapes()[fused.Input.Name])}
		x.Shape[0] = 3
		rng := rand.New(rand.NewPCG(3, 4))
		for range ops.Numel(x.Shape) {
			x.Data = append(x.Data, 2*rng.Float32()-1)
		}
		labels := []int{0, 1, 2}
		// Storage given back is poisoned with NaN, so a gate reading a
		// value it did not keep would show; the fused program runs an
		// attack's pass first, so the compared pass reuses its storage.
		fused.buffers.Poison = true
		if _, err := fused.Grad(x, labels, Want{Input: true}); err != nil {
			t.Fatal(err)
		}
		var res [2]*Result
		for i, p := range []*Program{fused, apart} {
			r, err := p.Grad(x, labels, Want{Input: true, Params: true})
			if err != nil {
				t.Fatal(err)
			}
			res[i] = &Result{Loss: r.Loss, Logits: cloneTensor(r.Logits), Input: cloneTensor(r.Input)}
			for _, g := range r.Params {
				res[i].Params = append(res[i].Params, cloneTensor(g))
			}
		}
		if !slices.Equal(res[0].Logits.Data, res[1].Logits.Data) {
			t.Errorf("%s: fused logits %v, apart %v", g, res[0].Logits.Data, res[1].Logits.Data)
		}
		if e := maxRelErr(res[0].Input.Data, res[1].Input.Data, 1e-3); e > 1e-5 {
			t.Errorf("%s: input gradients differ by %g relative", g, e)
		}
		for i, w := range res[1].Params {
			if w == nil {
				continue
			}
			// The fused gate's derivative rounds differently from Sigmoid's
			// and Mul's apart (one expression, not two ops' rules), and a
			// weight gradient sums those over the batch and the image:
			// 1.1e-5 on OpenBLAS's summation order, under 1e-5 on gonum's.
			if e := maxRelErr(res[0].Params[i].Data, w.Data, 1e-3); e > 3e-5 {
				t.Errorf("%s: gradient of %s differs by %g relative", g, fused.Params()[i].Name, e)
			}
		}
	}
}

// gatesJoined counts the gates' Muls of model m (g's type of gate), the
// nodes of the fused program that write their output, the gate's own or a
// Conv that joined the gate in turn (ops/convgate.go), and those Convs.
func gatesJoined(m *onnx.Model, fused *Program, g string) (gates, joined, inConv int) {
	gateOf := map[string]string{} // g's output → its input
	for _, n := range m.Proto.Graph.Node {
		if n.GetOpType() == g {
			gateOf[n.Output[0]] = n.Input[0]
		}
	}
	gated := map[int]bool{}
	for _, n := range m.Proto.Graph.Node {
		if n.GetOpType() == "Mul" && (gateOf[n.Input[0]] == n.Input[1] || gateOf[n.Input[1]] == n.Input[0]) {
			gated[fused.slots[n.Output[0]]] = true
		}
	}
	for _, nd := range fused.nodes {
		if (nd.n.OpType == g || nd.n.OpType == "Conv") && gated[nd.out[0]] {
			joined++
			if nd.n.OpType == "Conv" {
				inConv++
			}
		}
	}
	return len(gated), joined, inConv
}

// cloneTensor copies a float tensor out of storage a later pass reuses;
// nil stays nil.
func cloneTensor(t *Tensor) *Tensor {
	if t == nil {
		return nil
	}
	return &Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
}

// TestChainFusion compiles the small MobileNet-V2 and -V3 under testdata
// with and without the fusion of each 1×1 expand layer with the depthwise
// layer after it (ops.ChainFusion): each model has three such pairs, all
// joined, and the convolutions' plans are the unfused program's;
// inference, an attack's pass and a training pass (whose forward passes
// run the pairs in blocks of channels on these 16×16 and 8×8 planes) give
// the logits and every gradient bit for bit, with the storage the pairs
// give back poisoned, and the logits agree with PyTorch's. With one
// depthwise layer's weights passed through an Identity node placed
// between the two Convs, that pair stays apart (its weights are not there
// yet where the fused node would run) and the rest still agree.
func TestChainFusion(t *testing.T) {
	for _, name := range []string{"mnv2_blocks", "mnv3_blocks", "mnv2_blocks with a computed weight"} {
		m, err := onnx.Load(filepath.Join(modelDir, strings.Fields(name)[0]+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		pairs := 3
		if strings.Contains(name, "computed") {
			pairs = 2
			computeFirstDepthwiseWeight(t, m)
		}
		fused, err := Compile(m, &Options{Seed: 1, Kernels: KernelsOn})
		if err != nil {
			t.Fatal(err)
		}
		apart, err := Compile(m, &Options{Seed: 1, Kernels: KernelsOn, NoChainFusion: true})
		if err != nil {
			t.Fatal(err)
		}
		chains := 0
		for _, nd := range fused.nodes {
			if _, ok := nd.op.(ops.ConvChained); ok {
				chains++
			}
		}
		if chains != pairs || len(fused.nodes) != len(apart.nodes)-pairs {
			t.Errorf("%s: %d pairs joined, %d nodes against %d apart; want %d pairs", name, chains, len(fused.nodes), len(apart.nodes), pairs)
		}
		if got, want := fused.ConvPlans(), apart.ConvPlans(); !slices.Equal(got, want) {
			t.Errorf("%s: convolutions planned %v, apart %v", name, got, want)
		}
		comparePyTorch(t, strings.Fields(name)[0], fused)
		x := readNpy(t, filepath.Join(modelDir, strings.Fields(name)[0]+".input.npy"))
		labels := []int{3, 7}
		fused.buffers.Poison = true
		for _, want := range []Want{{Input: true}, {Input: true, Params: true}, {Mode: Mode{Training: true}, Params: true}} {
			var grads [2][][]float32
			for i, p := range []*Program{fused, apart} {
				out, err := p.Run(x)
				if err != nil {
					t.Fatal(err)
				}
				grads[i] = append(grads[i], slices.Clone(out[0].Data))
				r, err := p.Grad(x, labels, want)
				if err != nil {
					t.Fatal(err)
				}
				if r.Input != nil {
					grads[i] = append(grads[i], slices.Clone(r.Input.Data))
				}
				for _, g := range r.Params {
					if g != nil {
						grads[i] = append(grads[i], slices.Clone(g.Data))
					}
				}
				r.Release()
			}
			if len(grads[0]) != len(grads[1]) || len(grads[0]) < 2 {
				t.Fatalf("%s, %+v: %d results fused, %d apart", name, want, len(grads[0]), len(grads[1]))
			}
			for k := range grads[0] {
				if !slices.Equal(grads[0][k], grads[1][k]) {
					t.Errorf("%s, %+v: result %d (logits, then gradients) differs from the unfused program's", name, want, k)
				}
			}
		}
	}
}

// computeFirstDepthwiseWeight passes the weights of m's first depthwise
// Conv (group > 1) after a 1×1 Conv and its Clip through an Identity node
// placed just before it, after the 1×1 Conv.
func computeFirstDepthwiseWeight(t *testing.T, m *onnx.Model) {
	t.Helper()
	g := m.Proto.GetGraph()
	attr := func(n *onnx.NodeProto, name string) *onnx.AttributeProto {
		for _, a := range n.GetAttribute() {
			if a.GetName() == name {
				return a
			}
		}
		return nil
	}
	writer := map[string]*onnx.NodeProto{}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			writer[o] = n
		}
	}
	for i, n := range g.GetNode() {
		if n.GetOpType() != "Conv" || attr(n, "group").GetI() < 2 {
			continue
		}
		clip := writer[n.GetInput()[0]]
		if clip == nil || clip.GetOpType() != "Clip" {
			continue
		}
		if prev := writer[clip.GetInput()[0]]; prev == nil || prev.GetOpType() != "Conv" || !slices.Equal(attr(prev, "kernel_shape").GetInts(), []int64{1, 1}) {
			continue
		}
		id := &onnx.NodeProto{OpType: proto.String("Identity"), Name: proto.String("computed_weight"),
			Input: []string{n.GetInput()[1]}, Output: []string{"computed_weight"}}
		n.Input[1] = "computed_weight"
		g.Node = slices.Insert(g.Node, i, id)
		return
	}
	t.Fatal("no depthwise Conv after a 1×1 Conv and its Clip")
}
