package ops

import (
	"fmt"
	"math"
)

func init() {
	register("Dropout", 1, newDropout(1))   // ratio and is_test attributes
	register("Dropout", 7, newDropout(7))   // is_test removed: the mode comes from the runtime
	register("Dropout", 10, newDropout(10)) // the mask output became bool
	register("Dropout", 12, newDropout(12)) // ratio and training_mode became optional inputs
}

// dropout is the identity in inference mode. In training mode (the
// program's, or a true training_mode input) it zeroes each element with
// probability ratio and scales the rest by 1/(1-ratio), drawing the mask
// from the State's seeded source; the seed attribute is not used.
type dropout struct {
	ratio      float32
	ratioInput bool // opset 12: ratio and training_mode are inputs 1 and 2
	isTest     bool // opsets 1-6: inference whatever the runtime mode
	mask       bool // the node asks for the mask output
	intMask    bool // opset 10: the mask is bool (0/1 integers), before it is float
}

func newDropout(since int64) constructor {
	return func(n *Node) (Op, error) {
		d := &dropout{ratio: 0.5, ratioInput: since >= 12, intMask: since >= 10}
		d.mask = len(n.Outputs) > 1 && n.Outputs[1] != ""
		var err error
		if !d.ratioInput {
			if d.ratio, err = n.Float("ratio", 0.5); err != nil {
				return nil, err
			}
		}
		if since < 7 {
			isTest, err := n.Int("is_test", 0)
			if err != nil {
				return nil, err
			}
			d.isTest = isTest != 0
		}
		return d, nil
	}
}

func (d *dropout) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "data")
	if err != nil {
		return nil, err
	}
	ratio, training := d.ratio, s.Training && !d.isTest
	if d.ratioInput {
		if len(in) > 1 && in[1] != nil {
			r, err := floatIn(in, 1, "ratio")
			if err != nil {
				return nil, err
			}
			if r.Len() != 1 {
				return nil, fmt.Errorf("ratio has shape %v, want a scalar", r.Shape)
			}
			ratio = r.Data[0]
		}
		if len(in) > 2 && in[2] != nil {
			t := in[2]
			if t.Len() != 1 {
				return nil, fmt.Errorf("training_mode has shape %v, want a scalar", t.Shape)
			}
			training = training || t.IsInt() && t.Ints[0] != 0 || !t.IsInt() && t.Data[0] != 0
		}
	}
	s.SetAux(nil)
	if !training || ratio == 0 {
		return d.outputs(x, nil), nil
	}
	if ratio < 0 || ratio >= 1 {
		return nil, fmt.Errorf("ratio %g is outside [0, 1)", ratio)
	}
	if s.Rand == nil {
		return nil, fmt.Errorf("training-mode Dropout needs a random source")
	}
	// One 64-bit draw yields two 32-bit uniforms; an element is kept when
	// its uniform is at least ratio·2³².
	th := uint64(float64(ratio) * (1 << 32))
	scale := 1 / (1 - ratio)
	keep := make([]float32, x.Len())
	for k := 0; k < len(keep); k += 2 {
		u := s.Rand.Uint64()
		if u&math.MaxUint32 >= th {
			keep[k] = scale
		}
		if k+1 < len(keep) && u>>32 >= th {
			keep[k+1] = scale
		}
	}
	y := like(x)
	for k, v := range x.Data {
		y.Data[k] = v * keep[k]
	}
	s.SetAux(keep)
	return d.outputs(y, keep), nil
}

// outputs returns y and, when asked for, the mask: true where keep is
// non-zero, everywhere when keep is nil.
func (d *dropout) outputs(y *Tensor, keep []float32) []*Tensor {
	if !d.mask {
		return []*Tensor{y}
	}
	shape := append([]int(nil), y.Shape...)
	if d.intMask {
		m := NewInts(shape, make([]int64, y.Len()))
		for k := range m.Ints {
			if keep == nil || keep[k] != 0 {
				m.Ints[k] = 1
			}
		}
		return []*Tensor{y, m}
	}
	m := NewFloat(shape...)
	for k := range m.Data {
		if keep == nil || keep[k] != 0 {
			m.Data[k] = 1
		}
	}
	return []*Tensor{y, m}
}

func (d *dropout) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	keep, _ := s.Aux().([]float32)
	if keep == nil {
		return []*Tensor{dy[0]}, nil
	}
	dx := like(dy[0])
	for k, g := range dy[0].Data {
		dx.Data[k] = g * keep[k]
	}
	return []*Tensor{dx}, nil
}

// ModeDependent: Dropout masks only in training mode.
func (*dropout) ModeDependent(bool) bool { return true }
