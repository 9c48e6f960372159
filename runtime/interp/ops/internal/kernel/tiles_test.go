package kernel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// near reports whether got is within the rounding of a sum of terms
// whose magnitudes add up to scale: float32's unit roundoff per term.
func near(got float32, want, scale float64, terms int) bool {
	return math.Abs(float64(got)-want) <= 6e-8*float64(terms+2)*scale+1e-30
}

// testRun checks every tile shape against its definition (Tile): masked
// lanes and rows past Rows left as they were, with and without Relu, for
// no terms, one and many.
func testRun(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(11, 12))
	const guard = float32(-1234)
	for _, s := range []Shape{Tall, Tall2, Tall1, Broad, Wide, Run1} {
		for _, terms := range []int{0, 1, 5, 13} {
			for _, relu := range []int64{0, 1} {
				segs := s.Segs
				x := randFloats(rng, 2000)
				a := randFloats(rng, max(1, terms*s.Rows))
				bias := randFloats(rng, s.Rows)
				offs := make([]int64, max(1, terms))
				for i := range terms {
					offs[i] = 4 * int64(rng.IntN(400))
				}
				tile := Tile{A: unsafe.Pointer(&a[0]), X: unsafe.Pointer(&x[0]), Offs: unsafe.Pointer(&offs[0]),
					K: int64(terms), Bias: unsafe.Pointer(&bias[0]), Relu: relu, Rows: int64(1 + rng.IntN(s.Rows))}
				if s == Run1 {
					tile.Rows = 1
				}
				pitch := segs*Lanes + 5 // floats between output channels
				out := make([]float32, s.Rows*pitch)
				for i := range out {
					out[i] = guard
				}
				tile.Out, tile.OStride = unsafe.Pointer(&out[0]), int64(4*pitch)
				type lane struct{ x, o int64 } // float offsets of one computed lane
				var lanes []lane
				if s == Run1 {
					tile.XSeg[0], tile.OSeg[0] = 4*int64(rng.IntN(600)), 4*3
					for i := range int64(segs * Lanes) {
						lanes = append(lanes, lane{tile.XSeg[0]/4 + i, 3 + i})
					}
				} else {
					for j := range segs {
						tile.XSeg[j], tile.OSeg[j] = 4*int64(rng.IntN(1500)), int64(4*j*Lanes)
						tile.Mask[j] = uint64(rng.Uint32() & 0xffff)
						if j == 0 {
							tile.Mask[j] = 0xffff
						}
						for l := range int64(Lanes) {
							if tile.Mask[j]>>l&1 != 0 {
								lanes = append(lanes, lane{tile.XSeg[j]/4 + l, int64(j*Lanes) + l})
							}
						}
					}
				}
				k.Run(s, &tile)
				want := slices.Repeat([]float32{guard}, len(out))
				for r := range int(tile.Rows) {
					for _, ln := range lanes {
						sum, scale := float64(bias[r]), math.Abs(float64(bias[r]))
						for i := range terms {
							p := float64(a[i*s.Rows+r]) * float64(x[offs[i]/4+ln.x])
							sum, scale = sum+p, scale+math.Abs(p)
						}
						if relu != 0 {
							sum = max(sum, 0)
						}
						got := out[r*pitch+int(ln.o)]
						if !near(got, sum, scale, terms) {
							t.Fatalf("%v, %d terms, relu %d: channel %d, output %d = %v, want %v", s, terms, relu, r, ln.o, got, sum)
						}
						want[r*pitch+int(ln.o)] = got
					}
				}
				if !slices.Equal(out, want) {
					t.Fatalf("%v, %d terms, rows %d: wrote where the tile has no lane or row", s, terms, tile.Rows)
				}
			}
		}
	}
}

