package ops

import (
	"fmt"
	"slices"
)

func init() { register("ConvTranspose", 1, newConvTranspose) }

// convTranspose is the adjoint of Conv: per sample and group, one matrix
// multiply Wᵀ·X spreads every input pixel over a kernel-sized patch, and
// col2im adds the patches into the output. Its backward pass is a Conv:
// im2col of the output gradient times W. 1-D runs as 2-D with height 1.
type convTranspose struct {
	win           window
	group         int
	outputPadding []int
	outputShape   []int // spatial; empty when not given
}

func newConvTranspose(n *Node) (Op, error) {
	w, g, err := parseConvWindow(n)
	if err != nil {
		return nil, err
	}
	c := &convTranspose{win: w, group: g}
	for _, a := range []struct {
		name string
		dst  *[]int
	}{{"output_padding", &c.outputPadding}, {"output_shape", &c.outputShape}} {
		v, err := n.Ints(a.name, nil)
		if err != nil {
			return nil, err
		}
		least := int64(0)
		if a.name == "output_shape" {
			least = 1
		}
		if *a.dst, err = windowInts(a.name, v, least); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// geometry returns the window over the output image as Conv would see it:
// the output is the "image" (h, w) and the input the "output" (oh, ow).
// xs and ws are rank 4; oneD says the model's tensors are rank 3.
func (c *convTranspose) geometry(xs, ws []int, oneD bool) (geom2d, error) {
	kernel := ws[2:]
	win, adj, outShape := c.win, c.outputPadding, c.outputShape
	if oneD {
		win = oneDWindow(win)
		lift := func(v []int, def int) []int {
			if len(v) == 0 {
				return nil
			}
			return []int{def, v[len(v)-1]}
		}
		adj, outShape = lift(adj, 0), lift(outShape, 1)
	}
	if len(win.kernel) > 0 && !slices.Equal(win.kernel, kernel) {
		return geom2d{}, fmt.Errorf("kernel_shape %v disagrees with the weight's %v", win.kernel, kernel)
	}
	if len(outShape) == 4 { // some exporters give N and C too
		outShape = outShape[2:]
	}
	strides, err := fillInts("strides", win.strides, 1, 2)
	if err != nil {
		return geom2d{}, err
	}
	dil, err := fillInts("dilations", win.dilations, 1, 2)
	if err != nil {
		return geom2d{}, err
	}
	pads, err := fillInts("pads", append([]int(nil), win.pads...), 0, 4)
	if err != nil {
		return geom2d{}, err
	}
	if adj, err = fillInts("output_padding", adj, 0, 2); err != nil {
		return geom2d{}, err
	}
	if len(outShape) != 0 && len(outShape) != 2 {
		return geom2d{}, fmt.Errorf("output_shape %v: %d spatial values where 2 are needed", c.outputShape, len(outShape))
	}
	var size [2]int
	for i := 0; i < 2; i++ {
		ek := (kernel[i]-1)*dil[i] + 1
		full := strides[i]*(xs[2+i]-1) + adj[i] + ek
		want := -1
		switch {
		case len(outShape) == 2:
			want = outShape[i]
		case win.autoPad == "SAME_UPPER" || win.autoPad == "SAME_LOWER":
			want = xs[2+i] * strides[i]
		case win.autoPad == "VALID":
			pads[i], pads[i+2] = 0, 0
		}
		if want >= 0 {
			// The spec's split; floor division keeps a negative total (an
			// output larger than the full result) as extra rows at the end.
			total := full - want
			half := total >> 1
			if win.autoPad == "SAME_UPPER" {
				pads[i], pads[i+2] = half, total-half
			} else {
				pads[i], pads[i+2] = total-half, half
			}
		}
		size[i] = full - pads[i] - pads[i+2]
		if size[i] <= 0 {
			return geom2d{}, fmt.Errorf("output size %d on spatial axis %d", size[i], i)
		}
	}
	return geom2d{c: ws[1], h: size[0], w: size[1], kh: kernel[0], kw: kernel[1],
		sh: strides[0], sw: strides[1], ph: pads[0], pw: pads[1],
		dh: dil[0], dw: dil[1], oh: xs[2], ow: xs[3]}, nil
}

// fillInts returns v, or n copies of def where v is empty, and an error
// naming the attribute where v has other than n values.
func fillInts(name string, v []int, def, n int) ([]int, error) {
	if len(v) == 0 {
		v = make([]int, n)
		for i := range v {
			v[i] = def
		}
	}
	if len(v) != n {
		return nil, fmt.Errorf("%s %v: %d values where %d are needed", name, v, len(v), n)
	}
	return v, nil
}

type convTransposeSaved struct {
	g    geom2d
	xs   []int // input shape, rank 4
	hasB bool
}

func (c *convTranspose) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, w, xs, ws, oneD, err := convOperands(in, "ConvTranspose")
	if err != nil {
		return nil, err
	}
	if xs[1] != ws[0] || xs[1]%c.group != 0 {
		return nil, fmt.Errorf("input has %d channels, weight %v wants %d in groups of %d", xs[1], ShapeString(w.Shape), ws[0], c.group)
	}
	g, err := c.geometry(xs, ws, oneD)
	if err != nil {
		return nil, err
	}
	n, cig, cog := xs[0], xs[1]/c.group, ws[1]
	m := cog * c.group
	b, err := biasIn(in, m)
	if err != nil {
		return nil, err
	}
	if err := s.fits(n, m, g.h, g.w); err != nil {
		return nil, err
	}
	if err := s.fits(g.colRows(), g.oh, g.ow); err != nil {
		return nil, fmt.Errorf("the unfolded output: %w", err)
	}
	hwIn, hwOut, k := g.oh*g.ow, g.h*g.w, g.colRows()
	y := NewFloat(n, m, g.h, g.w)
	cols := make([]float32, k*hwIn)
	for i := 0; i < n; i++ {
		for gr := 0; gr < c.group; gr++ {
			xg := x.Data[(i*xs[1]+gr*cig)*hwIn:][:cig*hwIn]
			s.gemm(true, false, k, hwIn, cig, 1, w.Data[gr*cig*k:][:cig*k], xg, 0, cols)
			col2im(y.Data[(i*m+gr*cog)*hwOut:][:cog*hwOut], cols, g)
		}
		if b != nil {
			for o := 0; o < m; o++ {
				bv, row := b.Data[o], y.Data[(i*m+o)*hwOut:][:hwOut]
				for j := range row {
					row[j] += bv
				}
			}
		}
	}
	s.Save(x, w)
	s.SetAux(convTransposeSaved{g: g, xs: xs, hasB: b != nil})
	if oneD {
		y.Shape = []int{n, m, g.w}
	}
	return []*Tensor{y}, nil
}

func (c *convTranspose) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(convTransposeSaved)
	if !ok {
		return nil, fmt.Errorf("ConvTranspose: backward without a forward pass")
	}
	x, w := s.Saved(0), s.Saved(1)
	g, xs := a.g, a.xs
	n, cig, cog := xs[0], xs[1]/c.group, g.c
	m := cog * c.group
	hwIn, hwOut, k := g.oh*g.ow, g.h*g.w, g.colRows()
	grads := make([]*Tensor, 2, 3)
	needX, needW := s.Needs(0), s.Needs(1)
	if needX {
		grads[0] = like(x)
	}
	if needW {
		grads[1] = like(w)
	}
	if needX || needW {
		cols := make([]float32, k*hwIn)
		for i := 0; i < n; i++ {
			for gr := 0; gr < c.group; gr++ {
				im2col(cols, dy[0].Data[(i*m+gr*cog)*hwOut:][:cog*hwOut], g)
				off := (i*xs[1] + gr*cig) * hwIn
				wg := w.Data[gr*cig*k:][:cig*k]
				if needX { // dX = W · im2col(dY)
					s.gemm(false, false, cig, hwIn, k, 1, wg, cols, 0, grads[0].Data[off:off+cig*hwIn])
				}
				if needW { // dW += X · im2col(dY)ᵀ
					s.gemm(false, true, cig, k, hwIn, 1, x.Data[off:off+cig*hwIn], cols, 1, grads[1].Data[gr*cig*k:][:cig*k])
				}
			}
		}
	}
	if a.hasB {
		var db *Tensor
		if s.Needs(2) {
			db = NewFloat(m)
			for i := 0; i < n; i++ {
				for o := 0; o < m; o++ {
					db.Data[o] += sumFloats(s.Kernels, dy[0].Data[(i*m+o)*hwOut:][:hwOut])
				}
			}
		}
		grads = append(grads, db)
	}
	return grads, nil
}
