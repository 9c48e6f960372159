package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTranspose checks Transpose on each implementation: every block of
// rows up to 16 and columns across one to three blocks of 16, rows and
// columns packed or with gaps between them. Each written float must be
// its source's and every float between dst's rows, and past its end,
// left as it was.
func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, im := range impls {
		k := checked{im.k}
		for rows := 1; rows <= Lanes; rows++ {
			for cols := 1; cols <= 40; cols++ {
				for _, gap := range []int{0, 3} {
					sStride, dStride := cols+gap, rows+2*gap
					src := randFloats(rng, (rows-1)*sStride+cols)
					dst := guarded(0, (cols-1)*dStride+rows+5)
					k.Transpose(dst, src, rows, cols, dStride, sStride)
					checkTransposed(t, im.name+": Transpose", dst, src, rows, cols, dStride, sStride)
				}
			}
		}
	}
}

// TestTransposeBounds checks that Transpose refuses what would reach
// outside its slices or past 16 rows, and does nothing for an empty
// block.
func TestTransposeBounds(t *testing.T) {
	src, dst := make([]float32, 64), make([]float32, 64)
	Transpose(dst, src, 0, 5, 1, 1)
	Transpose(dst, src, 5, 0, 1, 1)
	for _, c := range []struct {
		name                         string
		rows, cols, dStride, sStride int
		dstLen, srcLen               int
	}{
		{"17 rows", 17, 1, 17, 1, 64, 64},
		{"negative stride", 2, 2, -1, 2, 64, 64},
		{"src too short", 4, 16, 4, 16, 64, 63},
		{"dst too short", 4, 16, 4, 16, 63, 64},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Transpose did not panic", c.name)
				}
			}()
			Transpose(dst[:c.dstLen], src[:c.srcLen], c.rows, c.cols, c.dStride, c.sStride)
		}()
	}
}

// TestTransposeMatrix checks Transposer.Matrix, Transpose over row
// blocks of 16, on both implementations: rows across one to three
// blocks, packed and with gaps, nothing between dst's rows written.
func TestTransposeMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, vector := range []bool{false, true} {
		tr := Transposes(vector)
		for _, rows := range []int{1, 16, 17, 33, 40} {
			for _, cols := range []int{1, 16, 21} {
				for _, gap := range []int{0, 3} {
					sStride, dStride := cols+gap, rows+gap
					src := randFloats(rng, (rows-1)*sStride+cols)
					dst := guarded(0, (cols-1)*dStride+rows+5)
					tr.Matrix(dst, src, rows, cols, dStride, sStride)
					checkTransposed(t, fmt.Sprintf("vector %v: Matrix", vector), dst, src, rows, cols, dStride, sStride)
				}
			}
		}
	}
}

// checkTransposed fails t unless dst (guarded's, -7 where untouched) holds
// the transpose of src's rows×cols block, dStride floats between its rows,
// and -7 everywhere else.
func checkTransposed(t *testing.T, what string, dst, src []float32, rows, cols, dStride, sStride int) {
	t.Helper()
	for i, v := range dst {
		want := float32(-7)
		if k, j := i/dStride, i%dStride; k < cols && j < rows {
			want = src[j*sStride+k]
		}
		if v != want {
			t.Fatalf("%s of %d×%d, strides %d, %d: dst[%d] is %v, want %v", what, rows, cols, dStride, sStride, i, v, want)
		}
	}
}
