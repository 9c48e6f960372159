package ops

import "fmt"

func init() { register("QLinearMatMul", 10, func(*Node) (Op, error) { return &qlinearMatMul{}, nil }) }

// qlinearMatMul multiplies quantized matrices into a quantized matrix as
// ONNX Runtime does: int32 sums of the centred a and b (MatMulInteger's)
// times a_scale·b_scale/y_scale, rounded half to even, plus y_zero_point,
// saturated. a's scale and zero point are per tensor or per row, b's per
// tensor or per column. Gradients are straight through, as QLinearConv's.
type qlinearMatMul struct{}

func (o *qlinearMatMul) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	a, err := intOperand(in, 0, "a")
	if err != nil {
		return nil, err
	}
	b, err := intOperand(in, 3, "b")
	if err != nil {
		return nil, err
	}
	if a.Rank() < 2 || b.Rank() < 2 {
		return nil, fmt.Errorf("QLinearMatMul of %v and %v: both need two axes", a, b)
	}
	aq, err := readQuantParams(in, 1, 2, a.Shape, int64(a.Rank()-2), true, false)
	if err != nil {
		return nil, fmt.Errorf("a: %w", err)
	}
	bq, err := readQuantParams(in, 4, 5, b.Shape, int64(b.Rank()-1), true, false)
	if err != nil {
		return nil, fmt.Errorf("b: %w", err)
	}
	inner, acc, err := runInner(s, matMul{}, centered(a, aq.zero, aq.d, aq.inner), centered(b, bq.zero, bq.d, bq.inner))
	if err != nil {
		return nil, err
	}
	rows, cols := acc.Shape[acc.Rank()-2], acc.Shape[acc.Rank()-1]
	// One multiplier per (row, column) pair: index row·cols + column.
	scale := func(c int) float32 { return aq.scale[aq.at(c/cols*aq.inner)] * bq.scale[bq.at(c%cols)] }
	return requantize(s, in, acc, 6, len(in)+1, 1, rows*cols, scale, inner)
}

func (o *qlinearMatMul) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return requantGrads(s, dy, 8, 0, 3)
}
