package ops

import (
	"fmt"
	"math"
)

func init() { register("Mod", 10, newMod) }

// mod is the remainder of A divided by B, broadcast. With fmod = 0 (integers
// only) it takes the divisor's sign, as Python's %; with fmod = 1 the
// dividend's, as C's fmod. Gradients (floats): ∂/∂A = 1, ∂/∂B = −trunc(A/B).
type mod struct {
	binaryOp
	fmod bool
}

func newMod(n *Node) (Op, error) {
	f, err := n.Int("fmod", 0)
	if err != nil {
		return nil, err
	}
	if f != 0 && f != 1 {
		return nil, fmt.Errorf("Mod: fmod %d, want 0 or 1", f)
	}
	o := &mod{fmod: f == 1}
	o.binaryOp = binaryOp{
		f:  func(a, b float32) float32 { return float32(math.Mod(float64(a), float64(b))) },
		fi: intMod,
		da: func(a, b, y float32) float32 { return 1 },
		db: func(a, b, y float32) float32 { return -float32(math.Trunc(float64(a) / float64(b))) },
	}
	if o.fmod {
		o.fi = func(a, b int64) int64 { return a % b }
	}
	return o, nil
}

// intMod is a mod b with b's sign.
func intMod(a, b int64) int64 {
	r := a % b
	if r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r
}

func (o *mod) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, fmt.Errorf("Mod needs two inputs")
	}
	if !in[0].IsInt() && !o.fmod {
		return nil, fmt.Errorf("Mod of floats %v needs fmod=1 (the ONNX specification's rule)", in[0])
	}
	if in[1].IsInt() {
		for _, v := range in[1].Ints {
			if v == 0 {
				return nil, fmt.Errorf("Mod: integer division by zero (divisor %v holds 0)", in[1])
			}
		}
	}
	return o.binaryOp.Forward(s, in)
}

// Backward has gradients for floats only: integers have none.
func (o *mod) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	if _, ok := s.Aux().([2][]int32); !ok {
		return []*Tensor{nil, nil}, nil
	}
	return o.binaryOp.Backward(s, dy)
}
