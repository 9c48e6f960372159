package ops

import (
	"fmt"
	"math"
)

// OneHot: opset 11 allowed negative indices (counted from depth), which
// this implementation reads at opset 9 too.
func init() { register("OneHot", 9, newOneHot) }

// oneHot expands indices into a new axis of size depth, holding values[1]
// at each index and values[0] elsewhere; an index outside [−depth, depth)
// gives a row of values[0]. Only values carries a gradient: its two
// entries get the sums of dy over the off and the on positions.
type oneHot struct{ axis int64 }

// maxElements bounds the tensors an op builds from a value read at run
// time (OneHot's depth), so a corrupt model fails instead of exhausting
// memory.
const maxElements = 1 << 31

func newOneHot(n *Node) (Op, error) {
	axis, err := n.Int("axis", -1)
	return oneHot{axis: axis}, err
}

type oneHotSaved struct {
	hot    []bool
	values []int
}

func (o oneHot) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 3 || in[0] == nil || in[1] == nil || in[2] == nil {
		return nil, fmt.Errorf("OneHot needs indices, depth and values")
	}
	idx, _ := intsIn(in, 0)
	depth, err := oneHotDepth(in[1])
	if err != nil {
		return nil, err
	}
	values := in[2]
	if values.Len() != 2 {
		return nil, fmt.Errorf("OneHot: values %v, want two elements [off, on]", values)
	}
	r := in[0].Rank()
	a, err := normAxis(o.axis, r+1)
	if err != nil {
		return nil, err
	}
	if n := float64(len(idx)) * float64(depth); n > maxElements {
		return nil, fmt.Errorf("OneHot: %d indices × depth %d is too large an output", len(idx), depth)
	}
	shape := append(append(append([]int(nil), in[0].Shape[:a]...), depth), in[0].Shape[a:]...)
	outer, inner := Numel(in[0].Shape[:a]), Numel(in[0].Shape[a:])
	hot := make([]bool, Numel(shape))
	for b := 0; b < outer; b++ {
		for i := 0; i < inner; i++ {
			k := idx[b*inner+i]
			if k < 0 {
				k += int64(depth)
			}
			if k >= 0 && k < int64(depth) {
				hot[(b*depth+int(k))*inner+i] = true
			}
		}
	}
	if values.IsInt() {
		y := NewInts(shape, make([]int64, len(hot)))
		for j, h := range hot {
			y.Ints[j] = values.Ints[pick01(h)]
		}
		return []*Tensor{y}, nil
	}
	y := NewFloat(shape...)
	for j, h := range hot {
		y.Data[j] = values.Data[pick01(h)]
	}
	s.SetAux(oneHotSaved{hot: hot, values: values.Shape})
	return []*Tensor{y}, nil
}

func pick01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// oneHotDepth reads depth: one number of any type, a positive integer
// (floats are truncated, as ONNX Runtime does).
func oneHotDepth(t *Tensor) (int, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("OneHot: depth %v, want one number", t)
	}
	d := 0.0
	if t.IsInt() {
		d = float64(t.Ints[0])
	} else {
		d = math.Trunc(float64(t.Data[0]))
	}
	if !(d >= 1) || d > maxElements {
		return 0, fmt.Errorf("OneHot: depth %g, want a positive integer", d)
	}
	return int(d), nil
}

func (o oneHot) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(oneHotSaved)
	if !ok {
		return nil, fmt.Errorf("OneHot: backward without a float forward pass")
	}
	var sums [2]float64
	for j, g := range dy[0].Data {
		sums[pick01(a.hot[j])] += float64(g)
	}
	return []*Tensor{nil, nil, fromFloat64(a.values, sums[:])}, nil
}
