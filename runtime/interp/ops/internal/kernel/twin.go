package kernel

import (
	"fmt"
	"math"
	"unsafe"
)

// The kernels' pure-Go twins: the same results as the assembly, lane by
// lane and in its order of sums, for CPUs without AVX-512F and builds
// with the purego tag. The assembly fuses each multiply and add (FMA);
// the twins do so in float64 and round once to float32 (fma), which
// agrees with the fused float32 result except where that double rounding
// lands on the other side of a tie, a difference of one unit in the last
// place of a partial sum. Sums the assembly keeps in 16 lanes and then
// folds (Sum, SumWhere, RunGrad) are folded in the same tree (fold16).
// AxpyRuns, which sums a run's entries in registers before it adds them,
// is twinned by AxpyTerms' order: its results differ from the
// assembly's in rounding only, as the assembly's two differ from each
// other.

// fma returns a·b + c rounded once from float64, where the product of two
// float32 values is exact.
func fma(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

// at returns the float32 off bytes past p.
func at(p unsafe.Pointer, off int64) *float32 { return (*float32)(unsafe.Add(p, off)) }

// fold16 adds 16 lanes as the assembly's horizontal sum does: the upper
// eight onto the lower, then four, two and one.
func fold16(v *[Lanes]float32) float32 {
	for half := Lanes / 2; half >= 1; half /= 2 {
		for i := range half {
			v[i] += v[i+half]
		}
	}
	return v[0]
}

func runGo(s Shape, t *Tile) {
	switch s {
	case Tall, Tall2, Tall1, Broad, Wide:
	case Run1:
		runRun1Go(t)
		return
	default:
		panic(fmt.Sprintf("kernel: Run of shape %v, which has no kernel", s))
	}
	rows := max(1, min(int(t.Rows), s.Rows))
	for r := range rows {
		bias := *at(t.Bias, int64(4*r))
		for j := range s.Segs {
			for lane := range Lanes {
				if t.Mask[j]>>lane&1 == 0 {
					continue
				}
				acc := bias
				x := t.XSeg[j] + int64(4*lane)
				for k := range t.K {
					w := *at(t.A, 4*(k*int64(s.Rows)+int64(r)))
					acc = fma(w, *at(t.X, *(*int64)(unsafe.Add(t.Offs, 8*k))+x), acc)
				}
				if t.Relu != 0 && !(acc > 0) {
					acc = 0
				}
				*at(t.Out, int64(r)*t.OStride+t.OSeg[j]+int64(4*lane)) = acc
			}
		}
	}
}

// runRun1Go is Run1: one channel by 12 segments that follow one another
// from XSeg[0] and OSeg[0], every lane read and stored.
func runRun1Go(t *Tile) {
	bias := *at(t.Bias, 0)
	for i := range int64(Run1.Segs * Lanes) {
		acc := bias
		for k := range t.K {
			acc = fma(*at(t.A, 4*k), *at(t.X, *(*int64)(unsafe.Add(t.Offs, 8*k))+t.XSeg[0]+4*i), acc)
		}
		if t.Relu != 0 && !(acc > 0) {
			acc = 0
		}
		*at(t.Out, t.OSeg[0]+4*i) = acc
	}
}

func runGradGo(t *GradTile) {
	segs := unsafe.Slice((*GradSeg)(t.Segs), t.NSegs)
	for tr := range t.Triples {
		var acc [8][3][Lanes]float32
		var offs [3]int64
		for j := range offs {
			offs[j] = *(*int64)(unsafe.Add(t.Offs, 8*(3*tr+int64(j))))
		}
		for _, sg := range segs {
			for lane := range int64(Lanes) {
				if sg.Mask>>lane&1 == 0 {
					continue
				}
				var x [3]float32
				for j := range x {
					x[j] = *at(t.X, offs[j]+sg.X+4*lane)
				}
				for r := range 8 {
					dy := *at(t.DY, int64(r)*t.DYStride+sg.DY+4*lane)
					for j := range 3 {
						acc[r][j][lane] = fma(dy, x[j], acc[r][j][lane])
					}
				}
			}
		}
		for r := range 8 {
			for j := range 3 {
				sum := fold16(&acc[r][j])
				if t.Add != 0 {
					p := at(t.Out, int64(r)*t.OutRow+4*(3*tr+int64(j)))
					*p = sum + *p
				} else {
					*at(t.Out, 4*(tr*24+int64(r*3+j))) = sum
				}
			}
		}
	}
}

func max2x2Go(dst, src []float32, planes, h, w, oh, ow int) {
	maxArg2x2Go(dst, nil, src, planes, h, w, oh, ow)
}

// maxArg2x2Go is MaxArg2x2, and Max2x2 where arg is nil: the first of a
// window's maxima in row-major order wins.
func maxArg2x2Go(dst []float32, arg []int32, src []float32, planes, h, w, oh, ow int) {
	for p := range planes {
		plane := src[p*h*w:]
		for oy := range oh {
			for ox := range ow {
				at := 2*oy*w + 2*ox
				best, bi := plane[at], at
				for _, c := range [3]int{at + 1, at + w, at + w + 1} {
					if plane[c] > best {
						best, bi = plane[c], c
					}
				}
				i := (p*oh+oy)*ow + ox
				dst[i] = best
				if arg != nil {
					arg[i] = int32(bi)
				}
			}
		}
	}
}

func compactRowsGo(dst, src []float32, rows, n, stride int) {
	for r := range rows {
		copy(dst[r*n:][:n], src[r*stride:][:n])
	}
}

// sumGo sums as the assembly does: four vectors of 16 lanes over blocks
// of 64, the first over the blocks of 16 left, the second the tail.
func sumGo(x []float32) float32 {
	var acc [4][Lanes]float32
	i := 0
	for ; len(x)-i >= 4*Lanes; i += 4 * Lanes {
		for v := range 4 {
			for l := range Lanes {
				acc[v][l] += x[i+v*Lanes+l]
			}
		}
	}
	for ; len(x)-i >= Lanes; i += Lanes {
		for l := range Lanes {
			acc[0][l] += x[i+l]
		}
	}
	for l, v := range x[i:] {
		acc[1][l] += v
	}
	for l := range Lanes {
		acc[0][l] += acc[1][l]
		acc[2][l] += acc[3][l]
		acc[0][l] += acc[2][l]
	}
	return fold16(&acc[0])
}

// sumWhereGo sums as the assembly does: two vectors over blocks of 32,
// the first over the blocks of 16 left and the tail.
func sumWhereGo(x, y []float32) float32 {
	y = y[:len(x)]
	var acc [2][Lanes]float32
	add := func(v, i, n int) {
		for l := range n {
			if y[i+l] > 0 {
				acc[v][l] += x[i+l]
			}
		}
	}
	i := 0
	for ; len(x)-i >= 2*Lanes; i += 2 * Lanes {
		add(0, i, Lanes)
		add(1, i+Lanes, Lanes)
	}
	for ; len(x)-i >= Lanes; i += Lanes {
		add(0, i, Lanes)
	}
	add(0, i, len(x)-i)
	for l := range Lanes {
		acc[0][l] += acc[1][l]
	}
	return fold16(&acc[0])
}

func unpool2x2Go(dst, dy, pv []float32, arg []int32, planes, oh, ow, rs, row, plane int, relu bool) {
	for p := range planes {
		base := dst[p*plane:]
		for oy := range oh {
			for ox := range ow {
				i := (p*oh+oy)*ow + ox
				for _, c := range [4]int{0, 1, row, row + 1} {
					base[2*oy*row+2*ox+c] = 0
				}
				if relu && !(pv[i] > 0) {
					continue
				}
				a := int(arg[i])
				base[a/rs*row+a%rs] = dy[i]
			}
		}
	}
}

// axpyTermsGo adds entry by entry and term by term, as AxpyTerms does.
func axpyTermsGo(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	for e, v := range g {
		for j := range dstep {
			dd := d[(int64(doff[e])+dstep[j])/4:][:Lanes]
			ss := s[(int64(soff[e])+sstep[j])/4:][:Lanes]
			for l := range Lanes {
				dd[l] = fma(v, ss[l], dd[l])
			}
		}
	}
}

// checkOffsetsGo reports whether any doff exceeds dlim or soff slim, as
// unsigned values, so that a negative offset counts as too large.
func checkOffsetsGo(doff, soff []int32, dlim, slim uint32) (bad bool) {
	for e := range doff {
		if uint32(doff[e]) > dlim || uint32(soff[e]) > slim {
			return true
		}
	}
	return false
}

func poolEntriesGo(gs []float32, goff, woff []int32, dp, pv []float32, arg []int32,
	planes, poh, pow, rs, wg, pix, rowBytes int, relu bool) int {
	n := 0
	for p := range planes {
		for py := range poh {
			for px := range pow {
				i := (p*poh+py)*pow + px
				if dp[i] == 0 || relu && !(pv[i] > 0) {
					continue
				}
				a := int(arg[i])
				down := 0
				if a-2*px >= (2*py+1)*rs {
					down = 1
				}
				gs[n] = dp[i]
				goff[n] = int32((a + (2*py+down)*(wg-rs)) * pix)
				woff[n] = int32(p * rowBytes)
				n++
			}
		}
	}
	return n
}

func gatherRowsGo(dst, src []float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint16) {
	for r := range rows {
		for i := range n {
			m := mask
			if i == n-1 {
				m = last
			}
			for l := range Lanes {
				if m>>l&1 != 0 {
					dst[r*dRow+i*dStep+l] = src[r*sRow+i*sStep+l*lStride]
				}
			}
		}
	}
}
