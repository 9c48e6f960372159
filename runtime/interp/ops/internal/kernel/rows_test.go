package kernel

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// testDepthwiseRows checks DepthwiseRows against its Go twin bit for bit
// and against the sum in float64, over planes of every width from 1 to 40
// (whole blocks and each tail), kernels of 1 to 7 taps a row with every
// padding up to the kernel's, strides 1 and 2, one to nine rows (the
// four-row groups and the rows left), rows apart and packed, with and
// without Relu (checkRows).
func testDepthwiseRows(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(23, 29))
	forRowWindows(func(w, kw, pw, s, ow int) {
		name := "w " + itoa(w) + " kw " + itoa(kw) + " pw " + itoa(pw) + " s " + itoa(s)
		checkRows(t, k, rng, name, NewRowLayout(w, ow, kw, pw, s), 1+rng.IntN(kw), s*w, func(j, kj int) (int, bool) {
			col := s*j + kj - pw
			return col, col >= 0 && col < w
		})
	})
}

// forRowWindows calls do for each window the row tests take: planes of
// every width from 1 to 40, kernels of 1, 3, 5 and 7 taps a row with
// every padding from −1 to past the kernel's half (but under the
// kernel), strides 1 and 2, where the output row has a pixel (ow of them).
func forRowWindows(do func(w, kw, pw, s, ow int)) {
	for w := 1; w <= 40; w++ {
		for _, kw := range []int{1, 3, 5, 7} {
			for pw := -1; pw <= kw/2+1 && pw < kw; pw++ {
				for _, s := range []int{1, 2} {
					if ow := (w+2*pw-kw)/s + 1; ow > 0 {
						do(w, kw, pw, s, ow)
					}
				}
			}
		}
	}
}

// testDepthwiseRowsUp checks DepthwiseRows on NewRowLayoutUp's layouts
// as testDepthwiseRows does on the others: input rows of 1 to 24 pixels,
// output rows of about twice as many, kernels of 1 to 7 taps a row with
// pads from −1 past the kernel's half.
func testDepthwiseRowsUp(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(41, 43))
	for w := 1; w <= 24; w++ {
		for _, kw := range []int{1, 2, 3, 5, 7} {
			for pw := -1; pw <= kw/2+1; pw++ {
				ow := max(1, 2*w+rng.IntN(4)-2)
				name := "up w " + itoa(w) + " ow " + itoa(ow) + " kw " + itoa(kw) + " pw " + itoa(pw)
				checkRows(t, k, rng, name, NewRowLayoutUp(w, ow, kw, pw), 1+rng.IntN(3), w, func(j, kj int) (int, bool) {
					v := j + pw - kj
					return v / 2, v%2 == 0 && v >= 0 && v/2 < w
				})
			}
		}
	}
}

