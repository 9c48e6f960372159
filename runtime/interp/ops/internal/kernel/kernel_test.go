package kernel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// testMax2x2 checks both pooling kernels against the definition on every
// output width from 0 to 40 (whole blocks of 16 and every tail), even and
// odd input sizes and several planes, with ties planted so the
// first-maximum rule is tested, and checks that nothing past the output
// is written.
// TestKernels runs the kernels' suite over each implementation this
// machine runs: the Go twins, and the assembly where the CPU has AVX-512F
// (impls_amd64_test.go), as gonum's testblas takes a BLAS.
func TestKernels(t *testing.T) {
	for _, im := range impls {
		for _, test := range []struct {
			name string
			run  func(*testing.T, checked)
		}{
			{"Max2x2", testMax2x2}, {"CompactRows", testCompactRows},
			{"Sum", testSum}, {"Unpool2x2", testUnpool2x2}, {"SumWhere", testSumWhere},
			{"AxpyTerms", testAxpyTerms}, {"AxpyRuns", testAxpyRuns}, {"AxpyBounds", testAxpyBounds}, {"Run", testRun}, {"RunGrad", testRunGrad},
			{"PoolEntries", testPoolEntries}, {"GatherRows", testGatherRows}, {"Masks", testMasks}, {"Acts", testActs},
			{"DepthwiseRow", testDepthwiseRow}, {"DepthwiseGradRow", testDepthwiseGradRow},
			{"DepthwiseRows", testDepthwiseRows}, {"DepthwiseRowsUp", testDepthwiseRowsUp}, {"DepthwisePlanes", testDepthwisePlanes}, {"DepthwiseRowsGrad", testDepthwiseRowsGrad},
		} {
			t.Run(im.name+"/"+test.name, func(t *testing.T) { test.run(t, checked{im.k}) })
		}
	}
}

// impls lists the implementations TestKernels checks.
var impls = []struct {
	name string
	k    impl
}{{"go", goKernels{}}}

func testMax2x2(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(1, 2))
	for ow := range 41 {
		for _, extra := range []struct{ h, w, planes int }{{0, 0, 1}, {1, 1, 3}, {1, 2, 2}} {
			oh := 1 + ow%4
			h, w, planes := 2*oh+extra.h, 2*ow+extra.w, extra.planes
			src := make([]float32, planes*h*w)
			for i := range src {
				src[i] = float32(rng.IntN(5)) // small integers: many ties
			}
			n := planes * oh * ow
			const guard = 7
			dst, dstA, arg := make([]float32, n+guard), make([]float32, n+guard), make([]int32, n+guard)
			for i := range guard {
				dst[n+i], dstA[n+i], arg[n+i] = -9, -9, -9
			}
			k.Max2x2(dst[:n], src, planes, h, w, oh, ow)
			k.MaxArg2x2(dstA[:n], arg[:n], src, planes, h, w, oh, ow)
			for p := range planes {
				plane := src[p*h*w:][:h*w]
				for oy := range oh {
					for ox := range ow {
						i := (p*oh+oy)*ow + ox
						at := int32(2*oy*w + 2*ox)
						cand := []int32{at, at + 1, at + int32(w), at + int32(w) + 1}
						best, bi := plane[cand[0]], cand[0]
						for _, c := range cand[1:] {
							if plane[c] > best {
								best, bi = plane[c], c
							}
						}
						if dst[i] != best || dstA[i] != best || arg[i] != bi {
							t.Fatalf("%d planes of %dx%d, output %d: max %v, with arg %v at %d; want %v at %d",
								planes, h, w, i, dst[i], dstA[i], arg[i], best, bi)
						}
					}
				}
			}
			for i := range guard {
				if dst[n+i] != -9 || dstA[n+i] != -9 || arg[n+i] != -9 {
					t.Fatalf("%d planes of %dx%d: wrote past the output", planes, h, w)
				}
			}
		}
	}
}

func testCompactRows(t *testing.T, k checked) {
	for n := 1; n <= 40; n++ {
		rows, stride := 5, n+3
		src := make([]float32, rows*stride)
		for i := range src {
			src[i] = float32(i)
		}
		dst := make([]float32, rows*n+2)
		dst[rows*n], dst[rows*n+1] = -1, -1
		k.CompactRows(dst[:rows*n], src, rows, n, stride)
		for r := range rows {
			for c := range n {
				if got, want := dst[r*n+c], src[r*stride+c]; got != want {
					t.Fatalf("n=%d row %d column %d: %v, want %v", n, r, c, got, want)
				}
			}
		}
		if dst[rows*n] != -1 || dst[rows*n+1] != -1 {
			t.Fatalf("n=%d: wrote past the rows", n)
		}
	}
}

// testSum checks the vector sum against a float64 sum on lengths 0 to 300.
func testSum(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 301 {
		x := make([]float32, n+1)
		var want float64
		for i := range x {
			x[i] = rng.Float32()*2 - 1
			if i < n {
				want += float64(x[i])
			}
		}
		if got := k.Sum(x[:n]); math.Abs(float64(got)-want) > 1e-5*float64(n+1) {
			t.Fatalf("n=%d: %v, want %v", n, got, want)
		}
	}
}

