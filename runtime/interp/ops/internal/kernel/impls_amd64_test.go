//go:build amd64 && !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

func init() {
	if Available {
		impls = append(impls, struct {
			name string
			k    impl
		}{"asm", asmKernels{}})
	}
}

// TestTwinsMatchAssembly checks that the Go twins give the assembly's
// results bit for bit where they sum in its order: sums, tiles and the
// weight gradient on random data. (fma's double rounding could differ in
// the last place on rare inputs; none of these does.)
func TestTwinsMatchAssembly(t *testing.T) {
	if !Available {
		t.Skip("no AVX-512F on this CPU: the twins are all there is")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	asm, twin := checked{asmKernels{}}, checked{goKernels{}}
	for n := range 300 {
		x, y := randFloats(rng, n), randFloats(rng, n)
		if a, g := asm.Sum(x), twin.Sum(x); math.Float32bits(a) != math.Float32bits(g) {
			t.Errorf("Sum of %d: assembly %v, twin %v", n, a, g)
		}
		if a, g := asm.SumWhere(x, y), twin.SumWhere(x, y); math.Float32bits(a) != math.Float32bits(g) {
			t.Errorf("SumWhere of %d: assembly %v, twin %v", n, a, g)
		}
	}
	x := randFloats(rng, 4000)
	offs := make([]int64, 300)
	for i := range offs {
		offs[i] = 4 * int64(rng.IntN(2000))
	}
	for _, s := range []Shape{Tall, Tall2, Tall1, Broad, Wide, Run1} {
		a, bias := randFloats(rng, 300*s.Rows), randFloats(rng, s.Rows)
		var outs [2][]float32
		for i, k := range []checked{asm, twin} {
			outs[i] = make([]float32, s.Rows*s.Segs*Lanes)
			tile := Tile{A: unsafe.Pointer(&a[0]), X: unsafe.Pointer(&x[0]), Offs: unsafe.Pointer(&offs[0]), K: 300,
				Bias: unsafe.Pointer(&bias[0]), Rows: int64(s.Rows), Out: unsafe.Pointer(&outs[i][0]), OStride: int64(4 * s.Segs * Lanes)}
			for j := range min(s.Segs, MaxSegs) { // Run1 reads its 12 from the first
				tile.XSeg[j], tile.OSeg[j], tile.Mask[j] = int64(4*j*Lanes), int64(4*j*Lanes), 0xffff
			}
			k.Run(s, &tile)
		}
		if !slices.Equal(outs[0], outs[1]) {
			t.Errorf("Run %v: the twin's tile differs from the assembly's", s)
		}
	}
	dy := randFloats(rng, 8*400)
	segs := make([]GradSeg, 20)
	for i := range segs {
		segs[i] = GradSeg{X: 4 * int64(rng.IntN(1500)), DY: 4 * int64(rng.IntN(400-Lanes)), Mask: 0xffff}
	}
	var sums [2][]float32
	for i, k := range []checked{asm, twin} {
		sums[i] = make([]float32, 24*100)
		k.RunGrad(&GradTile{DY: unsafe.Pointer(&dy[0]), DYStride: 4 * 400, X: unsafe.Pointer(&x[0]), Offs: unsafe.Pointer(&offs[0]),
			Triples: 100, Segs: unsafe.Pointer(&segs[0]), NSegs: 20, Out: unsafe.Pointer(&sums[i][0])})
	}
	if !slices.Equal(sums[0], sums[1]) {
		t.Error("RunGrad: the twin's sums differ from the assembly's")
	}
}