// checkRows runs DepthwiseRows on layout l, kh kernel rows and one to
// nine output rows (xRow apart in the input, apart or packed in the
// output), with and without Relu, against its twin bit for bit and
// against the sum in float64 of the terms col says each output pixel j
// and tap kj read (its input column, and whether it reads one). NaN
// before and after the plane's rows, and in the output between and
// after its rows, catch a read outside the image or a write outside the
// row.
func checkRows(t *testing.T, k checked, rng *rand.Rand, name string, l *RowLayout, kh, xRow int, col func(j, kj int) (int, bool)) {
	t.Helper()
	w, ow, kw := l.w, l.ow, l.kw
	rows, oRow := 1+rng.IntN(9), ow+rng.IntN(3)
	relu := rng.IntN(2) == 0
	name += " kh " + itoa(kh) + " rows " + itoa(rows)
	const lead = 7
	n := lead + (rows-1)*xRow + kh*w
	x := randFloats(rng, n+5)
	for i := range lead {
		x[i] = float32(math.NaN())
	}
	for i := n; i < len(x); i++ {
		x[i] = float32(math.NaN())
	}
	wts, bias := randFloats(rng, kh*kw), rng.Float32()-0.5
	olen := (rows-1)*oRow + ow
	got, want := make([]float32, olen+3), make([]float32, olen+3)
	for i := range got {
		got[i], want[i] = -7, -7
	}
	k.DepthwiseRows(l, got, x, wts, lead, xRow, oRow, rows, kh, bias, relu)
	depthwiseRowsGo(l, want, x[lead:], wts, xRow, oRow, rows, kh, bias, relu)
	for i := range got {
		r, j := i/oRow, i%oRow
		if r >= rows || j >= ow {
			if got[i] != -7 {
				t.Fatalf("%s: wrote %v at %d, outside the rows", name, got[i], i)
			}
			continue
		}
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: row %d pixel %d: got %v, twin %v", name, r, j, got[i], want[i])
		}
		sum := float64(bias)
		for ki := range kh {
			for kj := range kw {
				if c, ok := col(j, kj); ok {
					sum += float64(wts[ki*kw+kj]) * float64(x[lead+r*xRow+ki*w+c])
				}
			}
		}
		if relu {
			sum = max(sum, 0)
		}
		if math.Abs(float64(got[i])-sum) > 1e-5*(1+math.Abs(sum)) {
			t.Fatalf("%s: row %d pixel %d: got %v, want %v", name, r, j, got[i], sum)
		}
	}
}

// DepthwiseRows is DepthwisePlanes for one plane of one run, with bias
// its bias: rows output rows, the first reading x from x0.
func (c checked) DepthwiseRows(l *RowLayout, out, x, wts []float32, x0, xRow, oRow, rows, kh int, bias float32, relu bool) {
	if rows <= 0 {
		return
	}
	if x0 < 0 {
		panic("kernel: DepthwiseRows with a negative offset")
	}
	c.DepthwisePlanes(l.Runs([]RowRun{{X: x0, Rows: rows, KH: kh}}, xRow, oRow), out, x, wts, []float32{bias}, 1, 0, 0, 0, relu)
}

func itoa(v int) string { return strconv.Itoa(v) }

// testDepthwiseRowsGrad checks DepthwiseRowsGrad against its Go twin bit
// for bit and against the sums in float64, over the planes, kernels,
// pads, strides and row counts testDepthwiseRows takes, dY's rows apart
// and packed; NaN before and after the plane's rows and dY's catch a read
// outside them, and sums past kw must stay as they were.
func testDepthwiseRowsGrad(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(31, 37))
	forRowWindows(func(w, kw, pw, s, ow int) { checkRowsGrad(t, k, rng, w, kw, pw, s, ow) })
}

// checkRowsGrad runs DepthwiseRowsGrad on one window of testDepthwiseRowsGrad's,
// one to nine rows (none to two groups of four, and every remainder),
// and compares.
func checkRowsGrad(t *testing.T, k checked, rng *rand.Rand, w, kw, pw, s, ow int) {
	t.Helper()
	for rows := 1; rows <= 9; rows++ {
		checkRowsGradOn(t, k, rng, w, kw, pw, s, ow, rows)
	}
}

