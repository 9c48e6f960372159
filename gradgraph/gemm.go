package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Gemm, y = alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A (B' alike):
// each operand's gradient is itself a Gemm of dy and the other operand,
// C's is beta·dy summed to C's shape.
func init() {
	register("Gemm", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		alpha, err := n.Float("alpha", 1)
		if err != nil {
			return nil, err
		}
		beta, err := n.Float("beta", 1)
		if err != nil {
			return nil, err
		}
		ta, err := n.Int("transA", 0)
		if err != nil {
			return nil, err
		}
		tb, err := n.Int("transB", 0)
		if err != nil {
			return nil, err
		}
		a, w, g := n.Inputs[0], n.Inputs[1], dy[0]
		gemm := func(x, y string, tx, ty int64) string {
			return b.op("Gemm", []string{x, y}, aFloat("alpha", alpha), aInt("transA", tx), aInt("transB", ty))
		}
		out := make([]string, len(n.Inputs))
		if b.needs(n, 0) {
			if ta == 0 {
				out[0] = gemm(g, w, 0, 1-tb)
			} else {
				out[0] = gemm(w, g, tb, 1)
			}
		}
		if b.needs(n, 1) {
			if tb == 0 {
				out[1] = gemm(a, g, 1-ta, 0)
			} else {
				out[1] = gemm(g, a, 1, ta)
			}
		}
		if b.needs(n, 2) {
			gc := g
			if beta != 1 {
				gc = b.op("Mul", []string{g, b.scalar(beta)})
			}
			if out[2], err = b.sumTo(gc, n.Outputs[0], n.Inputs[2]); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}
