package ops

import (
	"fmt"
	"slices"
)

// GatherElements: opset 13 added types only.
func init() { register("GatherElements", 11, newGatherElements) }

// gatherElements reads, for every element of indices, the data element at
// the same position except along axis, where the index says: output and
// indices share a shape.
type gatherElements struct{ axis int64 }

func newGatherElements(n *Node) (Op, error) {
	axis, err := n.Int("axis", 0)
	return gatherElements{axis: axis}, err
}

func (o gatherElements) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, fmt.Errorf("GatherElements needs data and indices")
	}
	pos, err := elementPositions(in[0].Shape, in[1], o.axis)
	if err != nil {
		return nil, err
	}
	return gatherAt(s, in[0], pos, slices.Clone(in[1].Shape)), nil
}

func (gatherElements) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{scatterBack(s, dy), nil}, nil
}

// elementPositions maps every element of indices to the flat position in
// a tensor of shape data that GatherElements reads and ScatterElements
// writes: the element's own coordinates, with the one along axis replaced
// by its index (negative counts from the end).
func elementPositions(data []int, indices *Tensor, axis int64) ([]int, error) {
	if !indices.IsInt() {
		return nil, fmt.Errorf("indices %v hold floats, want integers", indices)
	}
	a, err := normAxis(axis, len(data))
	if err != nil {
		return nil, err
	}
	if indices.Rank() != len(data) {
		return nil, fmt.Errorf("indices %v and data %s differ in rank", indices, ShapeString(data))
	}
	for i, d := range indices.Shape {
		if i != a && d > data[i] {
			return nil, fmt.Errorf("indices %v exceed data %s along axis %d", indices, ShapeString(data), i)
		}
	}
	dst, src := strides(data), strides(indices.Shape)
	d := int64(data[a])
	pos := make([]int, len(indices.Ints))
	for k, v := range indices.Ints {
		if v < -d || v >= d {
			return nil, fmt.Errorf("index %d out of range for axis %d of size %d", v, a, d)
		}
		if v < 0 {
			v += d
		}
		p, rest := 0, k
		for i, st := range src {
			c := rest / st
			rest -= c * st
			if i == a {
				c = int(v)
			}
			p += c * dst[i]
		}
		pos[k] = p
	}
	return pos, nil
}

// positionsSaved is what gatherAt keeps: where each output element came from.
type positionsSaved struct {
	pos   []int
	shape []int // the data's
}

// gatherAt returns the tensor of shape whose k-th element is x's element
// pos[k], keeping pos for scatterBack.
func gatherAt(s *State, x *Tensor, pos []int, shape []int) []*Tensor {
	y := zerosOfKind(x, shape)
	if x.IsInt() {
		for k, p := range pos {
			y.Ints[k] = x.Ints[p]
		}
		return []*Tensor{y}
	}
	for k, p := range pos {
		y.Data[k] = x.Data[p]
	}
	s.SetAux(positionsSaved{pos: pos, shape: slices.Clone(x.Shape)})
	return []*Tensor{y}
}

// scatterBack is gatherAt's backward pass: each output gradient is added
// to the element it was read from, so repeated indices collect them all.
func scatterBack(s *State, dy []*Tensor) *Tensor {
	p, ok := s.Aux().(positionsSaved)
	if !ok || dy[0] == nil {
		return nil
	}
	dx := NewFloat(p.shape...)
	for k, g := range dy[0].Data {
		dx.Data[p.pos[k]] += g
	}
	return dx
}
