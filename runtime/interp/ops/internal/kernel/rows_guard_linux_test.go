//go:build linux && amd64 && !purego

package kernel

import (
	"syscall"
	"testing"
	"unsafe"
)

// TestDepthwiseRowsStaysInThePlane runs the DepthwiseRows (on both kinds
// of layout) and DepthwiseRowsGrad assembly on planes that start right after and end
// right before an unmapped page, so that a load of a padding column the
// masks should leave out faults:
// the test suite's NaN around the plane would not show a lane loaded and
// then left out of the sums. TestDepthwiseRowsGradStaysInTheRows bounds
// the gradient kernels more tightly.
func TestDepthwiseRowsStaysInThePlane(t *testing.T) {
	if !Available {
		t.Skip("no AVX-512F on this CPU: the Go twin reads only the image")
	}
	floats := guardPages(t, 4, 0, 3)[0]
	k := checked{asmKernels{}}
	for _, c := range []struct{ w, kw, pw, s int }{{7, 3, 1, 1}, {7, 3, 1, 2}, {33, 5, 2, 2}, {40, 7, 3, 1}, {17, 3, 2, 2}, {56, 3, 1, 1}} {
		ow := (c.w+2*c.pw-c.kw)/c.s + 1
		l := NewRowLayout(c.w, ow, c.kw, c.pw, c.s)
		rows := 5
		plane := (rows-1)*c.s + c.kw
		n := plane * c.w
		for _, x := range [][]float32{floats[:n], floats[len(floats)-n:]} {
			for i := range x {
				x[i] = 1
			}
			wts := make([]float32, c.kw*c.kw)
			out := make([]float32, rows*ow)
			k.DepthwiseRows(l, out, x, wts, 0, c.s*c.w, ow, rows, c.kw, 0, false)
			sums := make([]float32, c.kw)
			k.DepthwiseRowsGrad(l, sums, out, x, 0, 0, ow, c.s*c.w, rows)
			up := NewRowLayoutUp(c.w, 2*c.w+1, c.kw, c.pw)
			k.DepthwiseRows(up, make([]float32, rows*(2*c.w+1)), x, wts, 0, c.w, 2*c.w+1, rows, c.kw, 0, false)
		}
	}
}

// TestDepthwiseRowsGradStaysInTheRows runs the DepthwiseRowsGrad assembly
// with its input rows and dY each ending right before, or starting right
// after, an unmapped page: the input holds the rows' last row and no more
// (the plane's later kernel rows are not the gradient's to read), dY its
// rows packed. Every window of 1 to 60 columns, 1-, 3- and 5-tap rows,
// pads −1 to 2, strides 1 and 2 and 1 to 6 rows: a load past a row's
// last column, or a dY lane past the output row, faults, where masked
// multiply-adds would leave it out of the sums unseen.
func TestDepthwiseRowsGradStaysInTheRows(t *testing.T) {
	if !Available {
		t.Skip("no AVX-512F on this CPU: the Go twin reads only the image")
	}
	spans := guardPages(t, 6, 0, 3, 5) // x on pages 1-2, dY on page 4
	xs, dys := spans[0], spans[1]
	k := checked{asmKernels{}}
	for w := 1; w <= 60; w++ {
		for _, kw := range []int{1, 3, 5} {
			for pw := -1; pw <= 2; pw++ {
				for _, s := range []int{1, 2} {
					ow := (w+2*pw-kw)/s + 1
					if ow <= 0 {
						continue
					}
					l := NewRowLayout(w, ow, kw, pw, s)
					for rows := 1; rows <= 6; rows++ {
						nx, ndy := (rows-1)*s*w+w, rows*ow
						for _, x := range [][]float32{xs[:nx], xs[len(xs)-nx:]} {
							for _, dy := range [][]float32{dys[:ndy], dys[len(dys)-ndy:]} {
								k.DepthwiseRowsGrad(l, make([]float32, kw), dy, x, 0, 0, ow, s*w, rows)
							}
						}
					}
				}
			}
		}
	}
}

// guardPages maps pages pages, unmapped for the test's duration, with the
// guard pages (in increasing order, the first and the last among them)
// made unreadable, and returns the floats of each run of readable pages
// between two guards. It skips the test where mmap fails.
func guardPages(t *testing.T, pages int, guards ...int) [][]float32 {
	t.Helper()
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, pages*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	var spans [][]float32
	for k, g := range guards {
		if err := syscall.Mprotect(mem[g*page:(g+1)*page], syscall.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		if k > 0 && g > guards[k-1]+1 {
			from := guards[k-1] + 1
			spans = append(spans, unsafe.Slice((*float32)(unsafe.Pointer(&mem[from*page])), (g-from)*page/4))
		}
	}
	return spans
}
