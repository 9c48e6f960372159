package gradgraph

import (
	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
)

// Resize of the two spatial axes of an NCHW tensor is separable: y = Rh·x·Rwᵀ
// with Rh (Hout×H) and Rw (Wout×W) the interpolation matrices, so dx =
// Rhᵀ·dy·Rw. Each matrix is ONNX Runtime's own: the same Resize, with the
// node's attributes, applied to an identity laid along one axis, which ONNX
// Runtime folds into a constant; so every mode, coordinate transformation
// and rounding rule is the forward pass's exactly.
func init() {
	register("Resize", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		xs, err := b.shape(n.Inputs[0])
		if err != nil {
			return nil, err
		}
		ys, err := b.shape(n.Outputs[0])
		if err != nil {
			return nil, err
		}
		if len(xs) != 4 || xs[1] != ys[1] || n.Has("axes") {
			return nil, unsupported("Resize of %v to %v: only the two spatial axes of an NCHW tensor", xs, ys)
		}
		if mode, _ := n.Str("coordinate_transformation_mode", "half_pixel"); mode == "tf_crop_and_resize" {
			return nil, unsupported("coordinate_transformation_mode tf_crop_and_resize")
		}
		scales := ""
		if len(n.Inputs) > 2 && n.Inputs[2] != "" {
			scales = n.Inputs[2]
		}
		sizes := len(n.Inputs) > 3 && n.Inputs[3] != ""
		var sc []float32
		if !sizes {
			var ok bool
			if sc, ok = b.constFloats(scales); !ok || len(sc) != 4 || sc[0] != 1 || sc[1] != 1 {
				return nil, unsupported("Resize scales %v: constant, 1 on the batch and channel axes", sc)
			}
		}
		h, w, ho, wo := int64(xs[2]), int64(xs[3]), int64(ys[2]), int64(ys[3])
		along := func(axis int, in, out int64, s float32) string {
			dims, outDims := []int64{in, 1, 1, 1}, []int64{in, 1, 1, 1}
			dims[axis], outDims[axis] = in, out
			eye := make([]float32, in*in)
			for i := range in {
				eye[i*in+i] = 1
			}
			ins := []string{b.floats(dims, eye), ""}
			if sizes {
				ins = append(ins, "", b.int64s(outDims...))
			} else {
				factors := []float32{1, 1, 1, 1}
				factors[axis] = s
				ins = append(ins, b.floats([]int64{4}, factors))
			}
			r := b.op("Resize", ins, cloneAttrs(n)...)
			return b.op("Reshape", []string{r, b.int64s(in, out)})
		}
		var sh, sw float32
		if sc != nil {
			sh, sw = sc[2], sc[3]
		}
		rhT := along(2, h, ho, sh)
		rwT := along(3, w, wo, sw)
		dx := b.op("MatMul", []string{b.op("MatMul", []string{rhT, dy[0]}), b.op("Transpose", []string{rwT}, aInts("perm", 1, 0))})
		return []string{dx}, nil
	})
}

func cloneAttrs(n *onnx.Node) []*onnx.AttributeProto {
	var out []*onnx.AttributeProto
	for _, a := range n.Proto.GetAttribute() {
		out = append(out, proto.Clone(a).(*onnx.AttributeProto))
	}
	return out
}
