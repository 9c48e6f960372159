package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// A row broadcast is the common case of broadcasting in CNNs:
// squeeze-and-excitation's x[N,C,H,W]·s[N,C,1,1], a per-channel bias
// [C,1,1], a scalar. One operand has the output's shape, the other the
// output's leading axes with 1s after them (or fewer axes, all 1), so
// output element k reads element k/inner of it: no index is built or
// kept, rows run on every core, and the backward pass sums each row into
// its element without a full-size temporary.

// rowInner returns, for an operand of shape in broadcast to out, the
// number of output elements that read each of its elements when it is a
// row broadcast of out, and 0 when it is not (or when in equals out).
func rowInner(out, in []int) int {
	n, m := Numel(out), Numel(in)
	if m == 0 || n == m || n%m != 0 {
		return 0
	}
	// Right-aligned, in's axes equal out's up to some axis and are 1 from
	// there on.
	lead := 1
	for i := range out {
		d := 1
		if j := len(in) - len(out) + i; j >= 0 {
			d = in[j]
		}
		if lead == m {
			if d != 1 {
				return 0
			}
			continue
		}
		if d != out[i] {
			return 0
		}
		lead *= d
	}
	return n / m
}

// rowSides returns which operand is the row broadcast (0 for a, 1 for b)
// and its inner count; ok is false where neither is while the other has
// the output's shape.
func rowSides(out []int, a, b *Tensor) (side, inner int, ok bool) {
	if n := Numel(out); Numel(a.Shape) == n {
		if inner = rowInner(out, b.Shape); inner > 0 {
			return 1, inner, true
		}
	} else if Numel(b.Shape) == n {
		if inner = rowInner(out, a.Shape); inner > 0 {
			return 0, inner, true
		}
	}
	return 0, 0, false
}

// forwardRows writes y = f(a, b) where the operand on side row is a row
// broadcast with inner elements per row, Add's and Mul's on ak.
func (o binaryOp) forwardRows(ak kernel.ActKernels, y, a, b *Tensor, row, inner int) {
	full, small := a, b
	if row == 0 {
		full, small = b, a
	}
	forChunks(len(small.Data), inner, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o.rowOf(ak, y.Data[r*inner:(r+1)*inner], full.Data[r*inner:(r+1)*inner], small.Data[r], row == 0)
		}
	})
}

// backwardRows returns the gradient of side from dy where the operand on
// side row is a row broadcast: full size for the other side, each row
// summed into its element for the row side itself (Add's and Mul's in
// four partial sums, rowSums; the others' in the order reduceTo sums).
// a, b and y may lack data where the derivative does not read them.
func (o binaryOp) backwardRows(s *State, dy, a, b, y *Tensor, side, row, inner int) *Tensor {
	d, full, small, fullBit := o.da, a, b, opA
	if side == 1 {
		d = o.db
	}
	if row == 0 {
		full, small, fullBit = b, a, opB
	}
	// deriv is d at output element k of row r, in the operands' order.
	deriv := func(r, k int) float32 {
		v, x := at(small, nil, r), at(full, nil, k)
		if row == 0 {
			v, x = x, v
		}
		return d(x, v, at(y, nil, k))
	}
	// perRow is set where the derivative reads the row operand alone
	// (Mul's for x reads the scale): one call per row.
	perRow := o.skip[side]&(fullBit|opY) == fullBit|opY
	// rowGrad writes the gradient of row r's output elements to g.
	rowGrad := func(r int, g []float32) {
		dyr := dy.Data[r*inner : (r+1)*inner]
		if perRow {
			kernel.Acts(s.Kernels).Scale(g[:len(dyr)], dyr, deriv(r, r*inner))
			return
		}
		for i, gv := range dyr {
			g[i] = gv * deriv(r, r*inner+i)
		}
	}
	rows := len(dy.Data) / inner
	if side == row {
		g := NewFloat(append([]int(nil), small.Shape...)...)
		if o.rowSums(s.Kernels, g.Data, dy.Data, full, inner) {
			return g
		}
		forChunks(rows, inner, func(lo, hi int) {
			tmp := make([]float32, inner)
			for r := lo; r < hi; r++ {
				rowGrad(r, tmp)
				var sum float32
				for _, v := range tmp {
					sum += v
				}
				g.Data[r] = sum
			}
		})
		return g
	}
	// The full operand's own shape: the output may have leading 1s more.
	g := s.alloc(false, full.Shape...)
	forChunks(rows, inner, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			rowGrad(r, g.Data[r*inner:(r+1)*inner])
		}
	})
	return g
}
