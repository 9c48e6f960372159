package ops

import (
	"fmt"

	"github.com/onnxguard/onnxguard/onnx"
)

func init() {
	register("DynamicQuantizeLinear", 11, func(*Node) (Op, error) { return &dynamicQuantize{}, nil })
}

// dynamicQuantize quantizes x to uint8 with a scale and zero point taken
// from x itself: the range [min(0, min x), max(0, max x)] spread over 0..255,
// zero point round(−min/scale) saturated; outputs y, y_scale, y_zero_point.
// Gradient: straight through, dy / y_scale (quantizelinear.go), the scale
// and zero point held constant; an all-zero x gives scale 0 and 0 back.
type dynamicQuantize struct{}

func (o *dynamicQuantize) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "x")
	if err != nil {
		return nil, err
	}
	var lo, hi float32
	for _, v := range x.Data {
		if v != v {
			return nil, fmt.Errorf("DynamicQuantizeLinear: x holds NaN")
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	q := &quantParams{lo: 0, hi: 255, elem: onnx.TensorProto_UINT8, d: 1, inner: 1}
	scale := (hi - lo) / 255
	var zero int64
	if scale > 0 {
		zero, _ = q.quantize(0-lo/scale, 0)
	}
	y := NewInts(append([]int(nil), x.Shape...), make([]int64, x.Len()))
	y.Elem = onnx.TensorProto_UINT8
	pass := make([]bool, x.Len())
	for i, v := range x.Data {
		if scale > 0 {
			y.Ints[i], pass[i] = q.quantize(v/scale, zero)
		}
	}
	q.scale, q.zero = []float32{scale}, []int64{zero}
	s.SetAux(quantSaved{q: q, pass: pass})
	zp := NewInts(nil, []int64{zero})
	zp.Elem = onnx.TensorProto_UINT8
	return []*Tensor{y, {Shape: nil, Data: []float32{scale}}, zp}, nil
}

func (o *dynamicQuantize) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(quantSaved)
	if !ok {
		return nil, fmt.Errorf("DynamicQuantizeLinear: backward without a forward pass")
	}
	if dy[0] == nil { // only y_scale or y_zero_point was reached: held constant
		return []*Tensor{nil}, nil
	}
	dx := like(dy[0])
	for i, g := range dy[0].Data {
		if a.pass[i] {
			dx.Data[i] = g / a.q.scale[0]
		}
	}
	return []*Tensor{dx}, nil
}
