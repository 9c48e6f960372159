package kernel

import (
	"fmt"
	"unsafe"
)

// A RowLayout is the lane masks of a depthwise convolution's output rows
// on planes as they lie (one channel's h×w image, row after row): which
// lanes of each 16-pixel block of an output row each tap reads inside the
// image row, and which the row has. With them DepthwisePlanes reads the
// plane itself, the padding columns left out by masked loads, where a
// copy into a padded plane would cost a pass over the plane and its
// output a compaction.
type RowLayout struct {
	w, ow, kw, pw, stride int
	up                    bool // NewRowLayoutUp's
	blocks                int
	// Per block: per tap four masks (the lanes whose term is in the
	// image; for stride 2 the first and second 16 input lanes loaded;
	// for NewRowLayoutUp's the 8 input lanes loaded, the output lanes
	// they spread to and the first one's column from the block's), then
	// the lanes the row has, and three unused.
	masks []uint16
}

// NewRowLayout returns the masks of an output row of ow pixels over input
// rows of w pixels, kw taps a kernel row, pw padding columns before the
// image (negative where the first columns are skipped), at stride 1 or 2.
// Other strides, and a layout with no pixels, are programming errors and
// panic.
func NewRowLayout(w, ow, kw, pw, stride int) *RowLayout {
	if stride != 1 && stride != 2 || w <= 0 || ow <= 0 || kw <= 0 {
		panic(fmt.Sprintf("kernel: row layout of %d pixels to %d, %d taps, pad %d, stride %d", w, ow, kw, pw, stride))
	}
	l := newRowLayout(w, ow, kw, pw, stride, false)
	if stride == 2 { // each tap loads 32 input lanes from column 32b + kj − pw
		in := func(col int) bool { return col >= 0 && col < w }
		for b := range l.blocks {
			for kj := range kw {
				e := l.tap(b, kj)
				for lane := range Lanes {
					if in(2*b*Lanes + kj - pw + lane) {
						e[1] |= 1 << lane
					}
					if in(2*b*Lanes + kj - pw + Lanes + lane) {
						e[2] |= 1 << lane
					}
				}
			}
		}
	}
	return l
}

// NewRowLayoutUp returns the masks of the transposed convolution of a
// stride-2 depthwise one, within a row: the output row (the stride-2
// layer's input gradient, ow pixels) gets, at column j, tap kj of the
// input row (its output gradient, w pixels) at column (j + pw − kj)/2
// where that is a whole number. The taps of a block of 16 output pixels
// read 8 input pixels, spread to every other lane.
func NewRowLayoutUp(w, ow, kw, pw int) *RowLayout {
	if w <= 0 || ow <= 0 || kw <= 0 || kw > 1<<12 || pw < -(1<<12) || pw > 1<<12 {
		panic(fmt.Sprintf("kernel: transposed row layout of %d pixels to %d, %d taps, pad %d", w, ow, kw, pw))
	}
	l := newRowLayout(w, ow, kw, pw, 2, true)
	for b := range l.blocks {
		for kj := range kw {
			e := l.tap(b, kj)
			off := -floorDiv2(kj - pw) // the first spread lane's column, from 8b
			first := (kj - pw) & 1     // the first lane that has a term
			e[2] = 0x5555 << first     // the lanes the 8 loaded spread to
			e[3] = uint16(int16(off))
			for i := range Lanes / 2 {
				if col := b*Lanes/2 + off + i; col >= 0 && col < w {
					e[1] |= 1 << i
				}
			}
		}
	}
	return l
}

// newRowLayout returns a layout with the masks every kind has: each
// tap's lanes whose term is in the image (column's), and the lanes the
// row has.
func newRowLayout(w, ow, kw, pw, stride int, up bool) *RowLayout {
	l := &RowLayout{w: w, ow: ow, kw: kw, pw: pw, stride: stride, up: up, blocks: (ow + Lanes - 1) / Lanes}
	l.masks = make([]uint16, 4*l.blocks*(kw+1))
	for b := range l.blocks {
		for lane := range Lanes {
			j := b*Lanes + lane
			if j >= ow {
				break
			}
			l.tap(b, kw)[0] |= 1 << lane
			for kj := range kw {
				if _, ok := l.column(j, kj); ok {
					l.tap(b, kj)[0] |= 1 << lane
				}
			}
		}
	}
	return l
}

