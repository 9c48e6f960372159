package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Transpose: dx is dy transposed by the inverse permutation.
func init() {
	register("Transpose", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		perm, err := n.Ints("perm", nil)
		if err != nil {
			return nil, err
		}
		if perm == nil {
			s, err := b.shape(n.Inputs[0])
			if err != nil {
				return nil, err
			}
			for i := range s {
				perm = append(perm, int64(len(s)-1-i))
			}
		}
		inv := make([]int64, len(perm))
		for i, p := range perm {
			if p < 0 || int(p) >= len(perm) {
				return nil, unsupported("perm %v", perm)
			}
			inv[p] = int64(i)
		}
		return []string{b.op("Transpose", []string{dy[0]}, aInts("perm", inv...))}, nil
	})
}
