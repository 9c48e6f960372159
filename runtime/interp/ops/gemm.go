package ops

import (
	"fmt"
	"slices"
)

func init() {
	// Opset 7 replaced the broadcast attribute with unidirectional
	// broadcasting of C; opset 11 made C optional.
	register("Gemm", 7, newGemm)
	register("Gemm", 11, newGemm)
}

// gemmOp computes Y = alpha·op(A)·op(B) + beta·C, C broadcast to M×N.
type gemmOp struct {
	transA, transB bool
	alpha, beta    float32
	optionalC      bool
}

type gemmSaved struct {
	m, n, k int
	hasC    bool
	cShape  []int
}

func newGemm(n *Node) (Op, error) {
	g := &gemmOp{optionalC: n.Opset >= 11}
	var err error
	if g.alpha, err = n.Float("alpha", 1); err != nil {
		return nil, err
	}
	if g.beta, err = n.Float("beta", 1); err != nil {
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
	g.transA, g.transB = ta != 0, tb != 0
	return g, nil
}

func (g *gemmOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	a, err := floatIn(in, 0, "A")
	if err != nil {
		return nil, err
	}
	b, err := floatIn(in, 1, "B")
	if err != nil {
		return nil, err
	}
	if a.Rank() != 2 || b.Rank() != 2 {
		return nil, fmt.Errorf("A %v and B %v must be matrices", a, b)
	}
	m, k := a.Shape[0], a.Shape[1]
	if g.transA {
		m, k = k, m
	}
	kb, n := b.Shape[0], b.Shape[1]
	if g.transB {
		kb, n = n, kb
	}
	if k != kb {
		return nil, fmt.Errorf("op(A) is %d×%d and op(B) %d×%d", m, k, kb, n)
	}
	var c *Tensor
	if len(in) > 2 && in[2] != nil {
		if c, err = floatIn(in, 2, "C"); err != nil {
			return nil, err
		}
	} else if !g.optionalC {
		return nil, fmt.Errorf("input 2 (C) is missing; it is optional only from opset 11")
	}
	if err := s.fits(m, n); err != nil {
		return nil, err
	}
	y := s.alloc(false, m, n) // C or the product with beta 0 fills it
	beta := float32(0)
	if c != nil && g.beta != 0 {
		shape, err := broadcastShape(y.Shape, c.Shape)
		if err != nil || !slices.Equal(shape, y.Shape) {
			return nil, fmt.Errorf("C %v does not broadcast to %d×%d", c, m, n)
		}
		switch {
		case c.Rank() > 0 && c.Len() == n && c.Shape[c.Rank()-1] == n: // a bias row ([N] or [1,N]), copied without an index table
			for i := range m {
				copy(y.Data[i*n:(i+1)*n], c.Data)
			}
		case slices.Equal(y.Shape, c.Shape):
			copy(y.Data, c.Data)
		default:
			for i, j := range broadcastIndex(y.Shape, c.Shape) {
				y.Data[i] = c.Data[j]
			}
		}
		beta = g.beta
	}
	s.gemm(g.transA, g.transB, m, n, k, g.alpha, a.Data, b.Data, beta, y.Data)
	// dop(A) reads B and dop(B) reads A: keep an operand only when the
	// other side's gradient is wanted.
	ak, bk := a, b
	if !s.Needs(1) {
		ak = &Tensor{Shape: a.Shape}
	}
	if !s.Needs(0) {
		bk = &Tensor{Shape: b.Shape}
	}
	s.Save(ak, bk)
	sv := gemmSaved{m: m, n: n, k: k}
	if c != nil {
		sv.hasC, sv.cShape = true, c.Shape
	}
	s.SetAux(sv)
	return []*Tensor{y}, nil
}

func (g *gemmOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	sv, ok := s.Aux().(gemmSaved)
	if !ok {
		return nil, fmt.Errorf("Gemm: backward without a forward pass")
	}
	a, b, d := s.Saved(0), s.Saved(1), dy[0].Data
	m, n, k := sv.m, sv.n, sv.k
	grads := make([]*Tensor, 2, 3)
	if s.Needs(0) { // dop(A) = alpha·dY·op(B)ᵀ, stored transposed when transA
		da := s.alloc(false, a.Shape...)
		if g.transA {
			s.gemm(g.transB, true, k, m, n, g.alpha, b.Data, d, 0, da.Data)
		} else {
			s.gemm(false, !g.transB, m, k, n, g.alpha, d, b.Data, 0, da.Data)
		}
		grads[0] = da
	}
	if s.Needs(1) { // dop(B) = alpha·op(A)ᵀ·dY, stored transposed when transB
		db := s.alloc(false, b.Shape...)
		if g.transB {
			s.gemm(true, g.transA, n, k, m, g.alpha, d, a.Data, 0, db.Data)
		} else {
			s.gemm(!g.transA, false, k, n, m, g.alpha, a.Data, d, 0, db.Data)
		}
		grads[1] = db
	}
	if sv.hasC {
		var dc *Tensor
		if s.Needs(2) {
			dc = reduceTo(dy[0], sv.cShape)
			if dc == dy[0] {
				dc = like(dy[0])
				copy(dc.Data, dy[0].Data)
			}
			for i := range dc.Data {
				dc.Data[i] *= g.beta
			}
		}
		grads = append(grads, dc)
	}
	return grads, nil
}
