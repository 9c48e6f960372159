package ops

import "fmt"

// Opset 1's Tile took (input, tiles, axis); no current exporter writes it.
func init() { register("Tile", 6, func(*Node) (Op, error) { return tileOp{}, nil }) }

// tileOp repeats its input repeats[i] times along each axis i. Viewing the
// input of shape [d0 d1 …] as [1 d0 1 d1 …], tiling is broadcasting it to
// [r0 d0 r1 d1 …], and the backward pass is the matching reduction.
type tileOp struct{}

// tileSaved holds the interleaved shapes and the input's shape.
type tileSaved struct{ tiled, single, in []int }

func (tileOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	x := in[0]
	reps, ok := intsIn(in, 1)
	if !ok {
		return nil, fmt.Errorf("input 1 (repeats) is missing")
	}
	if len(reps) != x.Rank() {
		return nil, fmt.Errorf("repeats %v has %d values for an input of rank %d", reps, len(reps), x.Rank())
	}
	sv := tileSaved{in: x.Shape}
	out := make([]int, x.Rank())
	for i, d := range x.Shape {
		if reps[i] < 0 {
			return nil, fmt.Errorf("repeats %v has a negative value", reps)
		}
		r := int(reps[i])
		sv.tiled = append(sv.tiled, r, d)
		sv.single = append(sv.single, 1, d)
		out[i] = r * d
	}
	if err := s.fits(sv.tiled...); err != nil {
		return nil, err
	}
	s.SetAux(sv)
	return []*Tensor{reshaped(expandTensor(reshaped(x, sv.single), sv.tiled), out)}, nil
}

func (tileOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	if dy[0] == nil || dy[0].IsInt() {
		return []*Tensor{nil, nil}, nil
	}
	sv := s.Aux().(tileSaved)
	return []*Tensor{reshaped(reduceTo(reshaped(dy[0], sv.tiled), sv.single), sv.in), nil}, nil
}
