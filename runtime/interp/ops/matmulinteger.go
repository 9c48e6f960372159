package ops

import "fmt"

func init() { register("MatMulInteger", 10, func(*Node) (Op, error) { return &matMulInteger{}, nil }) }

// matMulInteger multiplies 8-bit matrices less their zero points (A's per
// tensor or per row, B's per tensor or per column) into int32 sums, as
// MatMul on the centred values. Gradients, straight through to both
// integer operands, are MatMul's.
type matMulInteger struct{}

// innerState is the float operator a quantized one runs on, with the State
// of its forward pass.
type innerState struct {
	s  State
	op Op
}

// runInner runs op on the centred operands x and w in a State of its own,
// kept for the backward pass.
func runInner(s *State, op Op, x, w *Tensor) (*innerState, *Tensor, error) {
	inner := &innerState{s: State{Grad: s.Grad, Buffers: s.Buffers}, op: op}
	outs, err := op.Forward(&inner.s, []*Tensor{x, w})
	if err != nil {
		return nil, nil, err
	}
	return inner, outs[0], nil
}

// backward passes the gradient d of the inner operator's output straight
// through to the quantized operator's inputs xi and wi, of nIn in all.
func (inner *innerState) backward(s *State, d *Tensor, nIn, xi, wi int) ([]*Tensor, error) {
	inner.s.Need = []bool{s.Needs(xi), s.Needs(wi)}
	g, err := inner.op.Backward(&inner.s, []*Tensor{d})
	if err != nil {
		return nil, err
	}
	grads := make([]*Tensor, nIn)
	grads[xi], grads[wi] = g[0], g[1]
	return grads, nil
}

func (o *matMulInteger) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	a, err := intOperand(in, 0, "A")
	if err != nil {
		return nil, err
	}
	b, err := intOperand(in, 1, "B")
	if err != nil {
		return nil, err
	}
	if a.Rank() == 0 || b.Rank() < 2 {
		return nil, fmt.Errorf("MatMulInteger of %v and %v: A needs an axis, B two", a, b)
	}
	za, da, ia, err := zeroPoint(in, 2, a.Shape, a.Rank()-2)
	if err != nil {
		return nil, fmt.Errorf("a_zero_point: %w", err)
	}
	zb, db, ib, err := zeroPoint(in, 3, b.Shape, b.Rank()-1)
	if err != nil {
		return nil, fmt.Errorf("b_zero_point: %w", err)
	}
	inner, acc, err := runInner(s, matMul{}, centered(a, za, da, ia), centered(b, zb, db, ib))
	if err != nil {
		return nil, err
	}
	s.SetAux(inner)
	return []*Tensor{toInt32(acc)}, nil
}

func (o *matMulInteger) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	inner, ok := s.Aux().(*innerState)
	if !ok {
		return nil, fmt.Errorf("MatMulInteger: backward without a forward pass")
	}
	return inner.backward(s, dy[0], 4, 0, 1)
}
