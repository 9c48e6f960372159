package ops

import (
	"fmt"
	"math"
)

func init() {
	register("Resize", 10, newResize) // X, scales; asymmetric coordinates, nearest rounds down
	register("Resize", 11, newResize) // roi and sizes inputs; coordinate and nearest modes
	register("Resize", 13, newResize) // roi and scales may be omitted
	register("Resize", 18, newResize) // antialias, axes, keep_aspect_ratio_policy
	register("Resize", 19, newResize) // half_pixel_symmetric coordinates
}

// resize samples its input on a new grid: nearest-neighbour along every
// axis, or linear or cubic along the last two axes (bilinear and bicubic
// for images). Upsample is the same operator with asymmetric coordinates.
// Antialiased downscaling and tf_crop_and_resize are not implemented.
type resize struct {
	op                string
	mode              string // nearest, linear or cubic
	cubicA            float32
	excludeOutside    bool
	coord, nearest    string
	antialias         bool
	axes              []int64 // opset 18; nil for all axes
	policy            string  // keep_aspect_ratio_policy
	scalesAt, sizesAt int     // input positions, -1 for none
	attrScales        []float32
}

func newResize(n *Node) (Op, error) {
	r := &resize{op: "Resize", coord: "asymmetric", nearest: "floor", policy: "stretch", scalesAt: 1, sizesAt: -1}
	var err error
	if n.Opset >= 11 {
		r.scalesAt, r.sizesAt = 2, 3
		if r.coord, err = n.Str("coordinate_transformation_mode", "half_pixel"); err != nil {
			return nil, err
		}
		if r.nearest, err = n.Str("nearest_mode", "round_prefer_floor"); err != nil {
			return nil, err
		}
	}
	if n.Opset >= 18 {
		aa, err := n.Int("antialias", 0)
		if err != nil {
			return nil, err
		}
		r.antialias = aa != 0
		if r.axes, err = n.Ints("axes", nil); err != nil {
			return nil, err
		}
		if r.policy, err = n.Str("keep_aspect_ratio_policy", "stretch"); err != nil {
			return nil, err
		}
	}
	return r, r.setMode(n)
}

// setMode reads and checks mode and the mode-dependent settings.
func (r *resize) setMode(n *Node) error {
	mode, err := n.Str("mode", "nearest")
	if err != nil {
		return err
	}
	switch mode {
	case "nearest", "linear", "cubic":
		r.mode = mode
	case "bilinear": // some Upsample-7 exporters
		r.mode = "linear"
	default:
		return fmt.Errorf("mode %q is not nearest, linear or cubic", mode)
	}
	if r.cubicA, err = n.Float("cubic_coeff_a", -0.75); err != nil {
		return err
	}
	ex, err := n.Int("exclude_outside", 0)
	if err != nil {
		return err
	}
	r.excludeOutside = ex != 0
	switch r.coord {
	case "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric":
	case "tf_half_pixel_for_nn", "tf_half_pixel_for_nearest":
		r.coord = "tf_half_pixel_for_nn"
	case "tf_crop_and_resize":
		return fmt.Errorf("%w: %s %q: coordinate_transformation_mode tf_crop_and_resize", ErrUnsupported, r.op, n.Name)
	default:
		return fmt.Errorf("unknown coordinate_transformation_mode %q", r.coord)
	}
	switch r.nearest {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return fmt.Errorf("unknown nearest_mode %q", r.nearest)
	}
	switch r.policy {
	case "stretch", "not_larger", "not_smaller":
	default:
		return fmt.Errorf("unknown keep_aspect_ratio_policy %q", r.policy)
	}
	return nil
}

