package ops

import "fmt"

func init() { register("Shape", 1, newShape) } // start and end arrived in opset 15, absent before

// shapeOp returns the input's dimensions start..end as an int64 vector;
// negative bounds count from the end and both are clamped to the rank.
type shapeOp struct {
	start, end int64
	hasEnd     bool
}

func newShape(n *Node) (Op, error) {
	start, err := n.Int("start", 0)
	if err != nil {
		return nil, err
	}
	end, err := n.Int("end", 0)
	return shapeOp{start: start, end: end, hasEnd: n.Has("end")}, err
}

func (o shapeOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	r := int64(in[0].Rank())
	bound := func(v int64) int {
		if v < 0 {
			v += r
		}
		return int(min(max(v, 0), r))
	}
	start, end := bound(o.start), int(r)
	if o.hasEnd {
		end = bound(o.end)
	}
	dims := shapeValues(in[0].Shape[start:max(start, end)])
	return []*Tensor{NewInts([]int{len(dims)}, dims)}, nil
}

func (shapeOp) Backward(*State, []*Tensor) ([]*Tensor, error) { return []*Tensor{nil}, nil }