// checkRowsGradOn is checkRowsGrad on rows output rows.
func checkRowsGradOn(t *testing.T, k checked, rng *rand.Rand, w, kw, pw, s, ow, rows int) {
	t.Helper()
	xRow, dyRow := s*w, ow+rng.IntN(3)
	l := NewRowLayout(w, ow, kw, pw, s)
	const lead = 5
	nx, ndy := lead+(rows-1)*xRow+w, lead+(rows-1)*dyRow+ow
	x, dy := randFloats(rng, nx+4), randFloats(rng, ndy+4)
	for _, v := range [][]float32{x[:lead], x[nx:], dy[:lead], dy[ndy:]} {
		for i := range v {
			v[i] = float32(math.NaN())
		}
	}
	got, want := randFloats(rng, kw+2), make([]float32, kw+2)
	copy(want, got)
	start := append([]float32(nil), got...)
	k.DepthwiseRowsGrad(l, got[:kw], dy, x, lead, lead, dyRow, xRow, rows)
	depthwiseRowsGradGo(l, want, dy[lead:], x[lead:], dyRow, xRow, rows)
	name := "w " + itoa(w) + " kw " + itoa(kw) + " pw " + itoa(pw) + " s " + itoa(s) + " rows " + itoa(rows)
	for kj := range got {
		if kj >= kw {
			if got[kj] != start[kj] {
				t.Fatalf("%s: wrote sum %d past kw", name, kj)
			}
			continue
		}
		if math.Float32bits(got[kj]) != math.Float32bits(want[kj]) {
			t.Fatalf("%s: tap %d: got %v, twin %v", name, kj, got[kj], want[kj])
		}
		sum := float64(start[kj])
		for r := range rows {
			for j := range ow {
				if col := s*j + kj - pw; col >= 0 && col < w {
					sum += float64(dy[lead+r*dyRow+j]) * float64(x[lead+r*xRow+col])
				}
			}
		}
		if math.Abs(float64(got[kj])-sum) > 1e-5*(1+math.Abs(sum)) {
			t.Fatalf("%s: tap %d: got %v, want %v", name, kj, got[kj], sum)
		}
	}
}

// testDepthwisePlanes checks DepthwisePlanes over several planes, each
// with its weights and bias (or none), on the runs of a whole window
// (rows whose kernel reaches into the top or bottom padding one by one,
// rows past every kernel row bias alone), against the twin bit for bit
// and the convolution in float64; NaN past the last plane catches a
// read past it, and the output's gaps between planes must stay as they
// were.
func testDepthwisePlanes(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(47, 53))
	for _, c := range []struct{ h, w, kh, kw, ph, pw, s, planes int }{
		{9, 11, 3, 3, 1, 1, 1, 3}, {14, 14, 3, 3, 1, 1, 1, 5}, {7, 7, 5, 5, 2, 2, 1, 4}, {13, 12, 3, 3, 1, 1, 2, 3},
		{6, 8, 3, 3, 4, 3, 1, 2}, {17, 33, 5, 5, 2, 2, 2, 2}, {5, 40, 3, 5, 0, 2, 1, 3}, {2, 3, 3, 3, 1, 1, 1, 4},
	} {
		oh, ow := (c.h+2*c.ph-c.kh)/c.s+1, (c.w+2*c.pw-c.kw)/c.s+1
		l := NewRowLayout(c.w, ow, c.kw, c.pw, c.s)
		var runs []RowRun
		for oy := range oh {
			iy := oy*c.s - c.ph
			ki0 := max(0, -iy)
			kh := max(0, min(c.kh, c.h-iy)-ki0)
			if n := len(runs); n > 0 && runs[n-1].W == ki0*c.kw && runs[n-1].KH == kh {
				runs[n-1].Rows++
				continue
			}
			x0 := 0
			if kh > 0 {
				x0 = (iy + ki0) * c.w
			}
			runs = append(runs, RowRun{Out: oy * ow, X: x0, W: ki0 * c.kw, Rows: 1, KH: kh})
		}
		r := l.Runs(runs, c.s*c.w, ow)
		xPlane, oPlane, wPlane := c.h*c.w, oh*ow+3, c.kh*c.kw
		x := randFloats(rng, c.planes*xPlane+4)
		for i := c.planes * xPlane; i < len(x); i++ {
			x[i] = float32(math.NaN())
		}
		wts, bias := randFloats(rng, c.planes*wPlane), randFloats(rng, c.planes)
		for _, b := range [][]float32{bias, nil} {
			for _, relu := range []bool{false, true} {
				got, want := make([]float32, c.planes*oPlane), make([]float32, c.planes*oPlane)
				for i := range got {
					got[i], want[i] = -7, -7
				}
				k.DepthwisePlanes(r, got, x, wts, b, c.planes, oPlane, xPlane, wPlane, relu)
				depthwisePlanesGo(r, want, x, wts, b, c.planes, oPlane, xPlane, wPlane, relu)
				for i := range got {
					p, o := i/oPlane, i%oPlane
					if o >= oh*ow {
						if got[i] != -7 {
							t.Fatalf("%+v: wrote %v between planes", c, got[i])
						}
						continue
					}
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%+v bias %v relu %v: plane %d pixel %d: got %v, twin %v", c, b != nil, relu, p, o, got[i], want[i])
					}
					oy, ox := o/ow, o%ow
					sum := 0.0
					if b != nil {
						sum = float64(b[p])
					}
					for ki := range c.kh {
						for kj := range c.kw {
							iy, ix := oy*c.s-c.ph+ki, ox*c.s-c.pw+kj
							if iy >= 0 && iy < c.h && ix >= 0 && ix < c.w {
								sum += float64(wts[p*wPlane+ki*c.kw+kj]) * float64(x[p*xPlane+iy*c.w+ix])
							}
						}
					}
					if relu {
						sum = max(sum, 0)
					}
					if math.Abs(float64(got[i])-sum) > 1e-5*(1+math.Abs(sum)) {
						t.Fatalf("%+v: plane %d pixel %d: got %v, want %v", c, p, o, got[i], sum)
					}
				}
			}
		}
	}
}

