package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/onnxguard/onnxguard/runtime/interp/internal/mem"
	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// TestSgemm checks the installed BLAS against gonum's on every transpose
// pair, with padded leading dimensions and a beta that reads C.
func TestSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	impl := blas32.Implementation()
	for _, test := range []struct{ m, n, k, pad int }{
		{1, 1, 1, 0}, {3, 5, 7, 0}, {17, 33, 65, 2}, {64, 100, 27, 1}, {5, 4, 0, 0},
	} {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				ar, ac := test.m, test.k
				if tA == blas.Trans {
					ar, ac = ac, ar
				}
				br, bc := test.k, test.n
				if tB == blas.Trans {
					br, bc = bc, br
				}
				lda, ldb, ldc := max(1, ac)+test.pad, max(1, bc)+test.pad, max(1, test.n)+test.pad
				a, b := randSlice(rng, ar*lda), randSlice(rng, br*ldb)
				want, got := randSlice(rng, test.m*ldc), make([]float32, test.m*ldc)
				copy(got, want)
				gonum.Implementation{}.Sgemm(tA, tB, test.m, test.n, test.k, 0.5, a, lda, b, ldb, 2, want, ldc)
				impl.Sgemm(tA, tB, test.m, test.n, test.k, 0.5, a, lda, b, ldb, 2, got, ldc)
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
						t.Errorf("%s %dx%dx%d pad %d tA %c tB %c: c[%d] = %v, want %v", Name, test.m, test.n, test.k, test.pad, tA, tB, i, got[i], want[i])
						break
					}
				}
			}
		}
	}
}

// TestGemmBands checks that Gemm cut into bands, of rows or of columns,
// computes what one call does.
func TestGemmBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, test := range []struct{ m, n, k, workers int }{
		{7, 3, 5, 3}, {3, 7, 5, 3}, {2, 9, 4, 4}, {10, 10, 1, 2},
	} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				a, b := randSlice(rng, test.m*test.k), randSlice(rng, test.k*test.n)
				want := randSlice(rng, test.m*test.n)
				got := append([]float32(nil), want...)
				Mul{}.On(1, tA, tB, test.m, test.n, test.k, 0.5, a, b, 2, want)
				Mul{}.On(test.workers, tA, tB, test.m, test.n, test.k, 0.5, a, b, 2, got)
				for i := range want {
					if math.Abs(float64(got[i]-want[i])) > 1e-5 {
						t.Errorf("%dx%dx%d on %d workers tA %v tB %v: c[%d] = %v, want %v", test.m, test.n, test.k, test.workers, tA, tB, i, got[i], want[i])
						break
					}
				}
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// The sizes of one sample's convolutions: 64 output channels of a 32×32
// image over 64 input channels (k = 64·3·3), and the CIFAR benchmark
// model's second and fourth layers forward and backward. Sgemm is one call
// into the BLAS, as a convolution's sample workers make it (Mul.Serial);
// Gemm is Mul.Gemm, which may spread one product over the cores. Both run
// as a program compiled with the default options does: on the kernels
// where the CPU has them, with a pool for their scratch.
var bench = Mul{Kernels: kernel.Available, Pool: &mem.Pool{}}

func BenchmarkSgemmConv64x1024x576(b *testing.B) {
	benchmarkSgemm(b, bench.Serial, false, false, 64, 1024, 576)
}
func BenchmarkSgemmConv32x1024x288(b *testing.B) {
	benchmarkSgemm(b, bench.Serial, false, false, 32, 1024, 288)
}
func BenchmarkSgemmConv64x256x576(b *testing.B) {
	benchmarkSgemm(b, bench.Serial, false, false, 64, 256, 576)
}
func BenchmarkSgemmConvDX288x1024x32(b *testing.B) {
	benchmarkSgemm(b, bench.Serial, true, false, 288, 1024, 32)
}
func BenchmarkSgemmConvDW32x288x1024(b *testing.B) {
	benchmarkSgemm(b, bench.Serial, false, true, 32, 288, 1024)
}
func BenchmarkGemmConv64x1024x576(b *testing.B) {
	benchmarkSgemm(b, bench.Gemm, false, false, 64, 1024, 576)
}

