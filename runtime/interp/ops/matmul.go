package ops

import "fmt"

// MatMul's versions 9 and 13 only widen the element types.
func init() { register("MatMul", 1, func(*Node) (Op, error) { return matMul{}, nil }) }

// matMul is NumPy's matmul: a stack of matrix products whose batch
// dimensions broadcast; a 1-D left operand is a row vector and a 1-D right
// operand a column vector, and the unit dimension is dropped again.
type matMul struct{}

type matMulSaved struct {
	m, k, n int
	batch   int     // number of products
	ia, ib  []int32 // batch index of A and B per product; nil when identity
	fold    bool    // B is one matrix shared by a contiguous A: one product of batch·m rows
}

func (matMul) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	a, err := floatIn(in, 0, "A")
	if err != nil {
		return nil, err
	}
	b, err := floatIn(in, 1, "B")
	if err != nil {
		return nil, err
	}
	if a.Rank() == 0 || b.Rank() == 0 {
		return nil, fmt.Errorf("MatMul of scalars %v and %v", a, b)
	}
	as, bs := a.Shape, b.Shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, n := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return nil, fmt.Errorf("shapes %v and %v do not multiply", ShapeString(a.Shape), ShapeString(b.Shape))
	}
	aB, bB := as[:len(as)-2], bs[:len(bs)-2]
	outB, err := broadcastShape(aB, bB)
	if err != nil {
		return nil, err
	}
	if err := s.fits(append(append(append([]int(nil), outB...), m), n)...); err != nil {
		return nil, err
	}
	sv := matMulSaved{m: m, k: k, n: n, batch: Numel(outB)}
	sv.ia = broadcastIndex(outB, aB)
	sv.ib = broadcastIndex(outB, bB)
	sv.fold = sv.ia == nil && Numel(bB) == 1
	shape := append([]int(nil), outB...)
	if len(a.Shape) > 1 {
		shape = append(shape, m)
	}
	if len(b.Shape) > 1 {
		shape = append(shape, n)
	}
	y := s.alloc(false, shape...) // a product with beta 0 writes every element
	if sv.fold {
		s.gemm(false, false, sv.batch*m, n, k, 1, a.Data, b.Data, 0, y.Data)
	} else {
		for t := 0; t < sv.batch; t++ {
			s.gemm(false, false, m, n, k, 1, a.Data[at32(sv.ia, t)*m*k:][:m*k], b.Data[at32(sv.ib, t)*k*n:][:k*n], 0, y.Data[t*m*n:][:m*n])
		}
	}
	// dA reads B and dB reads A: a gradient pass keeps an operand only
	// when the other side's gradient is wanted (a layer's weights, a
	// constant, for the input's; its activations only when training).
	ak, bk := a, b
	if !s.Needs(1) {
		ak = &Tensor{Shape: a.Shape}
	}
	if !s.Needs(0) {
		bk = &Tensor{Shape: b.Shape}
	}
	s.Save(ak, bk)
	s.SetAux(sv)
	return []*Tensor{y}, nil
}

// at32 reads a broadcast index table, nil meaning the identity.
func at32(idx []int32, t int) int {
	if idx == nil {
		return t
	}
	return int(idx[t])
}

func (matMul) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	sv, ok := s.Aux().(matMulSaved)
	if !ok {
		return nil, fmt.Errorf("MatMul: backward without a forward pass")
	}
	a, b, d := s.Saved(0), s.Saved(1), dy[0].Data
	m, k, n := sv.m, sv.k, sv.n
	grads := make([]*Tensor, 2)
	if s.Needs(0) { // dA = dY·Bᵀ, summed over broadcast batches
		// From the pool; zeroed where broadcast batches add up.
		da := s.alloc(!sv.fold, a.Shape...)
		if sv.fold {
			s.gemm(false, true, sv.batch*m, k, n, 1, d, b.Data, 0, da.Data)
		} else {
			for t := 0; t < sv.batch; t++ {
				s.gemm(false, true, m, k, n, 1, d[t*m*n:][:m*n], b.Data[at32(sv.ib, t)*k*n:][:k*n], 1, da.Data[at32(sv.ia, t)*m*k:][:m*k])
			}
		}
		grads[0] = da
	}
	if s.Needs(1) { // dB = Aᵀ·dY, summed over broadcast batches
		db := s.alloc(!sv.fold, b.Shape...)
		if sv.fold {
			s.gemm(true, false, k, n, sv.batch*m, 1, a.Data, d, 0, db.Data)
		} else {
			for t := 0; t < sv.batch; t++ {
				s.gemm(true, false, k, n, m, 1, a.Data[at32(sv.ia, t)*m*k:][:m*k], d[t*m*n:][:m*n], 1, db.Data[at32(sv.ib, t)*k*n:][:k*n])
			}
		}
		grads[1] = db
	}
	return grads, nil
}
