package ops

import (
	"math/rand/v2"
	"testing"
)

// TestIm2col compares im2col and col2im with a per-element reference on
// windows that reach into the padding, past the image and beyond it.
func TestIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for i, g := range []geom2d{
		{c: 2, h: 5, w: 6, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1},
		{c: 1, h: 4, w: 4, kh: 2, kw: 3, sh: 2, sw: 2, ph: 0, pw: 2, dh: 1, dw: 2},
		{c: 1, h: 3, w: 3, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 7, dh: 1, dw: 1},
		{c: 3, h: 7, w: 5, kh: 3, kw: 2, sh: 1, sw: 3, ph: 2, pw: 4, dh: 2, dw: 3},
		{c: 2, h: 6, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 3, pw: 2, dh: 2, dw: 2},
		{c: 1, h: 3, w: 4, kh: 5, kw: 1, sh: 1, sw: 1, ph: 4, pw: 0, dh: 2, dw: 1},
		{c: 1, h: 2, w: 3, kh: 3, kw: 5, sh: 1, sw: 1, ph: 1, pw: 2, dh: 1, dw: 1},
	} {
		// The output size for pads on the top/left and bottom/right alike.
		g.oh = (g.h+2*g.ph-g.dh*(g.kh-1)-1)/g.sh + 1
		g.ow = (g.w+2*g.pw-g.dw*(g.kw-1)-1)/g.sw + 1
		img := randSlice(rng, g.c*g.h*g.w)
		cols := randSlice(rng, g.colRows()*g.oh*g.ow)
		im2col(cols, img, g)
		back := make([]float32, len(img))
		col2im(back, cols, g)
		wantBack := make([]float32, len(img))
		for c := range g.c {
			for ki := range g.kh {
				for kj := range g.kw {
					for oy := range g.oh {
						for ox := range g.ow {
							r := ((c*g.kh+ki)*g.kw+kj)*g.oh*g.ow + oy*g.ow + ox
							y, x := oy*g.sh-g.ph+ki*g.dh, ox*g.sw-g.pw+kj*g.dw
							var want float32
							if y >= 0 && y < g.h && x >= 0 && x < g.w {
								want = img[(c*g.h+y)*g.w+x]
								wantBack[(c*g.h+y)*g.w+x] += want
							}
							if cols[r] != want {
								t.Fatalf("case %d: cols[%d] (c %d ki %d kj %d oy %d ox %d) = %v, want %v", i, r, c, ki, kj, oy, ox, cols[r], want)
							}
						}
					}
				}
			}
		}
		for j := range back {
			if d := back[j] - wantBack[j]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("case %d: col2im(im2col(img))[%d] = %v, want %v", i, j, back[j], wantBack[j])
			}
		}
	}
}
