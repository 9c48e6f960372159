package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
)

// typed returns integers tagged with an ONNX element type, as an
// initializer of that type reads.
func typed(elem onnx.TensorProto_DataType, shape []int, v ...int64) *Tensor {
	t := NewInts(shape, v)
	t.Elem = elem
	return t
}

// TestQuantizeSaturatesByType checks rounding (half to even) and the
// range int8 and uint8 zero points give, per tensor and per axis.
func TestQuantizeSaturatesByType(t *testing.T) {
	x := nnFloats([]int{2, 3}, -300, -0.5, 0.5, 1.5, 2.5, 300)
	for _, test := range []struct {
		name  string
		opset int64
		scale *Tensor
		zero  *Tensor
		want  string
	}{
		{"uint8, no zero point", 10, nnFloats(nil, 1), nil, "[0 0 0 2 2 255]"},
		{"uint8 zero 128", 10, nnFloats(nil, 1), typed(onnx.TensorProto_UINT8, nil, 128), "[0 128 128 130 130 255]"},
		{"int8 zero 0", 13, nnFloats(nil, 1), typed(onnx.TensorProto_INT8, nil, 0), "[-128 0 0 2 2 127]"},
		{"int8 per axis", 13, nnFloats([]int{3}, 1, 0.5, 2), typed(onnx.TensorProto_INT8, []int{3}, 0, 1, -1),
			"[-128 0 -1 2 6 127]"},
	} {
		in := []*Tensor{x, test.scale}
		if test.zero != nil {
			in = append(in, test.zero)
		}
		y := forwardNN(t, newOp(t, "QuantizeLinear", nil, test.opset, len(in), 1), &State{}, in...)[0]
		if got := fmtInts(y); got != test.want {
			t.Errorf("%s: %s, want %s", test.name, got, test.want)
		}
	}
}

// TestQuantizeDequantizeStraightThrough checks the documented estimator:
// through a quantize-dequantize pair the gradient is dy inside the range
// and 0 where the value saturated.
func TestQuantizeDequantizeStraightThrough(t *testing.T) {
	scale, zero := nnFloats(nil, 0.1), typed(onnx.TensorProto_INT8, nil, 3)
	x := nnFloats([]int{5}, -20, -12.5, 0.04, 12.3, 13.1) // range: (-128-3)·0.1 … (127-3)·0.1
	q, dq := newOp(t, "QuantizeLinear", nil, 13, 3, 1), newOp(t, "DequantizeLinear", nil, 13, 3, 1)
	sq, sd := &State{Grad: true}, &State{Grad: true}
	y := forwardNN(t, dq, sd, forwardNN(t, q, sq, x, scale, zero)[0], scale, zero)[0]
	closeTo(t, "dequantized", y, nnFloats([]int{5}, -13.1, -12.5, 0, 12.3, 12.4))
	dy := nnFloats([]int{5}, 1, 2, 3, 4, 5)
	g1, err := dq.Backward(sd, []*Tensor{dy})
	if err != nil {
		t.Fatal(err)
	}
	g0, err := q.Backward(sq, []*Tensor{g1[0]})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "straight-through gradient", g0[0], nnFloats([]int{5}, 0, 2, 3, 4, 0))
}

