package ops

import "math"

// windowMax is the general MaxPool kernel: any window, stride, padding
// and dilation; an empty window (wholly in padding) yields the lowest
// value and offset -1.
type windowMax struct{}

func (windowMax) floats(y []float32, arg []int32, x []float32, g poolGeom) {
	maxWindows(y, arg, x, g, -math.MaxFloat32)
}

func (windowMax) ints(y []int64, arg []int32, x []int64, g poolGeom) {
	maxWindows(y, arg, x, g, math.MinInt64)
}

func maxWindows[T float32 | int64](y []T, arg []int32, x []T, g poolGeom, lowest T) {
	hw, ohw := g.h*g.w, g.oh*g.ow
	rows, cols := g.spans()
	scratch := arg == nil
	if scratch {
		arg = make([]int32, ohw) // reused by every plane
	}
	for p := 0; p < g.planes; p++ {
		src, dst, args := x[p*hw:(p+1)*hw], y[p*ohw:(p+1)*ohw], arg
		if !scratch {
			args = arg[p*ohw : (p+1)*ohw]
		}
		for oy, r := range rows {
			iy0 := oy*g.sh - g.ph
			out, oa := dst[oy*g.ow:][:g.ow], args[oy*g.ow:][:g.ow]
			for ox, c := range cols {
				ix0 := ox*g.sw - g.pw
				if r.lo == r.hi || c.lo == c.hi {
					out[ox], oa[ox] = lowest, -1
					continue
				}
				first := (iy0+r.lo*g.dh)*g.w + ix0 + c.lo*g.dw
				best, bi := src[first], int32(first)
				for ki := r.lo; ki < r.hi; ki++ {
					base := (iy0+ki*g.dh)*g.w + ix0
					for kj := c.lo; kj < c.hi; kj++ {
						// Written so the compiler selects without branching:
						// a branch on random data mispredicts half the time.
						q := int32(base + kj*g.dw)
						v := src[q]
						if v > best {
							bi = q
						}
						best = max(best, v)
					}
				}
				out[ox], oa[ox] = best, bi
			}
		}
	}
}
