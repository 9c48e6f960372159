package ops

import "fmt"

func init() {
	register("Slice", 1, newSliceAttr)
	register("Slice", 10, newSlice) // starts, ends, axes became inputs, and steps arrived
}

// sliceOp takes a strided window along some axes. Negative starts and ends
// count from the end; out-of-range ones (INT64_MAX and INT64_MIN included)
// are clamped as the specification says, differently for negative steps.
type sliceOp struct {
	starts, ends, axes []int64 // the opset 1 attributes; starts is nil from opset 10
}

func newSliceAttr(n *Node) (Op, error) {
	var op sliceOp
	var err error
	if op.starts, err = n.Ints("starts", nil); err != nil {
		return nil, err
	}
	if op.ends, err = n.Ints("ends", nil); err != nil {
		return nil, err
	}
	if op.axes, err = n.Ints("axes", nil); err != nil {
		return nil, err
	}
	if op.starts == nil || op.ends == nil {
		return nil, fmt.Errorf("attributes starts and ends are required before opset 10")
	}
	return op, nil
}

func newSlice(*Node) (Op, error) { return sliceOp{}, nil }

// slicePlan is a resolved slice: per input axis the first index, the step
// and the number of elements taken. Axes after k are taken whole, so they
// move as one contiguous block of inner values.
type slicePlan struct {
	shape, start, step, count []int
	k, inner                  int // k is -1 when the slice takes everything
	inputs                    int // how many inputs the node was given
}

func (o sliceOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	p, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	s.SetAux(p)
	if p.k < 0 {
		return []*Tensor{x}, nil
	}
	var y *Tensor
	if x.IsInt() {
		y = zerosOfKind(x, p.count)
	} else {
		y = s.alloc(false, p.count...) // sliceMove writes every element
	}
	if x.IsInt() {
		sliceMove(x.Ints, y.Ints, p, false)
	} else {
		sliceMove(x.Data, y.Data, p, false)
	}
	return []*Tensor{y}, nil
}

func (sliceOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	p := s.Aux().(*slicePlan)
	grads := make([]*Tensor, p.inputs)
	if dy[0] == nil || dy[0].IsInt() {
		return grads, nil
	}
	if p.k < 0 {
		grads[0] = dy[0]
		return grads, nil
	}
	// Zeros from the pool: a ViT's three slices of its fused q, k, v
	// projection each scatter into a tensor of the whole projection's size.
	dx := s.alloc(true, p.shape...)
	sliceMove(dx.Data, dy[0].Data, p, true)
	grads[0] = dx
	return grads, nil
}

// plan resolves starts, ends, axes and steps against the input's shape.
func (o sliceOp) plan(in []*Tensor) (*slicePlan, error) {
	x := in[0]
	starts, ends, axes := o.starts, o.ends, o.axes
	var steps []int64
	if starts == nil {
		var ok1, ok2 bool
		starts, ok1 = intsIn(in, 1)
		ends, ok2 = intsIn(in, 2)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("inputs 1 (starts) and 2 (ends) are required")
		}
		axes, _ = intsIn(in, 3)
		steps, _ = intsIn(in, 4)
	}
	if len(ends) != len(starts) || axes != nil && len(axes) != len(starts) || steps != nil && len(steps) != len(starts) {
		return nil, fmt.Errorf("starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
	}
	r := x.Rank()
	p := &slicePlan{shape: x.Shape, start: make([]int, r), step: make([]int, r), count: append([]int(nil), x.Shape...), k: -1, inner: 1, inputs: len(in)}
	for a := range p.step {
		p.step[a] = 1
	}
	seen := make([]bool, r)
	for i := range starts {
		a := int64(i)
		if axes != nil {
			a = axes[i]
		}
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, fmt.Errorf("axes %v repeat axis %d", axes, ax)
		}
		seen[ax] = true
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("steps %v contain a zero", steps)
		}
		p.start[ax], p.count[ax] = sliceRange(starts[i], ends[i], step, int64(x.Shape[ax]))
		p.step[ax] = int(step)
	}
	for ax := r - 1; ax >= 0; ax-- {
		if p.start[ax] != 0 || p.step[ax] != 1 || p.count[ax] != x.Shape[ax] {
			p.k = ax
			break
		}
		p.inner *= x.Shape[ax]
	}
	return p, nil
}

// sliceRange applies the specification's clamping to one axis of length d
// and returns the first index and the element count.
func sliceRange(start, end, step, d int64) (int, int) {
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start, end = min(max(start, 0), d), min(max(end, 0), d)
		if end <= start {
			return int(start), 0
		}
		return int(start), int((end - start + step - 1) / step)
	}
	start, end = min(max(start, 0), d-1), min(max(end, -1), d-1)
	if start <= end {
		return int(max(start, 0)), 0
	}
	return int(start), int((start - end - step - 1) / -step)
}

// sliceMove copies the slice of x described by p into y, or, with
// scatter, y back into its places in x. Runs along the whole-taken inner
// axes (and along axis k when its step is 1) move with copy().
func sliceMove[T tensorValue](x, y []T, p *slicePlan, scatter bool) {
	if len(y) == 0 {
		return
	}
	k := p.k
	st := strides(p.shape)
	base := p.start[k] * st[k]
	for a := 0; a < k; a++ {
		base += p.start[a] * st[a]
	}
	n, run, jump := p.count[k], p.inner, p.step[k]*st[k]
	if p.step[k] == 1 {
		n, run = 1, n*run
	}
	pos := make([]int, k)
	for d := 0; d < len(y); {
		src := base
		switch {
		case run == 1 && scatter:
			for j := 0; j < n; j, src = j+1, src+jump {
				x[src] = y[d+j]
			}
			d += n
		case run == 1:
			for j := 0; j < n; j, src = j+1, src+jump {
				y[d+j] = x[src]
			}
			d += n
		default:
			for j := 0; j < n; j, src, d = j+1, src+jump, d+run {
				if scatter {
					copy(x[src:src+run], y[d:d+run])
				} else {
					copy(y[d:d+run], x[src:src+run])
				}
			}
		}
		for a := k - 1; a >= 0; a-- {
			pos[a]++
			base += p.step[a] * st[a]
			if pos[a] < p.count[a] {
				break
			}
			base -= p.step[a] * st[a] * p.count[a]
			pos[a] = 0
		}
	}
}
