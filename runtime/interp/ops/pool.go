package ops

import (
	"fmt"

	"github.com/onnxguard/onnxguard/onnx"
)

// pooling holds what MaxPool and AveragePool share: the window attributes
// and the rule that turns them into one plane's geometry. Pooling runs on
// N·C independent planes; 1-D pooling runs as 2-D with height 1.
type pooling struct {
	op  string
	win window
}

func parsePooling(n *Node) (pooling, error) {
	w, err := parseWindow(n)
	if err != nil {
		return pooling{}, err
	}
	if len(w.kernel) == 0 {
		return pooling{}, fmt.Errorf("%s needs the kernel_shape attribute", n.OpType)
	}
	if len(w.kernel) > 2 {
		return pooling{}, fmt.Errorf("%w: %s %q: %d-D pooling (only 1-D and 2-D)", ErrUnsupported, n.OpType, n.Name, len(w.kernel))
	}
	if len(w.pads) == 2*len(w.kernel) {
		// A window wholly in the padding has nothing to pool; ONNX Runtime
		// refuses such pads too.
		for i, k := range w.kernel {
			if w.pads[i] >= k || w.pads[i+len(w.kernel)] >= k {
				return pooling{}, fmt.Errorf("%w: pads=%v: each must be smaller than kernel_shape %v", onnx.ErrInvalid, w.pads, w.kernel)
			}
		}
	}
	return pooling{op: n.OpType, win: w}, nil
}

// poolGeom is one plane's window geometry (c = 1) plus what the pooling
// loops need besides: the end pads, the plane count N·C and whether the
// input was 1-D.
type poolGeom struct {
	geom2d
	pb, pr int // bottom and right padding
	planes int
	oneD   bool
}

// geometry resolves the window over input shape xs.
func (p pooling) geometry(xs []int) (poolGeom, error) {
	xs4, oneD := as2d(xs)
	if len(xs4) != 4 {
		return poolGeom{}, fmt.Errorf("%w: %s on input of shape %v (only 1-D and 2-D pooling)", ErrUnsupported, p.op, ShapeString(xs))
	}
	win := p.win
	if oneD {
		win = oneDWindow(win)
	}
	if len(win.kernel) != 2 {
		return poolGeom{}, fmt.Errorf("kernel_shape %v does not fit input %v", p.win.kernel, ShapeString(xs))
	}
	r, size, err := win.resolve(xs4[2:], win.kernel)
	if err != nil {
		return poolGeom{}, err
	}
	g := geom2d{c: 1, h: xs4[2], w: xs4[3], kh: win.kernel[0], kw: win.kernel[1],
		sh: r.strides[0], sw: r.strides[1], ph: r.pads[0], pw: r.pads[1],
		dh: r.dilations[0], dw: r.dilations[1], oh: size[0], ow: size[1]}
	return poolGeom{geom2d: g, pb: r.pads[2], pr: r.pads[3], planes: xs4[0] * xs4[1], oneD: oneD}, nil
}

// outShape is the pooled shape for input shape xs, rank kept.
func (g poolGeom) outShape(xs []int) []int {
	if g.oneD {
		return []int{xs[0], xs[1], g.ow}
	}
	return []int{xs[0], xs[1], g.oh, g.ow}
}

// tapSpan is, for one output row or column, the kernel taps [lo, hi) that
// land inside the input and the number of taps inside the padded input
// (a ceil_mode window may hang past the end padding).
type tapSpan struct{ lo, hi, padded int }

// tapSpans computes the spans of out windows along one axis of length in,
// with begin and end padding pad0 and pad1, so the pooling loops need no
// per-tap padding tests.
func tapSpans(out, in, stride, pad0, pad1, k, dil int) []tapSpan {
	sp := make([]tapSpan, out)
	for o := range sp {
		start := o*stride - pad0
		s := tapSpan{lo: k, hi: 0}
		for t := 0; t < k; t++ {
			i := start + t*dil
			if i >= 0 && i < in {
				s.lo, s.hi = min(s.lo, t), t+1
			}
			if i >= -pad0 && i < in+pad1 {
				s.padded++
			}
		}
		if s.hi <= s.lo {
			s.lo, s.hi = 0, 0
		}
		sp[o] = s
	}
	return sp
}

// spans returns the row and column tap spans of g.
func (g poolGeom) spans() (rows, cols []tapSpan) {
	return tapSpans(g.oh, g.h, g.sh, g.ph, g.pb, g.kh, g.dh),
		tapSpans(g.ow, g.w, g.sw, g.pw, g.pr, g.kw, g.dw)
}