// grid returns the output shape and the scale of every axis.
func (r *resize) grid(in []*Tensor, xs []int) (out []int, scale []float64, err error) {
	rank := len(xs)
	axes, err := r.resizedAxes(rank)
	if err != nil {
		return nil, nil, err
	}
	out, scale = append([]int(nil), xs...), make([]float64, rank)
	for i := range scale {
		scale[i] = 1
	}
	scales := r.attrScales
	if r.scalesAt >= 0 && len(in) > r.scalesAt && in[r.scalesAt] != nil && in[r.scalesAt].Len() > 0 {
		if in[r.scalesAt].IsInt() {
			return nil, nil, fmt.Errorf("scales %v hold integers", in[r.scalesAt])
		}
		scales = in[r.scalesAt].Data
	}
	if len(scales) > 0 {
		if len(scales) != len(axes) {
			return nil, nil, fmt.Errorf("%d scales for %d axes", len(scales), len(axes))
		}
		for i, ax := range axes {
			if !(scales[i] > 0) || math.IsInf(float64(scales[i]), 0) {
				return nil, nil, fmt.Errorf("scale %g on axis %d", scales[i], ax)
			}
			scale[ax] = float64(scales[i])
			size := math.Floor(float64(xs[ax]) * scale[ax])
			if size > maxElems {
				return nil, nil, fmt.Errorf("scale %g makes axis %d %g long: %w", scales[i], ax, size, ErrTooLarge)
			}
			out[ax] = int(size)
		}
		return out, scale, nil
	}
	var sizes []int64
	if r.sizesAt >= 0 {
		sizes, _ = intsIn(in, r.sizesAt)
	}
	if len(sizes) == 0 {
		return nil, nil, fmt.Errorf("%s needs scales or sizes", r.op)
	}
	if len(sizes) != len(axes) {
		return nil, nil, fmt.Errorf("%d sizes for %d axes", len(sizes), len(axes))
	}
	for i, ax := range axes {
		if xs[ax] == 0 || sizes[i] <= 0 {
			return nil, nil, fmt.Errorf("resizing axis %d of length %d to %d", ax, xs[ax], sizes[i])
		}
		out[ax] = int(sizes[i])
		scale[ax] = float64(sizes[i]) / float64(xs[ax])
	}
	if r.policy != "stretch" {
		s := scale[axes[0]]
		for _, ax := range axes {
			if r.policy == "not_larger" {
				s = min(s, scale[ax])
			} else {
				s = max(s, scale[ax])
			}
		}
		for _, ax := range axes {
			scale[ax] = s
			size := math.Floor(s*float64(xs[ax]) + 0.5)
			if size > maxElems {
				return nil, nil, fmt.Errorf("keeping the aspect ratio makes axis %d %g long: %w", ax, size, ErrTooLarge)
			}
			out[ax] = int(size)
		}
	}
	return out, scale, nil
}

// resizedAxes returns the axes the axes attribute names, normalised for
// rank, or every axis where it is absent.
func (r *resize) resizedAxes(rank int) ([]int, error) {
	axes := make([]int, 0, rank)
	if r.axes == nil {
		for i := 0; i < rank; i++ {
			axes = append(axes, i)
		}
		return axes, nil
	}
	for _, a := range r.axes {
		ax, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		axes = append(axes, ax)
	}
	return axes, nil
}

// source maps output coordinate o to the input coordinate along an axis of
// length in resized to out with scale. Like ONNX's reference, align_corners
// and half_pixel_symmetric use the unrounded resized length in·scale.
func (r *resize) source(o, in, out int, scale float64) float64 {
	x := float64(o)
	switch r.coord {
	case "half_pixel":
		return (x+0.5)/scale - 0.5
	case "half_pixel_symmetric":
		adj := float64(out) / (scale * float64(in))
		return float64(in)/2*(1-adj) + (x+0.5)/scale - 0.5
	case "pytorch_half_pixel":
		if out > 1 {
			return (x+0.5)/scale - 0.5
		}
		return 0
	case "align_corners":
		if l := scale * float64(in); l != 1 {
			return x * float64(in-1) / (l - 1)
		}
		return 0
	case "tf_half_pixel_for_nn":
		return (x + 0.5) / scale
	}
	return x / scale // asymmetric
}

// nearestMap returns the nearest-neighbour map of one axis.
func (r *resize) nearestMap(in, out int, scale float64) []int32 {
	m := make([]int32, out)
	for o := range m {
		x := r.source(o, in, out, scale)
		f := math.Floor(x)
		switch r.nearest {
		case "round_prefer_floor":
			if x-f > 0.5 {
				f++
			}
		case "round_prefer_ceil":
			if x-f >= 0.5 {
				f++
			}
		case "ceil":
			f = math.Ceil(x)
		}
		m[o] = int32(min(max(f, 0), float64(in-1)))
	}
	return m
}

// lerpTap is one output coordinate of linear interpolation: the two input
// neighbours and the weight of the second.
type lerpTap struct {
	i0, i1 int
	w      float32
}

func (r *resize) lerpTaps(in, out int, scale float64) []lerpTap {
	t := make([]lerpTap, out)
	for o := range t {
		x := r.source(o, in, out, scale)
		f := math.Floor(x)
		i0 := int(f)
		t[o] = lerpTap{i0: min(max(i0, 0), in-1), i1: min(max(i0+1, 0), in-1), w: float32(x - f)}
	}
	return t
}

type resizeSaved struct {
	xs       []int
	idx      [][]int32 // nearest
	ys, xtap []lerpTap // linear
	cys, cxs []cubicTap
}

