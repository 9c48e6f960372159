package ops

// geom2d is a 2-D sliding window over one image of c channels.
type geom2d struct {
	c, h, w int // input channels and size
	kh, kw  int
	sh, sw  int // strides
	ph, pw  int // top and left padding
	dh, dw  int // dilations
	oh, ow  int // output size
}

func (g geom2d) colRows() int { return g.c * g.kh * g.kw }

// flipped returns the window of the unit-stride convolution that maps the
// gradient of this window's output, m channels, to that of its input: the
// same kernel and dilations, padded so that output pixel oy reads dY at
// oy + ph - ki·dh for the kernel turned 180°. Padding beyond the image,
// negative here when ph exceeds the kernel's reach, reads as zero.
func (g geom2d) flipped(m int) geom2d {
	return geom2d{c: m, h: g.oh, w: g.ow, kh: g.kh, kw: g.kw, sh: 1, sw: 1,
		ph: (g.kh-1)*g.dh - g.ph, pw: (g.kw-1)*g.dw - g.pw, dh: g.dh, dw: g.dw, oh: g.h, ow: g.w}
}

// inside returns the output columns [lo, hi) whose input column ix+ox·sw
// lies in the image rather than the padding, so the loops over a row need
// no per-element bounds test.
func (g geom2d) inside(ix int) (lo, hi int) {
	if ix < 0 {
		lo = (-ix + g.sw - 1) / g.sw
	}
	if g.w > ix {
		hi = (g.w - ix + g.sw - 1) / g.sw
	}
	hi = min(hi, g.ow)
	if lo >= hi {
		return 0, 0 // the whole row reads padding
	}
	return lo, hi
}

// im2col writes the patches of img (c×h×w) into cols, one row per
// (channel, kernel row, kernel column) and one column per output pixel;
// positions in the padding read as zero.
func im2col(cols, img []float32, g geom2d) {
	ohw := g.oh * g.ow
	for c := 0; c < g.c; c++ {
		plane := img[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := cols[((c*g.kh+ki)*g.kw+kj)*ohw:][:ohw]
				ix := -g.pw + kj*g.dw
				lo, hi := g.inside(ix)
				if g.sh == 1 && g.sw == 1 && g.ow == g.w {
					shiftedRows(row, plane, g, ki*g.dh-g.ph, ix, lo, hi)
					continue
				}
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + ki*g.dh
					dst := row[oy*g.ow : (oy+1)*g.ow]
					if iy < 0 || iy >= g.h {
						clear(dst)
						continue
					}
					src := plane[iy*g.w : (iy+1)*g.w]
					clear(dst[:lo])
					if g.sw == 1 && lo < hi {
						copy(dst[lo:hi], src[ix+lo:])
					} else {
						for ox := lo; ox < hi; ox++ {
							dst[ox] = src[ix+ox*g.sw]
						}
					}
					clear(dst[hi:])
				}
			}
		}
	}
}

// shiftedRows is one row of im2col for a unit-stride window whose output
// rows are as wide as the input's (3×3 with padding 1, the commonest): output
// pixel (oy, ox) reads input (oy+dy, ox+ix), so the rows that lie inside the
// image are one copy of the plane shifted by dy·w+ix, after which the
// columns that fall in the padding, lo and up to hi, are cleared.
func shiftedRows(row, plane []float32, g geom2d, dy, ix, lo, hi int) {
	w := g.w
	oyLo, oyHi := max(0, -dy), min(g.oh, g.h-dy)
	if oyLo >= oyHi || lo >= hi {
		clear(row)
		return
	}
	clear(row[:oyLo*w])
	clear(row[oyHi*w:])
	copy(row[oyLo*w+lo:(oyHi-1)*w+hi], plane[(oyLo+dy)*w+ix+lo:])
	// The copy wrapped the neighbouring rows' pixels into the columns that
	// lie in the padding, a few at either edge; clear them a column at a
	// time, down the rows.
	rows := row[oyLo*w : oyHi*w]
	for j := 0; j < lo; j++ {
		for p := j; p < len(rows); p += w {
			rows[p] = 0
		}
	}
	for j := hi; j < w; j++ {
		for p := j; p < len(rows); p += w {
			rows[p] = 0
		}
	}
}

// col2im is the adjoint of im2col: it adds every column entry back into the
// image position it was read from.
func col2im(img, cols []float32, g geom2d) {
	ohw := g.oh * g.ow
	for c := 0; c < g.c; c++ {
		plane := img[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := cols[((c*g.kh+ki)*g.kw+kj)*ohw:][:ohw]
				ix := -g.pw + kj*g.dw
				lo, hi := g.inside(ix)
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + ki*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					dst := plane[iy*g.w : (iy+1)*g.w]
					src := row[oy*g.ow : (oy+1)*g.ow]
					if g.sw == 1 && lo < hi {
						s := src[lo:hi]
						d := dst[ix+lo:][:len(s)] // same length: no bounds checks in the loop
						for j, v := range s {
							d[j] += v
						}
					} else {
						for ox := lo; ox < hi; ox++ {
							dst[ix+ox*g.sw] += src[ox]
						}
					}
				}
			}
		}
	}
}
