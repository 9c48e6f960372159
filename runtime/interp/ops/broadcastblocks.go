package ops

// A block broadcast is the transformers' and ConvNeXt's common case: a
// bias or a LayerNorm scale of C elements against activations [N,L,C], a
// layer scale [C,1,1] against [N,C,H,W]: the operand's axes other than 1
// are one contiguous run of the output's axes, so output element k reads
// element (k/inner)%m of it (inner the product of the output's axes after
// that run). Built as an index, that table has one int32 per output
// element and stays until the backward pass: as large as the activation
// itself for every bias add. Here no index is built or kept. (Row
// broadcasts, whose run starts at the first axis, take the paths of
// broadcastrows.go.)

// blockInner returns, for an operand of shape in broadcast to out, the
// number of consecutive output elements that read each of its elements
// when it is a block broadcast of out, and 0 when it is not (or when in
// equals out).
func blockInner(out, in []int) int {
	n, m := Numel(out), Numel(in)
	if m == 0 || n == m || n%m != 0 {
		return 0
	}
	inner, run := 1, 1
	for i := len(out) - 1; i >= 0; i-- {
		d := 1
		if j := len(in) - len(out) + i; j >= 0 {
			d = in[j]
		}
		switch {
		case run == 1 && d == 1: // after the run
			inner *= out[i]
		case run == m: // before it
			if d != 1 {
				return 0
			}
		case d != out[i]:
			return 0
		default:
			run *= d
		}
	}
	if run != m {
		return 0
	}
	return inner
}

// blockSides returns which operand is the block broadcast (0 for a, 1 for
// b), its length m and inner count; ok is false where neither is while
// the other has the output's shape.
func blockSides(out []int, a, b *Tensor) (side, m, inner int, ok bool) {
	n := Numel(out)
	if Numel(a.Shape) == n {
		if inner = blockInner(out, b.Shape); inner > 0 {
			return 1, Numel(b.Shape), inner, true
		}
	} else if Numel(b.Shape) == n {
		if inner = blockInner(out, a.Shape); inner > 0 {
			return 0, Numel(a.Shape), inner, true
		}
	}
	return 0, 0, 0, false
}

// forwardBlocks writes y = f(a, b) where the operand on side blk is a
// block broadcast of m elements, each read by inner consecutive outputs.
func (o binaryOp) forwardBlocks(y, a, b *Tensor, blk, m, inner int) {
	full, small := a, b
	if blk == 0 {
		full, small = b, a
	}
	forChunks(len(y.Data)/inner, inner, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			v, dst, src := small.Data[r%m], y.Data[r*inner:(r+1)*inner], full.Data[r*inner:(r+1)*inner]
			if blk == 1 {
				for i, x := range src {
					dst[i] = o.f(x, v)
				}
			} else {
				for i, x := range src {
					dst[i] = o.f(v, x)
				}
			}
		}
	})
}

// backwardBlocks returns the gradient of side from dy where the operand on
// side blk is a block broadcast: full size for the other side; for the
// block side itself the full-size terms summed into their elements in the
// order reduceTo sums them. a, b and y may lack data where the derivative
// does not read them.
func (o binaryOp) backwardBlocks(s *State, dy, a, b, y *Tensor, side, blk, m, inner int) *Tensor {
	d := o.da
	if side == 1 {
		d = o.db
	}
	g := s.alloc(false, y.Shape...)
	forChunks(len(dy.Data)/inner, inner, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for k := r * inner; k < (r+1)*inner; k++ {
				ka, kb := k, r%m
				if blk == 0 {
					ka, kb = r%m, k
				}
				g.Data[k] = dy.Data[k] * d(at(a, nil, ka), at(b, nil, kb), at(y, nil, k))
			}
		}
	})
	if side != blk {
		return g
	}
	sum := NewFloat(append([]int(nil), []*Tensor{a, b}[blk].Shape...)...)
	for k, v := range g.Data {
		sum.Data[(k/inner)%m] += v
	}
	s.Buffers.Put(g.Data)
	return sum
}