// tap returns the four masks of tap kj of block b (kj = kw: the row's).
func (l *RowLayout) tap(b, kj int) []uint16 { return l.masks[4*(b*(l.kw+1)+kj):][:4] }

// floorDiv2 is a/2 rounded down.
func floorDiv2(a int) int { return a >> 1 }

// rowArgs is the argument block of the assembly; it reads the fields at
// fixed offsets (rows_amd64.s). DepthwisePlanes's assembly keeps its
// place in kh, planes, bias and the fields from 192 on, and in wRun: all
// integers, so that no pointer field it moves, perhaps past its slice,
// is one the collector reads.
type rowArgs struct {
	out      unsafe.Pointer // 0: the first plane's output
	x        unsafe.Pointer // 8: the first plane's input
	w        unsafe.Pointer // 16: the first plane's weights; DepthwiseRowsGrad's dY
	masks    unsafe.Pointer // 24
	rows     int64          // 32: DepthwiseRowsGrad's rows
	blocks   int64          // 40
	kh       int64          // 48: the run's kernel rows
	kw       int64          // 56
	oRow     int64          // 64: bytes between output rows
	xRow     int64          // 72: bytes between consecutive output rows' inputs
	xTap     int64          // 80: bytes between kernel rows
	xCol0    int64          // 88: bytes from column 0 to the first tap's first lane
	xBlock   int64          // 96: bytes between blocks' inputs
	maskStep int64          // 104: bytes of masks a block
	relu     int64          // 112
	stride   int64          // 120: 1 or 2; 3 for NewRowLayoutUp's
	wRun     uintptr        // 128: the run's kernel rows
	runs     unsafe.Pointer // 136: the rowRuns of a plane
	nRuns    int64          // 144: at least one
	planes   int64          // 152
	oPlane   int64          // 160: bytes between planes' outputs
	xPlane   int64          // 168: their inputs
	wPlane   int64          // 176: their weights
	bias     uintptr        // 184: the planes' biases, one float each, or 0 for none
	outBase  uintptr        // 192: the plane's output, input and weights
	xBase    uintptr        // 200
	wBase    uintptr        // 208
	runAt    uintptr        // 216: the run
	runsLeft int64          // 224
}

// rowRun is a RowRun in bytes, as the assembly reads it.
type rowRun struct{ out, x, w, rows, kh int64 }

// A RowRun is Rows output rows of a plane from Out (floats from the
// plane's output) that read the same KH kernel rows: those from W
// (floats from the plane's weights), over the input rows from X (floats
// from the plane's input).
type RowRun struct{ Out, X, W, Rows, KH int }

// RowRuns are the runs of every output row of a plane, checked and laid
// out for the kernel, with the rows' steps (in floats): xRow between
// consecutive output rows' inputs, oRow between output rows.
type RowRuns struct {
	l                     *RowLayout
	runs                  []rowRun
	spec                  []RowRun
	xRow, oRow            int
	outSpan, xSpan, wSpan int // the floats from a plane's first that the runs reach
}

// Runs returns runs over the layout; negative offsets, steps or counts
// are programming errors and panic.
func (l *RowLayout) Runs(runs []RowRun, xRow, oRow int) *RowRuns {
	r := &RowRuns{l: l, spec: runs, xRow: xRow, oRow: oRow}
	if xRow < 0 || oRow < 0 || len(runs) == 0 {
		panic("kernel: row runs with a negative step, or none")
	}
	for _, u := range runs {
		if u.Out < 0 || u.X < 0 || u.W < 0 || u.Rows <= 0 || u.KH < 0 {
			panic(fmt.Sprintf("kernel: row run %+v", u))
		}
		r.outSpan = max(r.outSpan, u.Out+(u.Rows-1)*oRow+l.ow)
		if u.KH > 0 {
			r.xSpan = max(r.xSpan, u.X+(u.Rows-1)*xRow+u.KH*l.w)
			r.wSpan = max(r.wSpan, u.W+u.KH*l.kw)
		}
		r.runs = append(r.runs, rowRun{out: int64(4 * u.Out), x: int64(4 * u.X), w: int64(4 * u.W), rows: int64(u.Rows), kh: int64(u.KH)})
	}
	return r
}