// testRunGrad checks the weight-gradient kernel against its definition
// (GradTile), storing the sums and adding them into a gradient, over no
// segments, one and several with ragged masks.
func testRunGrad(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, nsegs := range []int{0, 1, 4} {
		for _, triples := range []int{1, 3} {
			for _, add := range []int64{0, 1} {
				x := randFloats(rng, 1500)
				const dyStride = 200 // floats between channels of dY
				dy := randFloats(rng, 8*dyStride)
				offs := make([]int64, 3*triples)
				for i := range offs {
					offs[i] = 4 * int64(rng.IntN(1000))
				}
				segs := make([]GradSeg, max(1, nsegs))
				for s := range nsegs {
					segs[s] = GradSeg{X: 4 * int64(rng.IntN(400)), DY: 4 * int64(rng.IntN(dyStride-Lanes)), Mask: int64(rng.Uint32() & 0xffff)}
				}
				const outRow = 3*3 + 2 // floats between the gradient's channels
				out := randFloats(rng, max(24*triples, 8*outRow))
				before := slices.Clone(out)
				tile := GradTile{DY: unsafe.Pointer(&dy[0]), DYStride: 4 * dyStride, X: unsafe.Pointer(&x[0]),
					Offs: unsafe.Pointer(&offs[0]), Triples: int64(triples), Segs: unsafe.Pointer(&segs[0]),
					NSegs: int64(nsegs), Out: unsafe.Pointer(&out[0]), Add: add, OutRow: 4 * outRow}
				k.RunGrad(&tile)
				for tr := range triples {
					for r := range 8 {
						for j := range 3 {
							var sum, scale float64
							for _, sg := range segs[:nsegs] {
								for l := range int64(Lanes) {
									if sg.Mask>>l&1 != 0 {
										p := float64(dy[int64(r*dyStride)+sg.DY/4+l]) * float64(x[(offs[3*tr+j]+sg.X)/4+l])
										sum, scale = sum+p, scale+math.Abs(p)
									}
								}
							}
							i := tr*24 + r*3 + j
							if add != 0 {
								i = r*outRow + 3*tr + j
								sum += float64(before[i])
								scale += math.Abs(float64(before[i]))
							}
							if !near(out[i], sum, scale, Lanes*nsegs) {
								t.Fatalf("%d segments, %d triples, add %d: triple %d channel %d term %d = %v, want %v", nsegs, triples, add, tr, r, j, out[i], sum)
							}
						}
					}
				}
			}
		}
	}
}

// testPoolEntries checks the listing of a pool's nonzero gradients
// against its definition, with zero and NaN gradients among them (NaN is
// kept) and pooled values not positive (left out under relu).
func testPoolEntries(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, pow := range []int{1, 7, 16, 21} {
		for _, relu := range []bool{false, true} {
			planes, poh, rs := 3, 4, 2*pow+1
			wg, pix, rowBytes := rs+5, 12, 4*300
			n := planes * poh * pow
			dp, pv, arg := randFloats(rng, n), randFloats(rng, n), make([]int32, n)
			for i := range n {
				switch rng.IntN(5) {
				case 0:
					dp[i] = 0
				case 1:
					dp[i] = float32(math.NaN())
				}
				py, px := i/pow%poh, i%pow
				arg[i] = int32((2*py+rng.IntN(2))*rs + 2*px + rng.IntN(2))
			}
			gs, goff, woff := make([]float32, n+16), make([]int32, n+16), make([]int32, n+16)
			got := k.PoolEntries(gs, goff, woff, dp, pv, arg, planes, poh, pow, rs, wg, pix, rowBytes, relu)
			e := 0
			for i := range n {
				if dp[i] == 0 || relu && !(pv[i] > 0) {
					continue
				}
				a := int(arg[i])
				wantOff, wantW := int32((a/rs*wg+a%rs)*pix), int32(i/(poh*pow)*rowBytes)
				if e >= got || math.Float32bits(gs[e]) != math.Float32bits(dp[i]) || goff[e] != wantOff || woff[e] != wantW {
					t.Fatalf("%d windows a row, relu %v: entry %d of %d (window %d): %v at %d, %d; want %v at %d, %d",
						pow, relu, e, got, i, gs[e], goff[e], woff[e], dp[i], wantOff, wantW)
				}
				e++
			}
			if got != e {
				t.Fatalf("%d windows a row, relu %v: %d entries, want %d", pow, relu, got, e)
			}
		}
	}
}

// testGatherRows checks the strided copy against its definition: lanes
// outside the masks, and everything between the vectors, left as it was.
func testGatherRows(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct{ rows, n, lStride int }{{1, 1, 1}, {3, 4, 5}, {2, 7, 1}, {4, 2, 17}} {
		dStep, sStep := Lanes+rng.IntN(3), rng.IntN(40)
		dRow, sRow := c.n*dStep+rng.IntN(5), c.n*sStep+Lanes*c.lStride+rng.IntN(5)
		mask, last := uint16(rng.Uint32()), uint16(rng.Uint32())
		src := randFloats(rng, c.rows*sRow+c.n*sStep+Lanes*c.lStride)
		dst := randFloats(rng, c.rows*dRow+c.n*dStep+Lanes)
		want := slices.Clone(dst)
		for r := range c.rows {
			for i := range c.n {
				m := mask
				if i == c.n-1 {
					m = last
				}
				for l := range Lanes {
					if m>>l&1 != 0 {
						want[r*dRow+i*dStep+l] = src[r*sRow+i*sStep+l*c.lStride]
					}
				}
			}
		}
		k.GatherRows(dst, src, c.rows, c.n, dRow, sRow, dStep, sStep, c.lStride, mask, last)
		if !slices.Equal(dst, want) {
			t.Fatalf("%+v: got %v, want %v", c, dst, want)
		}
	}
}

func randFloats(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}
