package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// Add and Mul, the binary ops a CNN runs at full size (residual sums,
// squeeze-and-excitation's scale), have their loops written out here:
// the generic paths call f or a derivative per element through a
// function value, which costs more than the arithmetic. Each loop gives
// the bits of the generic one, except the sums over a row (the gradient
// of a broadcast operand), which run in four partial sums.

// binaryKind names a binary op with written-out loops; kindOther takes
// the generic ones.
type binaryKind uint8

const (
	kindOther binaryKind = iota
	kindAdd
	kindMul
)

// elementCost is forChunks' cost of one element of an elementwise loop.
const elementCost = 1

// sameShape writes y = f(a, b) for operands of one shape, on every core.
func (o binaryOp) sameShape(y, a, b []float32) {
	_, _ = a[:len(y)], b[:len(y)]
	forChunks(len(y), elementCost, func(lo, hi int) {
		ys, as, bs := y[lo:hi], a[lo:hi], b[lo:hi]
		switch o.kind {
		case kindAdd:
			for i := range ys {
				ys[i] = as[i] + bs[i]
			}
		case kindMul:
			for i := range ys {
				ys[i] = as[i] * bs[i]
			}
		default:
			for i := range ys {
				ys[i] = o.f(as[i], bs[i])
			}
		}
	})
}

// rowOf writes dst = f(src, v) (f(v, src) where flip is set) for one row
// of a row broadcast, Add's and Mul's on ak (either order gives the same
// bits).
func (o binaryOp) rowOf(ak kernel.ActKernels, dst, src []float32, v float32, flip bool) {
	switch {
	case o.kind == kindAdd:
		ak.Shift(dst, src, v)
	case o.kind == kindMul:
		ak.Scale(dst, src, v)
	case flip:
		for i, x := range src {
			dst[i] = o.f(v, x)
		}
	default:
		for i, x := range src {
			dst[i] = o.f(x, v)
		}
	}
}

// scaleInto writes dst = src·c on every core (copying where c is 1), on
// ak.
func scaleInto(ak kernel.ActKernels, dst, src []float32, c float32) {
	_ = src[:len(dst)]
	forChunks(len(dst), elementCost, func(lo, hi int) {
		if c == 1 {
			copy(dst[lo:hi], src[lo:hi])
			return
		}
		ak.Scale(dst[lo:hi], src[lo:hi], c)
	})
}

// mulInto writes dst = a·b elementwise on every core.
func mulInto(dst, a, b []float32) {
	_, _ = a[:len(dst)], b[:len(dst)]
	forChunks(len(dst), elementCost, func(lo, hi int) {
		for i, v := range a[lo:hi] {
			dst[lo+i] = v * b[lo+i]
		}
	})
}

// rowSums writes, for Add's or Mul's row operand, each row's gradient:
// the sum of its dY (Add) or of dY times the full operand (Mul). It
// reports false for the other ops, and for Mul where the full operand was
// not kept.
func (o binaryOp) rowSums(kernels bool, g, dy []float32, full *Tensor, inner int) bool {
	switch {
	case o.kind == kindAdd:
		forChunks(len(g), inner, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				g[r] = sumFloats(kernels, dy[r*inner:(r+1)*inner])
			}
		})
	case o.kind == kindMul && full.Data != nil:
		forChunks(len(g), 2*inner, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				g[r] = stridedDot(dy[r*inner:(r+1)*inner], full.Data[r*inner:(r+1)*inner], 1)
			}
		})
	default:
		return false
	}
	return true
}