func (r *resize) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (X) is missing")
	}
	x := in[0]
	out, scale, err := r.grid(in, x.Shape)
	if err != nil {
		return nil, err
	}
	if err := s.fits(out...); err != nil {
		return nil, err
	}
	if r.mode == "nearest" {
		idx := make([][]int32, len(out))
		for ax := range idx {
			idx[ax] = r.nearestMap(x.Shape[ax], out[ax], scale[ax])
		}
		var y *Tensor
		if x.IsInt() {
			y = NewInts(out, make([]int64, Numel(out)))
			gatherAxes(y.Ints, x.Ints, x.Shape, idx, 0)
		} else {
			y = NewFloat(out...)
			gatherAxes(y.Data, x.Data, x.Shape, idx, 0)
		}
		s.SetAux(resizeSaved{xs: x.Shape, idx: idx})
		return []*Tensor{y}, nil
	}
	if x.IsInt() {
		return nil, fmt.Errorf("%w: %s: %s interpolation of integers", ErrUnsupported, r.op, r.mode)
	}
	rank := x.Rank()
	for ax := 0; ax < rank-2; ax++ {
		if scale[ax] != 1 || out[ax] != x.Shape[ax] {
			return nil, fmt.Errorf("%w: %s: %s resizing of axis %d (only the last two axes)", ErrUnsupported, r.op, r.mode, ax)
		}
	}
	if r.antialias {
		for _, sc := range scale {
			if sc < 1 {
				return nil, fmt.Errorf("%w: %s: antialiased downscaling", ErrUnsupported, r.op)
			}
		}
	}
	h, w := plane2d(x.Shape)
	oh, ow := plane2d(out)
	y := NewFloat(out...)
	if r.mode == "cubic" {
		ys := []cubicTap{{w: [4]float32{1}}}
		if rank >= 2 {
			ys = r.cubicTaps(h, oh, scale[rank-2])
		}
		xs := r.cubicTaps(w, ow, scale[rank-1])
		cubicForward(y.Data, x.Data, h, w, ys, xs)
		s.SetAux(resizeSaved{xs: x.Shape, cys: ys, cxs: xs})
		return []*Tensor{y}, nil
	}
	ys := []lerpTap{{}}
	if rank >= 2 {
		ys = r.lerpTaps(h, oh, scale[rank-2])
	}
	xt := r.lerpTaps(w, ow, scale[rank-1])
	planes := Numel(out) / max(oh*ow, 1)
	for p := 0; p < planes; p++ {
		src, dst := x.Data[p*h*w:][:h*w], y.Data[p*oh*ow:][:oh*ow]
		for oy, ty := range ys {
			r0, r1 := src[ty.i0*w:][:w], src[ty.i1*w:][:w]
			row := dst[oy*ow:][:ow]
			for ox, tx := range xt {
				top := r0[tx.i0] + tx.w*(r0[tx.i1]-r0[tx.i0])
				bot := r1[tx.i0] + tx.w*(r1[tx.i1]-r1[tx.i0])
				row[ox] = top + ty.w*(bot-top)
			}
		}
	}
	s.SetAux(resizeSaved{xs: x.Shape, ys: ys, xtap: xt})
	return []*Tensor{y}, nil
}

// plane2d returns the sizes of the last two axes (1 for a missing one).
func plane2d(shape []int) (h, w int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return 1, shape[0]
	}
	return shape[len(shape)-2], shape[len(shape)-1]
}

// Backward scatters each output gradient back to the input cells it was
// read from, with the interpolation weights; scales, sizes and roi get none.
func (r *resize) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(resizeSaved)
	if !ok {
		return nil, fmt.Errorf("%s: backward without a forward pass", r.op)
	}
	dx := NewFloat(append([]int(nil), a.xs...)...)
	g := dy[0].Data
	h, w := plane2d(a.xs)
	switch r.mode {
	case "nearest":
		scatterAxes(dx.Data, g, a.xs, a.idx)
		return []*Tensor{dx}, nil
	case "cubic":
		cubicBackward(dx.Data, g, h, w, a.cys, a.cxs)
		return []*Tensor{dx}, nil
	}
	oh, ow := len(a.ys), len(a.xtap)
	planes := dx.Len() / max(h*w, 1)
	for p := 0; p < planes; p++ {
		d, gp := dx.Data[p*h*w:][:h*w], g[p*oh*ow:][:oh*ow]
		for oy, ty := range a.ys {
			r0, r1 := d[ty.i0*w:][:w], d[ty.i1*w:][:w]
			for ox, tx := range a.xtap {
				v := gp[oy*ow+ox]
				top, bot := v*(1-ty.w), v*ty.w
				r0[tx.i0] += top * (1 - tx.w)
				r0[tx.i1] += top * tx.w
				r1[tx.i0] += bot * (1 - tx.w)
				r1[tx.i1] += bot * tx.w
			}
		}
	}
	return []*Tensor{dx}, nil
}