// TestIntegerOpsGradients checks that MatMulInteger's and ConvInteger's
// straight-through gradients are MatMul's and Conv's on the centred values.
func TestIntegerOpsGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	ints := func(elem onnx.TensorProto_DataType, lo, hi int, shape ...int) *Tensor {
		v := make([]int64, Numel(shape))
		for i := range v {
			v[i] = int64(lo + rng.IntN(hi-lo+1))
		}
		return typed(elem, shape, v...)
	}
	for _, test := range []struct {
		name, op, float string
		attrs           attrs
		in              []*Tensor
		centred         func(in []*Tensor) []*Tensor
	}{
		{"matmulinteger per row and column", "MatMulInteger", "MatMul", nil,
			[]*Tensor{ints(onnx.TensorProto_UINT8, 0, 255, 2, 3, 4), ints(onnx.TensorProto_INT8, -128, 127, 4, 5),
				typed(onnx.TensorProto_UINT8, []int{3}, 1, 2, 3), typed(onnx.TensorProto_INT8, []int{5}, -1, 0, 1, 2, 3)},
			func(in []*Tensor) []*Tensor {
				return []*Tensor{centered(in[0], in[2].Ints, 3, 4), centered(in[1], in[3].Ints, 5, 1)}
			}},
		{"convinteger pads strides, per-channel w zero point", "ConvInteger", "Conv", attrs{"pads": []int64{1, 1, 1, 1}, "strides": []int64{2, 1}},
			[]*Tensor{ints(onnx.TensorProto_UINT8, 0, 255, 1, 2, 5, 5), ints(onnx.TensorProto_UINT8, 0, 255, 3, 2, 3, 3),
				typed(onnx.TensorProto_UINT8, nil, 7), typed(onnx.TensorProto_UINT8, []int{3}, 100, 120, 140)},
			func(in []*Tensor) []*Tensor {
				return []*Tensor{centered(in[0], in[2].Ints, 1, 1), centered(in[1], in[3].Ints, 3, 18)}
			}},
	} {
		s, op := &State{Grad: true}, newOp(t, test.op, test.attrs, 13, 4, 1)
		y := forwardNN(t, op, s, test.in...)[0]
		fop, fs := newOp(t, test.float, test.attrs, 13, 2, 1), &State{Grad: true}
		want := forwardNN(t, fop, fs, test.centred(test.in)...)[0]
		for i, v := range want.Data {
			if float64(y.Ints[i]) != math.Round(float64(v)) {
				t.Fatalf("%s: output %d = %d, want %g", test.name, i, y.Ints[i], v)
			}
		}
		dy := randTensor(rng, -1, 1, want.Shape...)
		got, err := op.Backward(s, []*Tensor{dy})
		if err != nil {
			t.Fatal(err)
		}
		wantG, err := fop.Backward(fs, []*Tensor{dy})
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, test.name+" dA", got[0], wantG[0])
		closeTo(t, test.name+" dB", got[1], wantG[1])
	}
}

// TestQLinearConvStraightThrough checks that the gradient through
// QuantizeLinear → QLinearConv → DequantizeLinear is the float Conv's on
// the dequantized weights, where nothing saturates; and that the forward
// pass is that Conv within one output step.
func TestQLinearConvStraightThrough(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	pads := attrs{"pads": []int64{1, 1, 1, 1}}
	x := randTensor(rng, 0, 1, 2, 2, 4, 4)
	xs, xz := nnFloats(nil, 1.0/255), typed(onnx.TensorProto_UINT8, nil, 0)
	wv := make([]int64, 3*2*3*3)
	for i := range wv {
		wv[i] = int64(rng.IntN(41) - 20)
	}
	w, ws, wz := typed(onnx.TensorProto_INT8, []int{3, 2, 3, 3}, wv...), nnFloats([]int{3}, 0.01, 0.02, 0.015), typed(onnx.TensorProto_INT8, []int{3}, 0, 0, 0)
	ys, yz := nnFloats(nil, 0.05), typed(onnx.TensorProto_UINT8, nil, 128)
	bias := typed(onnx.TensorProto_INT32, []int{3}, 100, -200, 0)

	q, qc, dq := newOp(t, "QuantizeLinear", nil, 13, 3, 1), newOp(t, "QLinearConv", pads, 10, 9, 1), newOp(t, "DequantizeLinear", nil, 13, 3, 1)
	sq, sc, sd := &State{Grad: true}, &State{Grad: true}, &State{Grad: true}
	xq := forwardNN(t, q, sq, x, xs, xz)[0]
	yq := forwardNN(t, qc, sc, xq, xs, xz, w, ws, wz, ys, yz, bias)[0]
	y := forwardNN(t, dq, sd, yq, ys, yz)[0]

	// The float model: Conv of the dequantized x and w plus the bias.
	xr := forwardNN(t, newOp(t, "DequantizeLinear", nil, 13, 3, 1), &State{}, xq, xs, xz)[0]
	wr := forwardNN(t, newOp(t, "DequantizeLinear", attrs{"axis": 0}, 13, 3, 1), &State{}, w, ws, wz)[0]
	br := NewFloat(3)
	for c := range br.Data {
		br.Data[c] = float32(bias.Ints[c]) * xs.Data[0] * ws.Data[c]
	}
	conv, scv := newOp(t, "Conv", pads, 13, 3, 1), &State{Grad: true}
	want := forwardNN(t, conv, scv, xr, wr, br)[0]
	for i, v := range want.Data {
		if d := math.Abs(float64(y.Data[i] - v)); d > 0.5*0.05+1e-6 {
			t.Fatalf("output %d = %g, the float Conv gives %g: more than half a step apart", i, y.Data[i], v)
		}
	}
	dy := randTensor(rng, -1, 1, want.Shape...)
	g, err := dq.Backward(sd, []*Tensor{dy})
	if err != nil {
		t.Fatal(err)
	}
	if g, err = qc.Backward(sc, g[:1]); err != nil {
		t.Fatal(err)
	}
	if g, err = q.Backward(sq, g[:1]); err != nil {
		t.Fatal(err)
	}
	wantG, err := conv.Backward(scv, []*Tensor{dy})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "straight-through dx", g[0], wantG[0])
}

