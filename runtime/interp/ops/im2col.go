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
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + ki*g.dh
					dst := row[oy*g.ow : (oy+1)*g.ow]
					if iy < 0 || iy >= g.h {
						clear(dst)
						continue
					}
					src := plane[iy*g.w : (iy+1)*g.w]
					ix := -g.pw + kj*g.dw
					lo, hi := g.inside(ix)
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

// col2im is the adjoint of im2col: it adds every column entry back into the
// image position it was read from.
func col2im(img, cols []float32, g geom2d) {
	ohw := g.oh * g.ow
	for c := 0; c < g.c; c++ {
		plane := img[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := cols[((c*g.kh+ki)*g.kw+kj)*ohw:][:ohw]
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + ki*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					dst := plane[iy*g.w : (iy+1)*g.w]
					src := row[oy*g.ow : (oy+1)*g.ow]
					ix := -g.pw + kj*g.dw
					lo, hi := g.inside(ix)
					if g.sw == 1 && lo < hi {
						d := dst[ix+lo : ix+hi]
						for j, v := range src[lo:hi] {
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
