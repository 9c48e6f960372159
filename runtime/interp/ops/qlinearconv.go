package ops

import (
	"fmt"
	"math"
)

func init() { register("QLinearConv", 10, newQLinearConv) }

// qlinearConv is a convolution of quantized tensors into a quantized
// tensor, as ONNX Runtime computes it: int32 sums of the centred x and w
// (ConvInteger's), plus the int32 bias, times the float32 multiplier
// x_scale·w_scale/y_scale (w_scale per tensor or per output channel),
// rounded half to even, plus y_zero_point, saturated to its type.
//
// Gradients are straight-through estimates (quantizelinear.go): dy times
// the multiplier where the output did not saturate, then Conv's backward
// pass to x (and w); scales, zero points and the bias get none.
type qlinearConv struct{ conv Op }

func newQLinearConv(n *Node) (Op, error) {
	c, err := newConv(n)
	if err != nil {
		return nil, err
	}
	return &qlinearConv{conv: c}, nil
}

// requantSaved is what the QLinear operators keep for Backward.
type requantSaved struct {
	inner       *innerState
	mult        []float32 // per channel
	block, nmul int       // output element i uses mult[(i/block) % nmul]
	pass        []bool
}

func (o *qlinearConv) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := intOperand(in, 0, "x")
	if err != nil {
		return nil, err
	}
	w, err := intOperand(in, 3, "w")
	if err != nil {
		return nil, err
	}
	if w.Rank() < 3 {
		return nil, fmt.Errorf("QLinearConv: w %v needs output channels, input channels and a kernel", w)
	}
	xq, err := readQuantParams(in, 1, 2, x.Shape, 1, false, false)
	if err != nil {
		return nil, fmt.Errorf("x: %w", err)
	}
	wq, err := readQuantParams(in, 4, 5, w.Shape, 0, true, false)
	if err != nil {
		return nil, fmt.Errorf("w: %w", err)
	}
	inner, acc, err := runInner(s, o.conv, centered(x, xq.zero, 1, 1), centered(w, wq.zero, wq.d, wq.inner))
	if err != nil {
		return nil, err
	}
	m := w.Shape[0]
	scale := func(c int) float32 { return xq.scale[0] * wq.scale[wq.at(c*wq.inner)] }
	return requantize(s, in, acc, 6, 8, Numel(acc.Shape[2:]), m, scale, inner)
}

// requantize turns the int32 sums acc (plus the bias at input bi, one per
// channel, where given) into the quantized output with the scale and zero
// point at inputs yi and yi+1. Output element i belongs to channel
// (i/block) % n, and scale gives a channel's x_scale·w_scale.
func requantize(s *State, in []*Tensor, acc *Tensor, yi, bi, block, n int, scale func(c int) float32, inner *innerState) ([]*Tensor, error) {
	yq, err := readQuantParams(in, yi, yi+1, acc.Shape, 0, false, false)
	if err != nil {
		return nil, fmt.Errorf("y: %w", err)
	}
	var bias []int64
	if bi < len(in) && in[bi] != nil {
		b, err := intOperand(in, bi, "B")
		if err != nil {
			return nil, err
		}
		if b.Len() != n {
			return nil, fmt.Errorf("bias %v, want %d values", b, n)
		}
		bias = b.Ints
	}
	mult := make([]float32, n)
	for c := range mult {
		mult[c] = scale(c) / yq.scale[0]
	}
	y := NewInts(append([]int(nil), acc.Shape...), make([]int64, acc.Len()))
	y.Elem = yq.elem
	pass := make([]bool, acc.Len())
	blocks := 0
	if block > 0 {
		blocks = acc.Len() / block
	}
	forChunks(blocks, block, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			c := b % n
			m, add := mult[c], int64(0)
			if bias != nil {
				add = bias[c]
			}
			for i := b * block; i < (b+1)*block; i++ {
				sum := int64(math.RoundToEven(float64(acc.Data[i]))) + add
				y.Ints[i], pass[i] = yq.quantize(float32(sum)*m, yq.zero[0])
			}
		}
	})
	s.SetAux(&requantSaved{inner: inner, mult: mult, block: block, nmul: n, pass: pass})
	return []*Tensor{y}, nil
}

// requantGrads is the straight-through backward pass of requantize and
// the float operator under it: gradients for inputs xi and wi of nIn.
func requantGrads(s *State, dy []*Tensor, nIn, xi, wi int) ([]*Tensor, error) {
	a, ok := s.Aux().(*requantSaved)
	if !ok {
		return nil, fmt.Errorf("backward without a forward pass")
	}
	dacc := like(dy[0])
	for i, g := range dy[0].Data {
		if a.pass[i] {
			dacc.Data[i] = g * a.mult[(i/a.block)%a.nmul]
		}
	}
	return a.inner.backward(s, dacc, nIn, xi, wi)
}

func (o *qlinearConv) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return requantGrads(s, dy, 9, 0, 3)
}
