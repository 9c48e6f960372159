package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// DepthToSpace only moves elements: in DCR mode SpaceToDepth undoes it; in
// CRD mode dy is laid back out by the inverse reshape and transpose.
func init() {
	register("DepthToSpace", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		bs, err := n.Int("blocksize", 0)
		if err != nil {
			return nil, err
		}
		mode, err := n.Str("mode", "DCR")
		if err != nil {
			return nil, err
		}
		if mode == "DCR" {
			return []string{b.op("SpaceToDepth", []string{dy[0]}, aInt("blocksize", bs))}, nil
		}
		xs, err := b.shape(n.Inputs[0])
		if err != nil {
			return nil, err
		}
		if len(xs) != 4 {
			return nil, unsupported("DepthToSpace of rank %d", len(xs))
		}
		c, h, w := int64(xs[1])/(bs*bs), int64(xs[2]), int64(xs[3])
		t := b.op("Reshape", []string{dy[0], b.int64s(0, c, h, bs, w, bs)})
		t = b.op("Transpose", []string{t}, aInts("perm", 0, 1, 3, 5, 2, 4))
		return []string{b.op("Reshape", []string{t, b.int64s(0, c*bs*bs, h, w)})}, nil
	})
}
