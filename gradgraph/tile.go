package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Tile: the same Tile of x's element positions says where each of dy's
// elements came from; dy is added back there.
func init() {
	register("Tile", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		picked := b.op("Tile", []string{b.positions(n.Inputs[0]), n.Inputs[1]})
		return []string{b.scatterBack(n.Inputs[0], picked, dy[0], true), ""}, nil
	})
}
