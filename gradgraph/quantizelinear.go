package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// QuantizeLinear, q = saturate(round(x/scale) + zero): the straight-through
// gradient dx = dy/scale where round(x/scale) + zero fell inside the
// integer type's range, 0 where it was clipped, as in the interpreter.
func init() {
	register("QuantizeLinear", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		out := make([]string, len(n.Inputs))
		if !b.needs(n, 0) {
			return out, nil
		}
		scale, dims, err := b.quantScale(n)
		if err != nil {
			return nil, err
		}
		lo, hi := float32(0), float32(255)
		v := b.op("Round", []string{b.op("Div", []string{n.Inputs[0], scale})})
		if len(n.Inputs) > 2 && n.Inputs[2] != "" {
			zp := n.Inputs[2]
			if t := b.g.InitializerProto(zp); t != nil && onnx.TensorProto_DataType(t.GetDataType()) == onnx.TensorProto_INT8 {
				lo, hi = -128, 127
			}
			zf := b.op("Cast", []string{zp}, aInt("to", int64(onnx.TensorProto_FLOAT)))
			if dims != nil {
				zf = b.op("Reshape", []string{zf, b.int64s(dims...)})
			}
			v = b.op("Add", []string{v, zf})
		}
		inside := b.op("And", []string{b.op("GreaterOrEqual", []string{v, b.scalar(lo)}), b.op("LessOrEqual", []string{v, b.scalar(hi)})})
		out[0] = b.where(inside, b.op("Div", []string{dy[0], scale}))
		return out, nil
	})
}
