package ops

import "fmt"

func init() {
	register("DepthToSpace", 1, newDepthToSpace) // mode arrived in opset 11 (DCR, the old behaviour, is its default)
}

// blockShuffle moves values between channels and blocks of pixels, as
// DepthToSpace and SpaceToDepth do: a reshape of the N×C×H×W input to
// rank 6, a transpose, and a reshape to the output. It shares Transpose's
// kernel, and its backward pass is the inverse transpose.
type blockShuffle struct {
	block int
	// plan returns, for an input shape, the rank-6 view, the permutation
	// and the output shape.
	plan func(x []int, b int) (view, perm, out []int, err error)
}

// blockShuffleSaved is what the backward pass needs.
type blockShuffleSaved struct{ in, permuted, perm []int }

func newDepthToSpace(n *Node) (Op, error) {
	b, err := n.Int("blocksize", 0)
	if err != nil {
		return nil, err
	}
	mode, err := n.Str("mode", "DCR")
	if err != nil {
		return nil, err
	}
	var perm []int
	switch mode {
	case "DCR": // depth ordered block row, block column, channel
		perm = []int{0, 3, 4, 1, 5, 2}
	case "CRD": // channel, block row, block column
		perm = []int{0, 1, 4, 2, 5, 3}
	default:
		return nil, fmt.Errorf("mode %q is neither DCR nor CRD", mode)
	}
	plan := func(x []int, b int) ([]int, []int, []int, error) {
		c := x[1] / (b * b)
		if c*b*b != x[1] {
			return nil, nil, nil, fmt.Errorf("%d channels do not divide into blocks of %d×%d", x[1], b, b)
		}
		view := []int{x[0], b, b, c, x[2], x[3]}
		if mode == "CRD" {
			view = []int{x[0], c, b, b, x[2], x[3]}
		}
		return view, perm, []int{x[0], c, x[2] * b, x[3] * b}, nil
	}
	return newBlockShuffle(b, plan)
}

func newBlockShuffle(b int64, plan func(x []int, b int) ([]int, []int, []int, error)) (Op, error) {
	if b < 1 || b > maxWindow { // b² must not overflow
		return nil, fmt.Errorf("blocksize=%d: must lie in [1, %d]", b, maxWindow)
	}
	return blockShuffle{block: int(b), plan: plan}, nil
}

func (o blockShuffle) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	x := in[0]
	if x.Rank() != 4 {
		return nil, fmt.Errorf("input %v is not N×C×H×W", x)
	}
	view, perm, out, err := o.plan(x.Shape, o.block)
	if err != nil {
		return nil, err
	}
	y := permuteTensor(reshaped(x, view), perm)
	s.SetAux(blockShuffleSaved{in: x.Shape, permuted: y.Shape, perm: perm})
	return []*Tensor{reshaped(y, out)}, nil
}

func (blockShuffle) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	if dy[0] == nil || dy[0].IsInt() {
		return []*Tensor{nil}, nil
	}
	sv := s.Aux().(blockShuffleSaved)
	return []*Tensor{reshaped(permuteTensor(reshaped(dy[0], sv.permuted), invertPerm(sv.perm)), sv.in)}, nil
}
