package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// MatMul (rank 2 or more, batch axes broadcast): da = dy·bᵀ, db = aᵀ·dy,
// each summed over the batch axes its operand was broadcast along.
func init() {
	register("MatMul", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		a, w := n.Inputs[0], n.Inputs[1]
		for _, in := range []string{a, w} {
			if s, err := b.shape(in); err != nil || len(s) < 2 {
				return nil, unsupported("MatMul of a rank-%d operand (%v)", len(s), err)
			}
		}
		ys, err := b.shape(n.Outputs[0])
		if err != nil {
			return nil, err
		}
		out := make([]string, 2)
		if b.needs(n, 0) {
			if g, ok := b.timesWeightT(dy[0], w, ys, a); ok {
				out[0] = g
			} else {
				out[0] = b.sumToBatch(b.op("MatMul", []string{dy[0], b.swapLast(w)}), ys, a)
			}
		}
		if b.needs(n, 1) {
			if g, ok := b.rowsTimesGrad(a, dy[0], w, ys); ok {
				out[1] = g
			} else {
				out[1] = b.sumToBatch(b.op("MatMul", []string{b.swapLast(a), dy[0]}), ys, w)
			}
		}
		return out, nil
	})
}

// rowsTimesGrad returns the gradient of a matrix w, [K, F], multiplying a
// of rank 3 or more, [..., K], as one product aᵀ·dy over a's and dy's rows
// laid end to end ([K, R]·[R, F], R the rows of every sample): the batched
// product and the sum over the batch axes it replaces write and read a
// [..., K, F] tensor, one weight matrix per sample (ViT-B/16 at batch 4:
// 12 ReduceSums of 87 ms each over its MLP's 768×3072 matrices).
func (b *builder) rowsTimesGrad(a, dy, w string, ys []int) (string, bool) {
	ws, as := b.shapes[w], b.shapes[a]
	if len(ws) != 2 || ws[0] <= 0 || ws[1] <= 0 || len(as) < 3 || len(ys) != len(as) {
		return "", false
	}
	k, f := int64(ws[0]), int64(ws[1])
	rows := b.op("Reshape", []string{a, b.int64s(-1, k)})
	g := b.op("MatMul", []string{b.op("Transpose", []string{rows}, aInts("perm", 1, 0)), b.op("Reshape", []string{dy, b.int64s(-1, f)})})
	return g, true
}

// swapLast transposes the last two axes of x.
func (b *builder) swapLast(x string) string {
	s := b.shapes[x]
	perm := make([]int64, len(s))
	for i := range perm {
		perm[i] = int64(i)
	}
	perm[len(s)-1], perm[len(s)-2] = perm[len(s)-2], perm[len(s)-1]
	return b.op("Transpose", []string{x}, aInts("perm", perm...))
}

// sumToBatch sums g, a matrix gradient with the batch axes of a MatMul's
// output ys, over the batch axes operand x was broadcast along.
func (b *builder) sumToBatch(g string, ys []int, x string) string {
	xs := b.shapes[x]
	full := append(append([]int(nil), ys[:len(ys)-2]...), xs[len(xs)-2:]...)
	return b.sumToShapes(g, full, xs, x)
}

// timesWeightT returns dy·wᵀ as a Gemm with transB where w is a matrix
// initializer: ONNX Runtime folds a Transpose of an initializer into a
// second copy of the weight, as large as the model's linear layers. dy,
// of shape ys, is flattened to rows and the product given a's shape.
func (b *builder) timesWeightT(dy, w string, ys []int, a string) (string, bool) {
	ws, as := b.shapes[w], b.shapes[a]
	if !b.isWeight(w) || len(ws) != 2 || len(as) != len(ys) ||
		countOf(ys[:len(ys)-1], -1) > 1 || countOf(as, -1) > 1 {
		return "", false
	}
	rows := b.op("Reshape", []string{dy, b.int64s(-1, int64(ws[1]))})
	return b.reshapeLike(b.op("Gemm", []string{rows, w}, aInt("transB", 1)), a), true
}

// isWeight reports whether w is an initializer or an Identity of one (as
// exporters write a weight that two layers share).
func (b *builder) isWeight(w string) bool {
	if b.g.InitializerProto(w) != nil {
		return true
	}
	p := b.producer(w)
	return p != nil && p.OpType == "Identity" && b.g.InitializerProto(p.Inputs[0]) != nil
}
