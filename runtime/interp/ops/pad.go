package ops

import "fmt"

func init() {
	register("Pad", 2, newPad)  // pads and value are attributes
	register("Pad", 11, newPad) // pads and constant_value are inputs; negative pads crop
	register("Pad", 18, newPad) // axes input
}

// pad extends (or, with negative pads, crops) each axis. Modes: constant,
// reflect (mirror without repeating the edge), edge, and wrap.
type pad struct {
	mode  string
	pads  []int64 // opset < 11: the attribute
	value float32 // opset < 11: the attribute
	attrs bool    // pads and value come from attributes
}

type padSaved struct {
	xs     []int
	idx    [][]int32
	vShape []int // shape of a float constant_value input; nil without one
}

func newPad(n *Node) (Op, error) {
	mode, err := n.Str("mode", "constant")
	if err != nil {
		return nil, err
	}
	switch mode {
	case "constant", "reflect", "edge", "wrap":
	default:
		return nil, fmt.Errorf("%w: Pad %q: mode %q", ErrUnsupported, n.Name, mode)
	}
	p := &pad{mode: mode, attrs: n.Opset < 11}
	if p.attrs {
		if p.pads, err = n.Ints("pads", nil); err != nil {
			return nil, err
		}
		if p.value, err = n.Float("value", 0); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// axisMap returns the map of an axis of length n padded by b before and e
// after.
func (p *pad) axisMap(n, b, e int) ([]int32, error) {
	out := n + b + e
	if out < 0 {
		return nil, fmt.Errorf("pads %d, %d leave a negative length on an axis of %d", b, e, n)
	}
	if n == 0 && out > 0 && p.mode != "constant" {
		return nil, fmt.Errorf("%s padding of an empty axis", p.mode)
	}
	m := make([]int32, out)
	for o := range m {
		i := o - b
		if i < 0 || i >= n {
			switch p.mode {
			case "constant":
				i = -1
			case "edge":
				i = min(max(i, 0), n-1)
			case "wrap":
				i = (i%n + n) % n
			case "reflect":
				if n == 1 {
					i = 0
					break
				}
				period := 2 * (n - 1)
				i = (i%period + period) % period
				if i >= n {
					i = period - i
				}
			}
		}
		m[o] = int32(i)
	}
	return m, nil
}

func (p *pad) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	r := x.Rank()
	pads, value := p.pads, p.value
	var intValue int64
	var vShape []int
	if !p.attrs {
		var ok bool
		if pads, ok = intsIn(in, 1); !ok {
			return nil, fmt.Errorf("input 1 (pads) is missing")
		}
		if len(in) > 2 && in[2] != nil && in[2].Len() > 0 {
			if in[2].IsInt() {
				intValue, value = in[2].Ints[0], float32(in[2].Ints[0])
			} else {
				value, intValue = in[2].Data[0], int64(in[2].Data[0])
				vShape = in[2].Shape
			}
		}
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if a, ok := intsIn(in, 3); ok {
		axes = axes[:0]
		for _, v := range a {
			ax, err := normAxis(v, r)
			if err != nil {
				return nil, err
			}
			axes = append(axes, ax)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, fmt.Errorf("%d pads for %d axes", len(pads), len(axes))
	}
	begin, end := make([]int, r), make([]int, r)
	for i, ax := range axes {
		b, e := pads[i], pads[i+len(axes)]
		if max(b, e) > maxElems || min(b, e) < -maxElems {
			return nil, fmt.Errorf("pads %v: %w (at most %d a side)", pads, ErrTooLarge, maxElems)
		}
		begin[ax], end[ax] = int(b), int(e)
	}
	shape := make([]int, r)
	for ax := range shape {
		shape[ax] = max(x.Shape[ax]+begin[ax]+end[ax], 0) // axisMap refuses a negative length
	}
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	idx := make([][]int32, r)
	for ax := range idx {
		m, err := p.axisMap(x.Shape[ax], begin[ax], end[ax])
		if err != nil {
			return nil, fmt.Errorf("axis %d: %w", ax, err)
		}
		idx[ax], shape[ax] = m, len(m)
	}
	var y *Tensor
	if x.IsInt() {
		y = NewInts(shape, make([]int64, Numel(shape)))
		gatherAxes(y.Ints, x.Ints, x.Shape, idx, intValue)
	} else {
		y = NewFloat(shape...)
		gatherAxes(y.Data, x.Data, x.Shape, idx, value)
	}
	s.SetAux(padSaved{xs: x.Shape, idx: idx, vShape: vShape})
	return []*Tensor{y}, nil
}

// Backward returns the gradient of the data and, for an input
// constant_value, of the value: every output cell not read from the data
// holds it, so its gradient is Σdy − Σdx.
func (p *pad) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(padSaved)
	if !ok {
		return nil, fmt.Errorf("Pad: backward without a forward pass")
	}
	dx := NewFloat(append([]int(nil), a.xs...)...)
	scatterAxes(dx.Data, dy[0].Data, a.xs, a.idx)
	grads := make([]*Tensor, 3)
	grads[0] = dx
	if a.vShape != nil && s.Needs(2) {
		var sum float64
		for _, v := range dy[0].Data {
			sum += float64(v)
		}
		for _, v := range dx.Data {
			sum -= float64(v)
		}
		grads[2] = NewFloat(append([]int{}, a.vShape...)...)
		grads[2].Data[0] = float32(sum)
	}
	return grads, nil
}
