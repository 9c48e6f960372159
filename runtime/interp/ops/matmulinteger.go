package ops

import "fmt"

func init() { register("MatMulInteger", 10, func(*Node) (Op, error) { return &matMulInteger{}, nil }) }

// matMulInteger multiplies 8-bit matrices less their zero points (A's per
// tensor or per row, B's per tensor or per column) into int32 sums, as
// MatMul on the centred values. Gradients, straight through to both
// integer operands, are MatMul's.
type matMulInteger struct{}

// innerState is the State of the float operator a quantized one runs on.
type innerState struct {
	s  State
	op Op
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
	inner := &innerState{s: State{Grad: s.Grad, Buffers: s.Buffers}, op: matMul{}}
	outs, err := inner.op.Forward(&inner.s, []*Tensor{centered(a, za, da, ia), centered(b, zb, db, ib)})
	if err != nil {
		return nil, err
	}
	s.SetAux(inner)
	return []*Tensor{toInt32(outs[0])}, nil
}

func (o *matMulInteger) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	inner, ok := s.Aux().(*innerState)
	if !ok {
		return nil, fmt.Errorf("MatMulInteger: backward without a forward pass")
	}
	inner.s.Need = []bool{s.Needs(0), s.Needs(1)}
	g, err := inner.op.Backward(&inner.s, dy)
	if err != nil {
		return nil, err
	}
	return []*Tensor{g[0], g[1], nil, nil}, nil
}
