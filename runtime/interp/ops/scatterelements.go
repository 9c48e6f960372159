package ops

import (
	"fmt"
	"slices"
)

// ScatterElements: reduction arrived in opset 16 (none, add, mul) and 18
// (max, min); Scatter (opset 9, deprecated by 11) is ScatterElements
// without it.
func init() {
	register("Scatter", 9, newScatterElements(false))
	register("ScatterElements", 11, newScatterElements(false))
	register("ScatterElements", 16, newScatterElements(true))
}

// scatterElements copies data and writes each update at the position of
// its index (elementPositions), combining with what is there per reduction.
type scatterElements struct {
	axis int64
	red  scatterReduction
}

func newScatterElements(reductions bool) constructor {
	return func(n *Node) (Op, error) {
		axis, err := n.Int("axis", 0)
		if err != nil {
			return nil, err
		}
		red, err := parseScatterReduction(n, reductions)
		return &scatterElements{axis: axis, red: red}, err
	}
}

func (o *scatterElements) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	data, indices, updates, err := scatterInputs(in)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(updates.Shape, indices.Shape) {
		return nil, fmt.Errorf("updates %v and indices %v differ in shape", updates, indices)
	}
	pos, err := elementPositions(data.Shape, indices, o.axis)
	if err != nil {
		return nil, err
	}
	return scatterAt(s, data, updates, pos, o.red), nil
}

func (o *scatterElements) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return scatterGrads(s, dy), nil
}

// scatterReduction is how ScatterElements and ScatterND combine an update
// with the value it lands on.
type scatterReduction string

// parseScatterReduction reads the reduction attribute, which only opsets
// 16 (none, add, mul) and 18 (max, min) know.
func parseScatterReduction(n *Node, allowed bool) (scatterReduction, error) {
	r, err := n.Str("reduction", "none")
	if err != nil {
		return "", err
	}
	switch {
	case r == "none":
	case !allowed:
		return "", fmt.Errorf("%s: reduction %q needs opset 16", n.OpType, r)
	case r == "add" || r == "mul":
	case r == "max" || r == "min":
		if n.Opset < 18 {
			return "", fmt.Errorf("%s: reduction %q needs opset 18", n.OpType, r)
		}
	default:
		return "", fmt.Errorf("%s: reduction %q, want none, add, mul, max or min", n.OpType, r)
	}
	return scatterReduction(r), nil
}

// scatterInputs checks data, indices and updates: data and updates of one
// kind, indices integers.
func scatterInputs(in []*Tensor) (data, indices, updates *Tensor, err error) {
	if len(in) < 3 || in[0] == nil || in[1] == nil || in[2] == nil {
		return nil, nil, nil, fmt.Errorf("needs data, indices and updates")
	}
	if in[0].IsInt() != in[2].IsInt() {
		return nil, nil, nil, fmt.Errorf("data %v and updates %v hold different kinds of values", in[0], in[2])
	}
	return in[0], in[1], in[2], nil
}

// scatterSaved is what scatterAt keeps for scatterGrads.
type scatterSaved struct {
	pos           []int
	data, updates *Tensor
	out           *Tensor
	red           scatterReduction
}

// scatterAt returns a copy of data with updates[k] combined into element
// pos[k], in order of k.
func scatterAt(s *State, data, updates *Tensor, pos []int, red scatterReduction) []*Tensor {
	if data.IsInt() {
		y := NewInts(slices.Clone(data.Shape), slices.Clone(data.Ints))
		for k, p := range pos {
			y.Ints[p] = reduceOne(red, y.Ints[p], updates.Ints[k])
		}
		return []*Tensor{y}
	}
	y := &Tensor{Shape: slices.Clone(data.Shape), Data: slices.Clone(data.Data)}
	for k, p := range pos {
		y.Data[p] = reduceOne(red, y.Data[p], updates.Data[k])
	}
	s.Save(data, updates, y) // pinned: the aux below reads them
	s.SetAux(scatterSaved{pos: pos, data: data, updates: updates, out: y, red: red})
	return []*Tensor{y}
}

func reduceOne[T float32 | int64](red scatterReduction, v, u T) T {
	switch red {
	case "add":
		return v + u
	case "mul":
		return v * u
	case "max":
		return max(v, u)
	case "min":
		return min(v, u)
	}
	return u
}

// scatterGrads returns the gradients of data and updates. Without a
// reduction an element's gradient goes to the last update written there,
// or to data where none was; with add, to data and every update; with
// mul, to each factor times the product of the others; with max and min,
// to the first of data and the updates (in order) equal to the result.
func scatterGrads(s *State, dy []*Tensor) []*Tensor {
	a, ok := s.Aux().(scatterSaved)
	if !ok || dy[0] == nil {
		return []*Tensor{nil, nil, nil}
	}
	g := dy[0].Data
	dd := &Tensor{Shape: slices.Clone(a.data.Shape), Data: slices.Clone(g)}
	du := like(a.updates)
	if a.red == "add" {
		for k, p := range a.pos {
			du.Data[k] = g[p]
		}
		return []*Tensor{dd, nil, du}
	}
	// The updates landing on each position, in order.
	at := map[int][]int{}
	for k, p := range a.pos {
		at[p] = append(at[p], k)
	}
	for p, ks := range at {
		switch a.red {
		case "none":
			dd.Data[p] = 0
			du.Data[ks[len(ks)-1]] = g[p]
		case "mul":
			factors := make([]float32, 0, len(ks)+1)
			factors = append(factors, a.data.Data[p])
			for _, k := range ks {
				factors = append(factors, a.updates.Data[k])
			}
			for i := range factors {
				prod := g[p]
				for j, f := range factors {
					if j != i {
						prod *= f
					}
				}
				if i == 0 {
					dd.Data[p] = prod
				} else {
					du.Data[ks[i-1]] = prod
				}
			}
		case "max", "min":
			if a.data.Data[p] == a.out.Data[p] {
				continue // data keeps its gradient
			}
			dd.Data[p] = 0
			for _, k := range ks {
				if a.updates.Data[k] == a.out.Data[p] {
					du.Data[k] = g[p]
					break
				}
			}
		}
	}
	return []*Tensor{dd, nil, du}
}