// TestQuantizeRejects checks scales, zero points and attributes with no
// meaning: errors, not panics.
func TestQuantizeRejects(t *testing.T) {
	if _, err := New(makeNode(t, "QuantizeLinear", attrs{"axis": 0}, 3, 1), 10, ""); err == nil {
		t.Error("QuantizeLinear axis at opset 10: accepted")
	}
	x := nnFloats([]int{2, 2}, 1, 2, 3, 4)
	xi := typed(onnx.TensorProto_UINT8, []int{2, 2}, 1, 2, 3, 4)
	for _, test := range []opCase{
		{"zero scale", "QuantizeLinear", nil, 13, []*Tensor{x, nnFloats(nil, 0)}},
		{"negative scale", "DequantizeLinear", nil, 13, []*Tensor{xi, nnFloats(nil, -1)}},
		{"NaN scale", "QuantizeLinear", nil, 13, []*Tensor{x, nnFloats(nil, float32(math.NaN()))}},
		{"per-axis scale at opset 10", "QuantizeLinear", nil, 10, []*Tensor{x, nnFloats([]int{2}, 1, 1)}},
		{"scale of the wrong length", "QuantizeLinear", nil, 13, []*Tensor{x, nnFloats([]int{3}, 1, 1, 1)}},
		{"axis out of range", "QuantizeLinear", attrs{"axis": 5}, 13, []*Tensor{x, nnFloats([]int{2}, 1, 1)}},
		{"zero point past uint8", "QuantizeLinear", nil, 13, []*Tensor{x, nnFloats(nil, 1), typed(onnx.TensorProto_UINT8, nil, 300)}},
		{"int16 zero point", "QuantizeLinear", nil, 13, []*Tensor{x, nnFloats(nil, 1), typed(onnx.TensorProto_INT16, nil, 0)}},
		{"float zero point", "QuantizeLinear", nil, 13, []*Tensor{x, nnFloats(nil, 1), nnFloats(nil, 0)}},
		{"dequantize floats", "DequantizeLinear", nil, 13, []*Tensor{x, nnFloats(nil, 1)}},
		{"matmulinteger of floats", "MatMulInteger", nil, 10, []*Tensor{x, x}},
		{"matmulinteger zero point per column of A", "MatMulInteger", nil, 10, []*Tensor{xi, xi, typed(onnx.TensorProto_UINT8, []int{3}, 0, 0, 0)}},
		{"qlinearmatmul missing y scale", "QLinearMatMul", nil, 10, []*Tensor{xi, nnFloats(nil, 1), nil, xi, nnFloats(nil, 1), nil}},
		{"qlinearconv of a matrix", "QLinearConv", nil, 10, []*Tensor{xi, nnFloats(nil, 1), nil, xi, nnFloats(nil, 1), nil, nnFloats(nil, 1), nil}},
		{"dynamic quantize of NaN", "DynamicQuantizeLinear", nil, 11, []*Tensor{nnFloats([]int{1}, float32(math.NaN()))}},
	} {
		op := test.newOp(t)
		if _, err := op.Forward(&State{}, test.in); err == nil {
			t.Errorf("%s: accepted", test.name)
		}
	}
}
