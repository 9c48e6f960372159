package kernel

// Transpose writes the transpose of a block of src, rows rows (at most
// 16) of cols floats, sStride floats apart, to dst, cols rows of rows
// floats, dStride floats apart:
//
//	dst[k·dStride + j] = src[j·sStride + k]   for j < rows, k < cols
//
// leaving the floats between dst's rows as they were. It moves images
// between planes and pixel-major grids (channels innermost) 16×16 floats
// at a time, in registers, where a gather of 16 lanes from 16 planes
// would read a cache line a lane. Strides must not be negative; it panics
// where a read would fall outside src or a write outside dst.
func Transpose(dst, src []float32, rows, cols, dStride, sStride int) {
	checked{native}.Transpose(dst, src, rows, cols, dStride, sStride)
}

func (c checked) Transpose(dst, src []float32, rows, cols, dStride, sStride int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if rows > Lanes || dStride < 0 || sStride < 0 {
		panic("kernel: Transpose of more than 16 rows or with a negative stride")
	}
	_, _ = src[(rows-1)*sStride+cols-1], dst[(cols-1)*dStride+rows-1]
	c.k.transpose(dst, src, rows, cols, dStride, sStride)
}

// transposeGo is the twin of the Transpose kernel.
func transposeGo(dst, src []float32, rows, cols, dStride, sStride int) {
	for j := range rows {
		for k, v := range src[j*sStride:][:cols] {
			dst[k*dStride+j] = v
		}
	}
}

// A Transposer runs Transpose on the assembly or on its Go twin, as Acts
// chooses for the activations: callers that run off the vector kernels
// (State.Kernels false) take the twin, as a CPU without AVX-512F would.
type Transposer struct{ k impl }

// Transposes returns the Transposer for vector.
func Transposes(vector bool) Transposer {
	if vector {
		return Transposer{native}
	}
	return Transposer{goKernels{}}
}

// Transpose is the package's Transpose on t's implementation.
func (t Transposer) Transpose(dst, src []float32, rows, cols, dStride, sStride int) {
	checked{t.k}.Transpose(dst, src, rows, cols, dStride, sStride)
}

// Matrix is Transpose for any number of rows, 16 at a time: dst[k·dStride
// + j] = src[j·sStride + k] for j < rows and k < cols.
func (t Transposer) Matrix(dst, src []float32, rows, cols, dStride, sStride int) {
	for j := 0; j < rows; j += Lanes {
		t.Transpose(dst[j:], src[j*sStride:], min(Lanes, rows-j), cols, dStride, sStride)
	}
}
