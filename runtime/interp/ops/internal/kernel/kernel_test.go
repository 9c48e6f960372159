package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMax2x2 checks both pooling kernels against the definition on every
// row length from 0 to 40 (whole blocks of 16 and every tail), with ties
// planted so the first-maximum rule is tested, and checks that nothing
// past the row is written.
func TestMax2x2(t *testing.T) {
	if !Available {
		t.Skip("no AVX-512F on this CPU")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 41 {
		w := 2*n + 3
		src := make([]float32, 2*w)
		for i := range src {
			src[i] = float32(rng.IntN(5)) // small integers: many ties
		}
		r0, r1 := src[:2*n], src[w:w+2*n]
		const guard = 7
		dst := make([]float32, n+guard)
		dstA := make([]float32, n+guard)
		arg := make([]int32, n+guard)
		for i := range guard {
			dst[n+i], dstA[n+i], arg[n+i] = -9, -9, -9
		}
		Max2x2(dst[:n], r0, r1)
		MaxArg2x2(dstA[:n], arg[:n], r0, r1, 0, int32(w))
		for i := range n {
			cand := []int32{int32(2 * i), int32(2*i + 1), int32(w + 2*i), int32(w + 2*i + 1)}
			best, bi := src[cand[0]], cand[0]
			for _, c := range cand[1:] {
				if src[c] > best {
					best, bi = src[c], c
				}
			}
			if dst[i] != best || dstA[i] != best || arg[i] != bi {
				t.Fatalf("n=%d output %d: max %v, with arg %v at %d; want %v at %d", n, i, dst[i], dstA[i], arg[i], best, bi)
			}
		}
		for i := range guard {
			if dst[n+i] != -9 || dstA[n+i] != -9 || arg[n+i] != -9 {
				t.Fatalf("n=%d: wrote past the row", n)
			}
		}
	}
}

// TestReluMask checks the Relu gradient kernel on every length to 40,
// with zeros, negative zeros and NaN in y (none of which is positive).
func TestReluMask(t *testing.T) {
	if !Available {
		t.Skip("no AVX-512F on this CPU")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), 1e-30, -1e-30}
	for n := range 41 {
		dy, y := make([]float32, n), make([]float32, n)
		for i := range n {
			dy[i] = rng.Float32()*2 - 1
			y[i] = rng.Float32()*2 - 1
			if rng.IntN(4) == 0 {
				y[i] = special[rng.IntN(len(special))]
			}
		}
		dst := make([]float32, n+3)
		dst[n], dst[n+1], dst[n+2] = 7, 7, 7
		ReluMask(dst[:n], dy, y)
		for i := range n {
			want := float32(0)
			if y[i] > 0 {
				want = dy[i]
			}
			if dst[i] != want {
				t.Fatalf("n=%d [%d]: y %v dy %v gave %v, want %v", n, i, y[i], dy[i], dst[i], want)
			}
		}
		if dst[n] != 7 || dst[n+1] != 7 || dst[n+2] != 7 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}