// testUnpool2x2 checks the pooling gradient against a scatter of dy to
// MaxArg2x2's winners, with and without the Relu mask, over the sizes
// testMax2x2 covers, into a destination laid out with other strides than
// the pooled input; what lies outside the 2·oh rows of 2·ow must stay.
func testUnpool2x2(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(7, 8))
	for ow := range 41 {
		for _, extra := range []struct{ h, w, planes int }{{0, 0, 1}, {1, 1, 3}, {1, 2, 2}} {
			for _, relu := range []bool{false, true} {
				oh := 1 + ow%4
				h, w, planes := 2*oh+extra.h, 2*ow+extra.w, extra.planes
				src := make([]float32, planes*h*w)
				for i := range src {
					src[i] = float32(rng.IntN(5)) - 2 // ties, and pooled values ≤ 0
				}
				n := planes * oh * ow
				pv, arg, dy := make([]float32, n), make([]int32, n), make([]float32, n)
				for i := range dy {
					dy[i] = rng.Float32() + 1
				}
				k.MaxArg2x2(pv, arg, src, planes, h, w, oh, ow)
				row, plane := 2*ow+3, (2*oh+2)*(2*ow+3) // the destination's own strides
				want := make([]float32, planes*plane)
				got := make([]float32, planes*plane)
				for i := range got {
					want[i], got[i] = -7, -7
				}
				for p := range planes {
					for r := range 2 * oh {
						for c := range 2 * ow {
							want[p*plane+r*row+c] = 0
						}
					}
				}
				for i, a := range arg {
					if relu && pv[i] <= 0 {
						continue
					}
					p := i / (oh * ow)
					want[p*plane+int(a)/w*row+int(a)%w] = dy[i]
				}
				k.Unpool2x2(got, dy, pv, arg, planes, oh, ow, w, row, plane, relu)
				if !slices.Equal(got, want) {
					t.Fatalf("%d planes of %dx%d to %dx%d, relu %v: got %v, want %v", planes, h, w, oh, ow, relu, got, want)
				}
			}
		}
	}
}

// testSumWhere checks the masked sum against a float64 sum on lengths 0
// to 100, with zeros, negative zeros and NaN among the conditions.
func testSumWhere(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(9, 10))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN())}
	for n := range 101 {
		x, y := make([]float32, n), make([]float32, n)
		var want float64
		for i := range n {
			x[i], y[i] = rng.Float32()*2-1, rng.Float32()*2-1
			if rng.IntN(4) == 0 {
				y[i] = special[rng.IntN(len(special))]
			}
			if y[i] > 0 {
				want += float64(x[i])
			}
		}
		if got := k.SumWhere(x, y); math.Abs(float64(got)-want) > 1e-5*float64(n+1) {
			t.Fatalf("n=%d: %v, want %v", n, got, want)
		}
	}
}

// TestArgumentOffsets pins the argument blocks' field offsets, which the
// assembly (gen.go's constants) reads by number.
func TestArgumentOffsets(t *testing.T) {
	var tile Tile
	var grad GradTile
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"Tile.A", unsafe.Offsetof(tile.A), 0}, {"Tile.X", unsafe.Offsetof(tile.X), 8},
		{"Tile.Offs", unsafe.Offsetof(tile.Offs), 16}, {"Tile.K", unsafe.Offsetof(tile.K), 24},
		{"Tile.XSeg", unsafe.Offsetof(tile.XSeg), 32}, {"Tile.OSeg", unsafe.Offsetof(tile.OSeg), 80},
		{"Tile.Mask", unsafe.Offsetof(tile.Mask), 128}, {"Tile.Out", unsafe.Offsetof(tile.Out), 176},
		{"Tile.OStride", unsafe.Offsetof(tile.OStride), 184}, {"Tile.Bias", unsafe.Offsetof(tile.Bias), 192},
		{"Tile.Relu", unsafe.Offsetof(tile.Relu), 200}, {"Tile.Rows", unsafe.Offsetof(tile.Rows), 208},
		{"GradTile.DY", unsafe.Offsetof(grad.DY), 0}, {"GradTile.DYStride", unsafe.Offsetof(grad.DYStride), 8},
		{"GradTile.X", unsafe.Offsetof(grad.X), 16}, {"GradTile.Offs", unsafe.Offsetof(grad.Offs), 24},
		{"GradTile.Triples", unsafe.Offsetof(grad.Triples), 32}, {"GradTile.Segs", unsafe.Offsetof(grad.Segs), 40},
		{"GradTile.NSegs", unsafe.Offsetof(grad.NSegs), 48}, {"GradTile.Out", unsafe.Offsetof(grad.Out), 56},
		{"GradTile.Add", unsafe.Offsetof(grad.Add), 64}, {"GradTile.OutRow", unsafe.Offsetof(grad.OutRow), 72},
	} {
		if f.got != f.want {
			t.Errorf("%s at offset %d; the assembly reads it at %d", f.name, f.got, f.want)
		}
	}
}

