package ops

import (
	"fmt"

	"github.com/onnxguard/onnxguard/onnx"
)

// DequantizeLinear: opset 10 per tensor, 13 per axis too.
func init() {
	register("DequantizeLinear", 10, newDequantizeLinear(false))
	register("DequantizeLinear", 13, newDequantizeLinear(true))
}

// dequantizeLinear maps integers back to floats: y = (x − zero_point)·scale.
// Its gradient, straight through to the integer input, is dy·scale (see
// quantizelinear.go); scale and zero_point get none.
type dequantizeLinear struct{ quantAxis }

func newDequantizeLinear(perAxis bool) constructor {
	return func(n *Node) (Op, error) {
		qa, err := newQuantAxis(n, perAxis)
		if err != nil {
			return nil, err
		}
		return &dequantizeLinear{qa}, nil
	}
}

func (o *dequantizeLinear) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil || !in[0].IsInt() {
		return nil, fmt.Errorf("input 0 (x) must hold integers")
	}
	x := in[0]
	// x may be an int32 bias: its zero point is then int32 too (and 0).
	q, err := readQuantParams(in, 1, 2, x.Shape, o.axis, o.perAxis, x.Elem == onnx.TensorProto_INT32)
	if err != nil {
		return nil, err
	}
	y := s.alloc(false, append([]int(nil), x.Shape...)...)
	forChunks(x.Len(), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			k := q.at(i)
			y.Data[i] = float32(x.Ints[i]-q.zero[k]) * q.scale[k]
		}
	})
	s.SetAux(q)
	return []*Tensor{y}, nil
}

func (o *dequantizeLinear) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	q, ok := s.Aux().(*quantParams)
	if !ok {
		return nil, fmt.Errorf("DequantizeLinear: backward without a forward pass")
	}
	dx := like(dy[0])
	for i, g := range dy[0].Data {
		dx.Data[i] = g * q.scale[q.at(i)]
	}
	return []*Tensor{dx, nil, nil}, nil
}
