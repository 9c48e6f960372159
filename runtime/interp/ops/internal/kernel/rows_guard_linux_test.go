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
// then left out of the sums.
func TestDepthwiseRowsStaysInThePlane(t *testing.T) {
	if !Available {
		t.Skip("no AVX-512F on this CPU: the Go twin reads only the image")
	}
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 4*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[3*page:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	floats := unsafe.Slice((*float32)(unsafe.Pointer(&mem[page])), 2*page/4)
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