// DepthwisePlanes computes planes channels of a depthwise convolution, a
// plane's output rows run by run: for plane p and each run's rows r <
// Rows and j < ow,
//
//	out[p·oPlane + Out + r·oRow + j] = bias[p] + Σ_{ki<KH} Σ_{kj<kw}
//	    wts[p·wPlane + W + ki·kw + kj] · x[p·xPlane + X + r·xRow + ki·w + s·j + kj − pw]
//
// leaving out the terms whose column s·j + kj − pw lies outside [0, w)
// (on NewRowLayoutUp's layout the column is (j + pw − kj)/2, and the
// terms where that is not whole are left out too), the terms added in the
// order ki, kj, each multiply and add fused; then, where relu is set,
// negatives and NaN set to zero. A nil bias is zeros. Nothing else of out
// is written. It panics where a read would fall outside x, wts or bias,
// or a write outside out.
func (r *RowRuns) DepthwisePlanes(out, x, wts, bias []float32, planes, oPlane, xPlane, wPlane int, relu bool) {
	checked{native}.DepthwisePlanes(r, out, x, wts, bias, planes, oPlane, xPlane, wPlane, relu)
}

func (c checked) DepthwisePlanes(r *RowRuns, out, x, wts, bias []float32, planes, oPlane, xPlane, wPlane int, relu bool) {
	if planes <= 0 {
		return
	}
	if oPlane < 0 || xPlane < 0 || wPlane < 0 {
		panic("kernel: DepthwisePlanes with a negative plane step")
	}
	if bias != nil {
		_ = bias[planes-1]
	}
	_ = out[(planes-1)*oPlane+r.outSpan-1]
	if r.xSpan > 0 {
		_ = x[(planes-1)*xPlane+r.xSpan-1]
		_ = wts[(planes-1)*wPlane+r.wSpan-1]
	}
	c.k.depthwisePlanes(r, out, x, wts, bias, planes, oPlane, xPlane, wPlane, relu)
}

// column returns the input column tap kj of output pixel j reads, and
// false where it reads none (padding, or, in NewRowLayoutUp's, no whole
// column).
func (l *RowLayout) column(j, kj int) (int, bool) {
	col := l.stride*j + kj - l.pw
	if l.up {
		if (j+l.pw-kj)&1 != 0 {
			return 0, false
		}
		col = floorDiv2(j + l.pw - kj)
	}
	return col, col >= 0 && col < l.w
}

// depthwisePlanesGo is the twin of the DepthwisePlanes kernel.
func depthwisePlanesGo(r *RowRuns, out, x, wts, bias []float32, planes, oPlane, xPlane, wPlane int, relu bool) {
	for p := range planes {
		var b float32
		if bias != nil {
			b = bias[p]
		}
		for _, u := range r.spec {
			var xs, ws []float32
			if u.KH > 0 {
				xs, ws = x[p*xPlane+u.X:], wts[p*wPlane+u.W:]
			}
			depthwiseRowsGo(r.l, out[p*oPlane+u.Out:], xs, ws, r.xRow, r.oRow, u.Rows, u.KH, b, relu)
		}
	}
}

// depthwiseRowsGo computes rows output rows of one run, on x from the
// first row's first kernel row.
func depthwiseRowsGo(l *RowLayout, out, x, wts []float32, xRow, oRow, rows, kh int, bias float32, relu bool) {
	for r := range rows {
		o := out[r*oRow:][:l.ow]
		for j := range o {
			acc := bias
			for ki := range kh {
				row := x[r*xRow+ki*l.w:][:l.w]
				for kj := range l.kw {
					if col, ok := l.column(j, kj); ok {
						acc = fma(wts[ki*l.kw+kj], row[col], acc)
					}
				}
			}
			if relu && !(acc > 0) {
				acc = 0
			}
			o[j] = acc
		}
	}
}

