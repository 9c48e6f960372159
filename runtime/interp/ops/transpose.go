package ops

import "fmt"

func init() { register("Transpose", 1, newTranspose) }

// transposeOp reorders axes: output axis i is input axis perm[i]; the
// default perm reverses them.
type transposeOp struct{ perm []int }

func newTranspose(n *Node) (Op, error) {
	p, err := n.Ints("perm", nil)
	if err != nil {
		return nil, err
	}
	op := transposeOp{}
	if p != nil {
		op.perm = make([]int, len(p))
		for i, v := range p {
			op.perm[i] = int(v)
		}
	}
	return op, nil
}

func (t transposeOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	perm, err := t.resolve(x.Rank())
	if err != nil {
		return nil, err
	}
	s.SetAux(perm)
	return []*Tensor{permuteFloats(s, x, perm)}, nil
}

// permuteFloats is permuteTensor with float storage from the node's
// pool, which takes back what the backward pass lets go (a ViT permutes
// every attention head's queries, keys and values both ways).
func permuteFloats(s *State, x *Tensor, perm []int) *Tensor {
	if x.IsInt() {
		return permuteTensor(x, perm)
	}
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	y := s.alloc(false, shape...)
	permuteInto(y.Data, x.Data, x.Shape, perm)
	return y
}

// resolve checks perm against the input's rank, or builds the default.
func (t transposeOp) resolve(r int) ([]int, error) {
	if t.perm == nil {
		perm := make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
		return perm, nil
	}
	if len(t.perm) != r {
		return nil, fmt.Errorf("perm %v has %d axes for an input of rank %d", t.perm, len(t.perm), r)
	}
	seen := make([]bool, r)
	for _, p := range t.perm {
		if p < 0 || p >= r || seen[p] {
			return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", t.perm, r-1)
		}
		seen[p] = true
	}
	return t.perm, nil
}

func (transposeOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	if dy[0] == nil {
		return []*Tensor{nil}, nil
	}
	return []*Tensor{permuteFloats(s, dy[0], invertPerm(s.Aux().([]int)))}, nil
}
