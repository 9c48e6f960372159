package ops

import (
	"fmt"

	"github.com/onnxguard/onnxguard/onnx"
)

// CastLike (opset 15) is Cast to the element type of its second input.
func init() { register("CastLike", 15, func(*Node) (Op, error) { return &castLike{}, nil }) }

// castLike reads the target type from target_type's Elem where it is
// known (initializers, Constants, graph inputs of the node tests); a
// tensor computed in the graph has lost it, and then its kind decides:
// float32 for floats, int64 for integers. Gradients pass as Cast's.
type castLike struct{ cast }

func (c *castLike) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, fmt.Errorf("CastLike needs input and target_type")
	}
	to := in[1].Elem
	if to == 0 {
		to = onnx.TensorProto_FLOAT
		if in[1].IsInt() {
			to = onnx.TensorProto_INT64
		}
	}
	switch to {
	case onnx.TensorProto_FLOAT, onnx.TensorProto_DOUBLE, onnx.TensorProto_FLOAT16, onnx.TensorProto_BFLOAT16,
		onnx.TensorProto_INT8, onnx.TensorProto_INT16, onnx.TensorProto_INT32, onnx.TensorProto_INT64,
		onnx.TensorProto_UINT8, onnx.TensorProto_UINT16, onnx.TensorProto_UINT32, onnx.TensorProto_UINT64,
		onnx.TensorProto_BOOL:
	default:
		return nil, fmt.Errorf("%w: CastLike to %v", ErrUnsupported, to)
	}
	c.cast = cast{to: to}
	outs, err := c.cast.Forward(s, in[:1])
	if err == nil && outs[0].IsInt() {
		outs[0].Elem = to
	}
	return outs, err
}

func (c *castLike) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	g, err := c.cast.Backward(s, dy)
	if err != nil {
		return nil, err
	}
	return append(g, nil), nil
}
