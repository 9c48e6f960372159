package ops

import "fmt"

func init() {
	register("Reshape", 1, newReshapeAttr)
	register("Reshape", 5, newReshape) // the shape became an input
}

// reshapeOp gives the data a new shape without moving it. In the target
// shape one -1 is inferred and 0 copies the input's dimension, unless
// allowzero (opset 14) asks for a real zero.
type reshapeOp struct {
	shape     []int64 // the opset 1 attribute; nil when the shape is an input
	allowZero bool
}

func newReshapeAttr(n *Node) (Op, error) {
	if !n.Has("shape") {
		return nil, fmt.Errorf("attribute shape is required before opset 5")
	}
	shape, err := n.Ints("shape", []int64{})
	if shape == nil {
		shape = []int64{} // a scalar target; nil means the shape is an input
	}
	return reshapeOp{shape: shape}, err
}

func newReshape(n *Node) (Op, error) {
	az, err := n.Int("allowzero", 0) // opset 14; absent before
	return reshapeOp{allowZero: az != 0}, err
}

func (r reshapeOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	target := r.shape
	if target == nil {
		var ok bool
		if target, ok = intsIn(in, 1); !ok {
			return nil, fmt.Errorf("input 1 (shape) is missing")
		}
	}
	shape, err := reshapeTarget(x.Shape, target, r.allowZero)
	if err != nil {
		return nil, err
	}
	s.SetAux(x.Shape)
	return []*Tensor{reshaped(x, shape)}, nil
}

func (reshapeOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{regrad(dy[0], s.Aux()), nil}, nil
}

// reshapeTarget resolves Reshape's target shape against the input's shape.
func reshapeTarget(in []int, target []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(target))
	infer, known := -1, 1
	for i, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", target)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dimension %d (0) of input %v, which has rank %d", target, i, ShapeString(in), len(in))
			}
			out[i] = in[i]
		case d < 0:
			return nil, fmt.Errorf("shape %v has negative dimension %d", target, d)
		default:
			out[i] = int(d)
		}
		known *= out[i]
	}
	n := Numel(in)
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("cannot reshape input %v (%d elements) to %v: the -1 dimension cannot be inferred", ShapeString(in), n, target)
		}
		out[infer] = n / known
	} else if known != n {
		return nil, fmt.Errorf("cannot reshape input %v (%d elements) to %v (%d elements)", ShapeString(in), n, target, known)
	}
	return out, nil
}
