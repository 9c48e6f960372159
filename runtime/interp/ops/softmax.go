package ops

import "math"

// Before opset 13 Softmax and LogSoftmax flatten the input to 2-D at axis
// (default 1) and normalise each row of the flattened tail; from 13 they
// normalise along the one axis (default -1).
func init() {
	register("Softmax", 1, newSoftmax(false, false))
	register("Softmax", 13, newSoftmax(false, true))
}

type softmax struct {
	rowAxis
	log bool // LogSoftmax
}

// softmaxRows is the layout softmax works on: outer×n×inner, normalising
// over n at stride inner.
type softmaxRows struct{ outer, n, inner int }

// rowAxis is the axis attribute of Softmax, LogSoftmax and Hardmax: before
// opset 13 (default 1) it flattens the tail from axis into one row, from 13
// (oneAxis, default -1) a row runs along that one axis.
type rowAxis struct {
	axis    int64
	oneAxis bool
}

func newRowAxis(n *Node, oneAxis bool) (rowAxis, error) {
	def := int64(1)
	if oneAxis {
		def = -1
	}
	axis, err := n.Int("axis", def)
	return rowAxis{axis: axis, oneAxis: oneAxis}, err
}

// rows lays out a tensor of shape as rows along the axis.
func (o rowAxis) rows(shape []int) (softmaxRows, error) {
	a, err := normAxis(o.axis, len(shape))
	if err != nil {
		return softmaxRows{}, err
	}
	r := softmaxRows{outer: Numel(shape[:a]), n: Numel(shape[a:]), inner: 1}
	if o.oneAxis {
		r.n, r.inner = shape[a], Numel(shape[a+1:])
	}
	return r, nil
}

func newSoftmax(log, oneAxis bool) constructor {
	return func(n *Node) (Op, error) {
		ra, err := newRowAxis(n, oneAxis)
		return softmax{rowAxis: ra, log: log}, err
	}
}

func (o softmax) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "input")
	if err != nil {
		return nil, err
	}
	r, err := o.rows(x.Shape)
	if err != nil {
		return nil, err
	}
	y := s.alloc(false, x.Shape...) // every element written below
	for b := 0; b < r.outer; b++ {
		for i := 0; i < r.inner; i++ {
			base := b*r.n*r.inner + i
			xs, ys := x.Data[base:], y.Data[base:]
			m := float32(math.Inf(-1))
			for j := 0; j < r.n; j++ {
				m = max(m, xs[j*r.inner])
			}
			var sum float64
			for j := 0; j < r.n; j++ {
				e := math.Exp(float64(xs[j*r.inner] - m))
				sum += e
				if !o.log {
					ys[j*r.inner] = float32(e)
				}
			}
			if o.log { // shift first: m + log(sum) would round at m's scale
				ls := math.Log(sum)
				for j := 0; j < r.n; j++ {
					ys[j*r.inner] = float32(float64(xs[j*r.inner]-m) - ls)
				}
				continue
			}
			inv := float32(1 / sum)
			for j := 0; j < r.n; j++ {
				ys[j*r.inner] *= inv
			}
		}
	}
	s.Save(y)
	s.SetAux(r)
	return []*Tensor{y}, nil
}

// Backward: dx = y⊙(g - Σ g⊙y) for Softmax, dx = g - eʸ·Σ g for LogSoftmax.
func (o softmax) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	y, r := s.Saved(0), s.Aux().(softmaxRows)
	dx := s.alloc(false, y.Shape...) // every element written below
	for b := 0; b < r.outer; b++ {
		for i := 0; i < r.inner; i++ {
			base := b*r.n*r.inner + i
			gs, ys, ds := dy[0].Data[base:], y.Data[base:], dx.Data[base:]
			var dot float32
			for j := 0; j < r.n; j++ {
				if o.log {
					dot += gs[j*r.inner]
				} else {
					dot += gs[j*r.inner] * ys[j*r.inner]
				}
			}
			for j := 0; j < r.n; j++ {
				k := j * r.inner
				if o.log {
					ds[k] = gs[k] - float32(math.Exp(float64(ys[k])))*dot
				} else {
					ds[k] = ys[k] * (gs[k] - dot)
				}
			}
		}
	}
	return []*Tensor{dx}, nil
}

// Normalizer: the loss reads a final Softmax's or LogSoftmax's input.
func (softmax) Normalizer() {}
