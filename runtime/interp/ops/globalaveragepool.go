package ops

import (
	"fmt"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

func init() {
	register("GlobalAveragePool", 1, func(*Node) (Op, error) { return globalAveragePool{}, nil })
}

// globalAveragePool averages each N·C plane over all spatial dimensions,
// for any spatial rank.
type globalAveragePool struct{}

// globalPlanes splits an N×C×spatial shape into planes and plane size and
// returns the output shape N×C×1×…×1.
func globalPlanes(op string, xs []int) (planes, size int, out []int, err error) {
	if len(xs) < 3 {
		return 0, 0, nil, fmt.Errorf("%s needs an input of rank 3 or more, got %v", op, ShapeString(xs))
	}
	out = make([]int, len(xs))
	for i := range out {
		out[i] = 1
	}
	out[0], out[1] = xs[0], xs[1]
	return xs[0] * xs[1], Numel(xs[2:]), out, nil
}

func (globalAveragePool) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	_, size, shape, err := globalPlanes("GlobalAveragePool", x.Shape)
	if err != nil {
		return nil, err
	}
	y := s.alloc(true, shape...)
	if size > 0 {
		forChunks(len(y.Data), size, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				y.Data[p] = sum4(x.Data[p*size:(p+1)*size]) / float32(size)
			}
		})
	}
	s.SetAux(x.Shape)
	return []*Tensor{y}, nil
}

func (globalAveragePool) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	xs, ok := s.Aux().([]int)
	if !ok {
		return nil, fmt.Errorf("GlobalAveragePool: backward without a forward pass")
	}
	// Every run writes the whole of dx: storage from the pool needs no
	// clearing.
	dx := s.alloc(false, append([]int(nil), xs...)...)
	size := Numel(xs[2:])
	ak := kernel.Acts(s.Kernels)
	forChunks(len(dy[0].Data), size, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ak.Fill(dx.Data[p*size:(p+1)*size], dy[0].Data[p]/float32(size))
		}
	})
	return []*Tensor{dx}, nil
}
