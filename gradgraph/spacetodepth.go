package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// SpaceToDepth only moves elements: DepthToSpace in DCR mode undoes it.
func init() {
	register("SpaceToDepth", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		bs, err := n.Int("blocksize", 0)
		if err != nil {
			return nil, err
		}
		return []string{b.op("DepthToSpace", []string{dy[0]}, aInt("blocksize", bs), aStr("mode", "DCR"))}, nil
	})
}