// DepthwiseRowsGrad adds to sums (kw floats) the weight gradient of one
// kernel row of a depthwise channel over rows output rows, every one of
// which that kernel row reads in the image: for kj < kw,
//
//	sums[kj] += Σ_{r<rows} Σ_{j<ow} dy[dy0 + r·dyRow + j] · x[x0 + r·xRow + s·j + kj − pw]
//
// leaving out the terms whose column lies outside [0, w). Each tap's
// terms are summed per lane of 16 (pixel j in lane j mod 16), row r of
// each group of four rows into the group's r-th accumulator and the rows
// past the last group into the first, each multiply and add fused; then
// the accumulators are added, (a0+a1)+(a2+a3), their lanes folded in
// halves, and the sum added to sums[kj]. It panics where a read would
// fall outside dy or x, or sums has fewer than kw floats.
func (l *RowLayout) DepthwiseRowsGrad(sums, dy, x []float32, dy0, x0, dyRow, xRow, rows int) {
	checked{native}.DepthwiseRowsGrad(l, sums, dy, x, dy0, x0, dyRow, xRow, rows)
}

func (c checked) DepthwiseRowsGrad(l *RowLayout, sums, dy, x []float32, dy0, x0, dyRow, xRow, rows int) {
	if rows <= 0 {
		return
	}
	if dy0 < 0 || x0 < 0 || dyRow < 0 || xRow < 0 {
		panic("kernel: DepthwiseRowsGrad with a negative offset or step")
	}
	if l.up {
		panic("kernel: DepthwiseRowsGrad on a transposed row layout")
	}
	_ = sums[l.kw-1]
	_ = dy[dy0+(rows-1)*dyRow+l.ow-1]
	_ = x[x0+(rows-1)*xRow+l.w-1]
	c.k.depthwiseRowsGrad(l, sums, dy[dy0:], x[x0:], dyRow, xRow, rows)
}

// depthwiseRowsGradGo is the twin of the DepthwiseRowsGrad kernel, on dy
// and x from the first row.
func depthwiseRowsGradGo(l *RowLayout, sums, dy, x []float32, dyRow, xRow, rows int) {
	grouped := rows / 4 * 4
	for kj := range l.kw {
		var acc [4][Lanes]float32
		for r := range rows {
			set := 0
			if r < grouped {
				set = r % 4
			}
			for j := range l.ow {
				if col, ok := l.column(j, kj); ok {
					a := &acc[set][j%Lanes]
					*a = fma(dy[r*dyRow+j], x[r*xRow+col], *a)
				}
			}
		}
		for lane := range Lanes {
			acc[0][lane] += acc[1][lane]
			acc[2][lane] += acc[3][lane]
			acc[0][lane] += acc[2][lane]
		}
		sums[kj] += fold16(&acc[0])
	}
}

// Spec returns the runs as given to Runs.
func (r *RowRuns) Spec() []RowRun { return r.spec }

// Band returns the runs of the output rows that start in [lo, hi) (floats
// from a plane's first), each moved lo floats back: they write that band
// of every plane's rows into planes of hi−lo floats, and read what the
// whole runs read. It returns nil where no row starts there.
func (r *RowRuns) Band(lo, hi int) *RowRuns {
	if r.oRow <= 0 {
		return nil // every row starts at its run's first float
	}
	var runs []RowRun
	for _, u := range r.spec {
		// Row k of the run starts at u.Out + k·oRow: rows k0 to k1−1
		// start in the band (Go's division truncates toward zero, and
		// max and the test below take care of the negative quotients).
		k0 := max(0, (lo-u.Out+r.oRow-1)/r.oRow)
		k1 := min(u.Rows, (hi-u.Out+r.oRow-1)/r.oRow)
		if k0 >= k1 || hi <= u.Out {
			continue
		}
		v := RowRun{Out: u.Out + k0*r.oRow - lo, W: u.W, Rows: k1 - k0, KH: u.KH}
		if u.KH > 0 {
			v.X = u.X + k0*r.xRow
		}
		runs = append(runs, v)
	}
	if len(runs) == 0 {
		return nil
	}
	return r.l.Runs(runs, r.xRow, r.oRow)
}