func benchmarkSgemm(b *testing.B, mul func(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32), transA, transB bool, m, n, k int) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	for b.Loop() {
		mul(transA, transB, m, n, k, 1, x, y, 0, c)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestKernelGemm checks the kernel path for products against gonum: thin
// ones, and on the gonum build wide ones with b transposed too; ragged
// last tiles and segments, a transposed a, alpha, beta 0 with c full of
// NaN beforehand (it must be overwritten), beta 1 (added on the vector
// kernel) and beta 2, on one core and on
// all; and that kernelTakes declines what it does not take. Where the
// CPU has no assembly the kernels' Go twins run.
func TestKernelGemm(t *testing.T) {
	g := Mul{Kernels: true, Pool: &mem.Pool{Poison: true}}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, test := range []struct{ m, n, k int }{
		{8, 16, 1}, {13, 10, 3}, {128, 800, 10}, {37, 17, 64}, {9, 1, 5}, {100, 50, 33}, {16, 40, 300}, {130, 70, 129},
	} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				if !g.kernelTakes(tB, test.m, test.n, test.k) {
					if test.k <= thinK && !tB || Name == "gonum" && test.n >= 32 {
						t.Errorf("%dx%dx%d tB %v: kernelTakes declines it", test.m, test.n, test.k, tB)
					}
					continue
				}
				for _, parallel := range []bool{false, true} {
					for _, beta := range []float32{0, 1, 2} {
						a, b := randSlice(rng, test.m*test.k), randSlice(rng, test.k*test.n)
						want := randSlice(rng, test.m*test.n)
						got := append([]float32(nil), want...)
						if beta == 0 {
							for i := range got {
								got[i] = float32(math.NaN())
							}
						}
						ta, lda := blas.NoTrans, test.k
						if tA {
							ta, lda = blas.Trans, test.m
						}
						tb, ldb := blas.NoTrans, test.n
						if tB {
							tb, ldb = blas.Trans, test.k
						}
						gonum.Implementation{}.Sgemm(ta, tb, test.m, test.n, test.k, 0.5, a, lda, b, ldb, beta, want, test.n)
						g.kernelGemm(parallel, tA, tB, test.m, test.n, test.k, 0.5, a, b, beta, got)
						for i := range want {
							if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*float64(test.k)) {
								t.Errorf("%dx%dx%d tA %v tB %v parallel %v beta %v: c[%d] = %v, want %v", test.m, test.n, test.k, tA, tB, parallel, beta, i, got[i], want[i])
								break
							}
						}
					}
				}
			}
		}
	}
	for _, test := range []struct{ m, n, k int }{{7, 10, 10}, {8, 0, 4}, {8, 4, 0}} {
		if g.kernelTakes(false, test.m, test.n, test.k) {
			t.Errorf("%+v: kernelTakes takes it; it takes k ≥ 1, m ≥ 8 and n ≥ 1", test)
		}
	}
	if Mul.kernelTakes(Mul{}, false, 128, 10, 10) {
		t.Error("kernelTakes takes a product with Kernels off")
	}
	if Name != "gonum" {
		for _, test := range []struct {
			transB  bool
			m, n, k int
		}{{false, 128, 10, thinK + 1}, {true, 128, 10, 10}} {
			if g.kernelTakes(test.transB, test.m, test.n, test.k) {
				t.Errorf("%+v: kernelTakes takes it on %s; beside gonum it takes b untransposed and k ≤ %d", test, Name, thinK)
			}
		}
	}
}

// TestDotGemm checks the dot path (dotgemm.go) against gonum on products
// it takes: a few rows of c, b transposed, ragged blocks of b's rows,
// alpha, beta 0 over NaN and beta 2, on one core and on all, through
// On; and that dotsTake declines the rest.
func TestDotGemm(t *testing.T) {
	g := Mul{Kernels: true, Pool: &mem.Pool{Poison: true}}
	rng := rand.New(rand.NewPCG(6, 6))
	for _, test := range []struct{ m, n, k int }{{16, 1000, 1280}, {1, 37, 64}, {32, 17, 100}, {5, 50, 71}} {
		if Name != "gonum" {
			if g.dotsTake(false, true, test.m, test.k) {
				t.Errorf("%+v: dotsTake takes it beside %s", test, Name)
			}
			continue
		}
		if !g.dotsTake(false, true, test.m, test.k) {
			t.Fatalf("%+v: dotsTake declines it", test)
		}
		for _, workers := range []int{1, 2} {
			for _, beta := range []float32{0, 2} {
				a, b := randSlice(rng, test.m*test.k), randSlice(rng, test.n*test.k)
				want := randSlice(rng, test.m*test.n)
				got := append([]float32(nil), want...)
				if beta == 0 {
					for i := range got {
						got[i] = float32(math.NaN())
					}
				}
				gonum.Implementation{}.Sgemm(blas.NoTrans, blas.Trans, test.m, test.n, test.k, 0.5, a, test.k, b, test.k, beta, want, test.n)
				g.On(workers, false, true, test.m, test.n, test.k, 0.5, a, b, beta, got)
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*float64(test.k)) {
						t.Fatalf("%+v workers %d beta %v: c[%d] = %v, want %v", test, workers, beta, i, got[i], want[i])
					}
				}
			}
		}
	}
	for _, test := range []struct {
		transA, transB bool
		m, k           int
	}{{false, false, 16, 128}, {true, true, 16, 128}, {false, true, dotRows + 1, 128}, {false, true, 16, 63}} {
		if g.dotsTake(test.transA, test.transB, test.m, test.k) {
			t.Errorf("%+v: dotsTake takes it", test)
		}
	}
	if (Mul{}).dotsTake(false, true, 16, 128) {
		t.Error("dotsTake takes a product with Kernels off")
	}
}