// TestRowRunsBand checks Band: runs of a 3×3 window over 11 rows of 20
// (rows grouped in runs of several, as a plan groups the rows reading the
// same kernel rows, and runs of every other row, as the stride-2 input
// gradient's are), cut into bands of 1 to 11 rows, write into band
// buffers what the whole runs write into those rows of the plane, bit for
// bit, and nothing past them; a band of no rows has no runs.
func TestRowRunsBand(t *testing.T) {
	const w, h, kh = 20, 11, 3
	l := NewRowLayout(w, w, 3, 1, 1)
	rng := rand.New(rand.NewPCG(3, 5))
	x, wts := make([]float32, 2*(h+2)*w), make([]float32, 2*9)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	for i := range wts {
		wts[i] = rng.Float32()*2 - 1
	}
	for _, c := range []struct {
		name string
		runs []RowRun
		oRow int
	}{
		{"runs of rows", []RowRun{{Out: 0, X: 0, W: 3, Rows: 1, KH: 2}, {Out: w, X: 0, W: 0, Rows: h - 2, KH: kh}, {Out: (h - 1) * w, X: (h - 2) * w, W: 0, Rows: 1, KH: 2}}, w},
		{"every other row", []RowRun{{Out: 0, X: 0, W: 0, Rows: (h + 1) / 2, KH: kh}, {Out: w, X: w, W: 0, Rows: h / 2, KH: 2}}, 2 * w},
	} {
		runs := l.Runs(c.runs, w, c.oRow)
		if runs.Band(h*w, (h+1)*w) != nil || runs.Band(3*w, 3*w) != nil {
			t.Errorf("%s: a band past the plane's rows, or of none, has runs", c.name)
		}
		whole := make([]float32, 2*h*w)
		runs.DepthwisePlanes(whole, x, wts, nil, 2, h*w, (h+2)*w, 9, false)
		for rows := 1; rows <= h; rows++ {
			for r0 := 0; r0 < h; r0 += rows {
				r1 := min(h, r0+rows)
				band := runs.Band(r0*w, r1*w)
				px := (r1 - r0) * w
				got := make([]float32, 2*px+1)
				got[2*px] = 42
				band.DepthwisePlanes(got, x, wts, nil, 2, px, (h+2)*w, 9, false)
				for p := range 2 {
					for i := range px {
						if got[p*px+i] != whole[p*h*w+r0*w+i] {
							t.Fatalf("%s, rows %d-%d: plane %d float %d is %v, want %v", c.name, r0, r1, p, i, got[p*px+i], whole[p*h*w+r0*w+i])
						}
					}
				}
				if got[2*px] != 42 {
					t.Errorf("%s, rows %d-%d: wrote past the band", c.name, r0, r1)
				}
			}
		}
	}
}