// testAxpyTerms checks the sparse scatter, AxpyTerms and AxpyRuns,
// against its definition, for term counts that take AxpyTerms' three-at-
// a-time loop, its one-at-a-time loop and both, and AxpyRuns' pairs and
// its odd last term, with entries whose rows overlap (so their order
// matters).
func testAxpyTerms(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, terms := range []int{1, 2, 3, 4, 5, 9, 18, 25} {
		d, s := make([]float32, 700), make([]float32, 500)
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
		for i := range d {
			d[i] = rng.Float32()*2 - 1
		}
		dstep, sstep := make([]int64, terms), make([]int64, terms)
		for j := range terms {
			dstep[j], sstep[j] = 4*int64(rng.IntN(300)), 4*int64(rng.IntN(200))
		}
		n := 40
		g, doff, soff := make([]float32, n), make([]int32, n), make([]int32, n)
		for e := range n {
			g[e], doff[e], soff[e] = rng.Float32()*2-1, 4*int32(rng.IntN(700-300-16)), 4*int32(rng.IntN(500-200-16))
		}
		want := slices.Clone(d)
		for e := range n {
			for j := range terms {
				for l := range 16 {
					want[(int64(doff[e])+dstep[j])/4+int64(l)] += g[e] * s[(int64(soff[e])+sstep[j])/4+int64(l)]
				}
			}
		}
		for _, f := range []struct {
			name string
			axpy func(d, s, g []float32, doff, soff []int32, dstep, sstep []int64)
		}{{"AxpyTerms", k.AxpyTerms}, {"AxpyRuns", k.AxpyRuns}} {
			got := slices.Clone(d)
			f.axpy(got, s, g, doff, soff, dstep, sstep)
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%s, %d terms: d[%d] = %v, want %v", f.name, terms, i, got[i], want[i])
				}
			}
		}
	}

}

// testAxpyRuns checks AxpyRuns on runs of one doff, of lengths that end
// at every place of its four partial sums, and single entries between
// them.
func testAxpyRuns(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(6, 7))
	for _, terms := range []int{1, 2, 9, 18} {
		d, s := make([]float32, 400), make([]float32, 300)
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
		dstep, sstep := make([]int64, terms), make([]int64, terms)
		for j := range terms {
			dstep[j], sstep[j] = 4*int64(rng.IntN(200)), 4*int64(rng.IntN(100))
		}
		var g []float32
		var doff, soff []int32
		for run, length := range []int{1, 2, 3, 4, 5, 7, 8, 9, 1, 13} {
			for range length {
				g = append(g, rng.Float32()*2-1)
				doff = append(doff, 4*int32((run*37)%(400-200-16)))
				soff = append(soff, 4*int32(rng.IntN(300-100-16)))
			}
		}
		want := make([]float32, len(d))
		for e := range g {
			for j := range terms {
				for l := range 16 {
					want[(int64(doff[e])+dstep[j])/4+int64(l)] += g[e] * s[(int64(soff[e])+sstep[j])/4+int64(l)]
				}
			}
		}
		k.AxpyRuns(d, s, g, doff, soff, dstep, sstep)
		for i := range d {
			if math.Abs(float64(d[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("AxpyRuns on runs, %d terms: d[%d] = %v, want %v", terms, i, d[i], want[i])
			}
		}
	}

}

// testAxpyBounds checks that an offset 16 floats short of the end
// passes, that one float further panics, as does a negative one, and
// that nothing is written then.
func testAxpyBounds(t *testing.T, k checked) {
	for _, f := range []struct {
		name string
		axpy func(d, s, g []float32, doff, soff []int32, dstep, sstep []int64)
	}{{"AxpyTerms", k.AxpyTerms}, {"AxpyRuns", k.AxpyRuns}} {
		d, s := make([]float32, 64), make([]float32, 64)
		for i := range s {
			s[i] = 1
		}
		one := []float32{1}
		steps := []int64{0}
		f.axpy(d, s, one, []int32{4 * 48}, []int32{4 * 48}, steps, steps)
		for _, c := range []struct{ doff, soff int32 }{{4 * 49, 0}, {0, 4 * 49}, {-4, 0}, {0, -64}} {
			clear(d)
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s, offsets %d, %d: no panic", f.name, c.doff, c.soff)
					}
				}()
				// The bad entry last of 21: in the check's masked tail block.
				g, doff, soff := make([]float32, 21), make([]int32, 21), make([]int32, 21)
				for e := range g {
					g[e] = 1
				}
				doff[20], soff[20] = c.doff, c.soff
				f.axpy(d, s, g, doff, soff, steps, steps)
			}()
			for _, v := range d {
				if v != 0 {
					t.Fatalf("%s, offsets %d, %d: wrote before panicking", f.name, c.doff, c.soff)
				}
			}
		}
	}
}
