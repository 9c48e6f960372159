package ops

// A column broadcast is the transformers' common case: a bias or a
// LayerNorm scale of C elements against activations [N,L,C], the operand's
// axes equal to the output's last ones (with 1s or nothing before them), so
// output element k reads element k%m of it. Built as an index, that table
// has one int32 per output element and stays until the backward pass: as
// large as the activation itself for every bias add. Here no index is
// built or kept.

// colRows returns, for an operand of shape in broadcast to out, the number
// of rows of its elements that the output holds when it is a column
// broadcast of out, and 0 when it is not (or when in equals out).
func colRows(out, in []int) int {
	n, m := Numel(out), Numel(in)
	if m == 0 || n == m || n%m != 0 {
		return 0
	}
	trail := 1
	for i := len(out) - 1; i >= 0; i-- {
		d := 1
		if j := len(in) - len(out) + i; j >= 0 {
			d = in[j]
		}
		if trail == m {
			if d != 1 {
				return 0
			}
			continue
		}
		if d != out[i] {
			return 0
		}
		trail *= d
	}
	if trail != m {
		return 0
	}
	return n / m
}

// colSides returns which operand is the column broadcast (0 for a, 1 for
// b) and its length m; ok is false where neither is while the other has
// the output's shape.
func colSides(out []int, a, b *Tensor) (side, m int, ok bool) {
	if n := Numel(out); Numel(a.Shape) == n && colRows(out, b.Shape) > 0 {
		return 1, Numel(b.Shape), true
	} else if Numel(b.Shape) == n && colRows(out, a.Shape) > 0 {
		return 0, Numel(a.Shape), true
	}
	return 0, 0, false
}

// forwardCols writes y = f(a, b) where the operand on side col is a
// column broadcast of m elements.
func (o binaryOp) forwardCols(y, a, b *Tensor, col, m int) {
	forChunks(len(y.Data)/m, m, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			dst := y.Data[r*m : (r+1)*m]
			if col == 1 {
				for j, x := range a.Data[r*m : (r+1)*m] {
					dst[j] = o.f(x, b.Data[j])
				}
			} else {
				for j, x := range b.Data[r*m : (r+1)*m] {
					dst[j] = o.f(a.Data[j], x)
				}
			}
		}
	})
}

// backwardCols returns the gradient of side from dy where the operand on
// side col is a column broadcast of m elements: full size for the other
// side; for the column side itself the full-size terms summed into their
// elements in the order reduceTo sums them. a, b and y may lack data
// where the derivative does not read them.
func (o binaryOp) backwardCols(s *State, dy, a, b, y *Tensor, side, col, m int) *Tensor {
	d := o.da
	if side == 1 {
		d = o.db
	}
	g := s.alloc(false, y.Shape...)
	forChunks(len(dy.Data)/m, m, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for j := range m {
				k := r*m + j
				ka, kb := k, j
				if col == 0 {
					ka, kb = j, k
				}
				g.Data[k] = dy.Data[k] * d(at(a, nil, ka), at(b, nil, kb), at(y, nil, k))
			}
		}
	})
	if side != col {
		return g
	}
	sum := NewFloat(append([]int(nil), []*Tensor{a, b}[col].Shape...)...)
	for k, v := range g.Data {
		sum.Data[k%m] += v
	}
	s.Buffers.Put(g.Data)
	return sum
}
