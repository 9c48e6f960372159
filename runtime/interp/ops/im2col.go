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
					if g.sw == 1 && ix >= 0 && ix+g.ow <= g.w {
						copy(dst, src[ix:ix+g.ow])
						continue
					}
					for ox := range dst {
						if x := ix + ox*g.sw; x >= 0 && x < g.w {
							dst[ox] = src[x]
						} else {
							dst[ox] = 0
						}
					}
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
					for ox, v := range src {
						if x := ix + ox*g.sw; x >= 0 && x < g.w {
							dst[x] += v
						}
					}
				}
			}
		}
	}
}
