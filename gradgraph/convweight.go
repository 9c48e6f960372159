package gradgraph

import (
	"fmt"
)

// A dense 2-D Conv's weight gradient as matrix products. The Conv of
// convWeightGrad runs on ONNX Runtime as a grouped convolution whose
// kernel is dy's whole plane and whose output is the weights' few taps: a
// product of a tall matrix by one of kh·kw columns, per input channel,
// which its kernels run several times slower than the same products as
// one GEMM (ResNet-50 at batch 16: the input and weight gradients took
// 6.7 s, 5.4 s of it in Conv).
//
// Here dy, [N, M, P] with P the output positions, multiplies the patches
// the weights met, U [N, C·kh·kw, P]:
//
//	dW[m, (c, i, j)] = Σ_n Σ_p dy[n, m, p]·U[n, (c, i, j), p]
//
// For a 1×1 kernel without pads U is the input itself (every s-th
// position at stride s). Otherwise a Conv unfolds it: group C, one-hot
// weights that copy tap (i, j) of channel c to channel c·kh·kw + i·kw + j,
// at the forward's strides, pads and dilations. The product runs sample by
// sample (a batched MatMul of dy by U's transpose, which ONNX Runtime
// fuses into one call) and is summed over the samples, or, where the
// per-sample products N·M·C·kh·kw would outweigh the operands, as one
// product over the samples' positions laid end to end.
//
// Per sample, the operand with more rows goes on the left where it has
// over twice as many: ONNX Runtime's batched MatMul runs those products
// faster that way round (MLAS packs the right-hand side, here the narrow
// one, for every sample). ResNet-50 at batch 16 (ONNX Runtime's profile of
// each product alone, best of three): 64×576 taps at 56×56 29.1 → 22.7 ms,
// the stem's 64×147 at 112×112 30.6 → 22.5; at twice as many or fewer,
// either order is within a millisecond or the swap is slower.

// maxUnfold bounds, in bytes per sample, the patches U matmulWeightGrad
// multiplies: kh·kw/s² times the input, which on a wide layer at full
// resolution (VGG's first 3×3 layers at 224×224: 115 MB a sample) would
// cost more memory than the product saves time; such layers keep
// convWeightGrad. ResNet-50's largest U is 7.4 MB (its 7×7 stem).
const maxUnfold = 32 << 20

// matmulWeightGrad returns the weight gradient of a 2-D Conv with group 1
// and weights of shape ws as above, or "" where the Conv is not one or its
// patches would take more than maxUnfold bytes a sample.
func (b *builder) matmulWeightGrad(x, g string, win *window, ws []int) string {
	if len(win.kernel) != 2 {
		return ""
	}
	m, c := int64(ws[0]), int64(ws[1])
	kh, kw := win.kernel[0], win.kernel[1]
	taps := c * kh * kw
	positions := int64(win.out[0] * win.out[1])
	if taps*positions*4 > maxUnfold {
		return ""
	}
	var u string
	switch {
	case kh == 1 && kw == 1 && win.pads[0] == 0 && win.pads[1] == 0 && win.pads[2] == 0 && win.pads[3] == 0:
		u = x
		if win.strides[0] != 1 || win.strides[1] != 1 {
			h, w := int64(win.out[0])*win.strides[0], int64(win.out[1])*win.strides[1]
			u = b.op("Slice", []string{x, b.int64s(0, 0), b.int64s(h, w), b.int64s(2, 3), b.int64s(win.strides...)})
		}
	default:
		u = b.op("Conv", []string{x, b.unfoldWeights(c, kh, kw)}, aInts("strides", win.strides...),
			aInts("dilations", win.dilations...), aInts("pads", win.pads...), aInt("group", c))
	}
	dy := b.op("Reshape", []string{g, b.int64s(0, m, positions)})
	u = b.op("Reshape", []string{u, b.int64s(0, taps, positions)})
	var dw string
	if m*taps > positions*(m+taps) {
		// One product over all the samples' positions: [M, N·P]·[N·P, C·kh·kw].
		dy = b.op("Reshape", []string{b.op("Transpose", []string{dy}, aInts("perm", 1, 0, 2)), b.int64s(m, -1)})
		u = b.op("Reshape", []string{b.op("Transpose", []string{u}, aInts("perm", 1, 0, 2)), b.int64s(taps, -1)})
		dw = b.op("MatMul", []string{dy, b.op("Transpose", []string{u}, aInts("perm", 1, 0))})
	} else if taps > 2*m {
		// The wide operand on the left (above): dWᵀ = U·dyᵀ, then one
		// small transpose.
		dyt := b.op("Transpose", []string{dy}, aInts("perm", 0, 2, 1))
		dwt := b.op("ReduceSum", []string{b.op("MatMul", []string{u, dyt}), b.int64s(0)}, aInt("keepdims", 0))
		dw = b.op("Transpose", []string{dwt}, aInts("perm", 1, 0))
	} else {
		ut := b.op("Transpose", []string{u}, aInts("perm", 0, 2, 1))
		dw = b.op("ReduceSum", []string{b.op("MatMul", []string{dy, ut}), b.int64s(0)}, aInt("keepdims", 0))
	}
	return b.op("Reshape", []string{dw, b.int64s(m, c, kh, kw)})
}

// unfoldWeights returns the one-hot weights [C·kh·kw, 1, kh, kw] of the
// Conv, group C, that copies tap (i, j) of channel c to output channel
// c·kh·kw + i·kw + j; one constant per shape.
func (b *builder) unfoldWeights(c, kh, kw int64) string {
	key := fmt.Sprint("unfold", c, kh, kw)
	if name, ok := b.consts[key]; ok {
		return name
	}
	kk := kh * kw
	data := make([]float32, c*kk*kk)
	for ch := range c {
		for t := range kk {
			data[(ch*kk+t)*kk+t] = 1
		}
	}
	name := b.floats([]int64{c * kk, 1, kh, kw}, data)
	b.consts[key] = name
	return name
}
