package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

func init() { register("Identity", passThrough) }

// passThrough is the rule of ops that copy their first input.
func passThrough(b *builder, n *onnx.Node, dy []string) ([]string, error) {
	return []string{dy[0]}, nil
}
