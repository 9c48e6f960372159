package ops

import "fmt"

func init() { register("GlobalMaxPool", 1, func(*Node) (Op, error) { return globalMaxPool{}, nil }) }

// globalMaxPool takes each N·C plane's maximum over all spatial dimensions;
// the first maximum receives the gradient.
type globalMaxPool struct{}

type globalMaxPoolSaved struct {
	xs  []int
	arg []int // offset of each plane's maximum within the plane
}

func (globalMaxPool) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	planes, size, shape, err := globalPlanes("GlobalMaxPool", x.Shape)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, fmt.Errorf("GlobalMaxPool over an empty plane %v", ShapeString(x.Shape))
	}
	y := NewFloat(shape...)
	arg := make([]int, planes)
	for p := range y.Data {
		plane := x.Data[p*size : (p+1)*size]
		best, bi := plane[0], 0
		for i, v := range plane {
			if v > best { // a select, not a branch; see maxPlanes
				bi = i
			}
			best = max(best, v)
		}
		y.Data[p], arg[p] = best, bi
	}
	s.SetAux(globalMaxPoolSaved{xs: x.Shape, arg: arg})
	return []*Tensor{y}, nil
}

func (globalMaxPool) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(globalMaxPoolSaved)
	if !ok {
		return nil, fmt.Errorf("GlobalMaxPool: backward without a forward pass")
	}
	dx := NewFloat(append([]int(nil), a.xs...)...)
	size := Numel(a.xs[2:])
	for p, g := range dy[0].Data {
		dx.Data[p*size+a.arg[p]] = g
	}
	return []*Tensor{dx}, nil
}
