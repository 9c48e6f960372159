package kernel

import "math"

// MaskKernels write and read a Relu's bit mask, one bit per element
// (element i at bit i%64 of word i/64, set where the value is positive),
// which a gradient pass keeps instead of the Relu's output. Masks picks
// the implementation once, for a node.
type MaskKernels struct{ k impl }

// Masks returns the mask kernels: the assembly where vector is set and
// this CPU runs it, the Go twins (bit for bit the same) otherwise.
func Masks(vector bool) MaskKernels {
	if vector {
		return MaskKernels{native}
	}
	return MaskKernels{goKernels{}}
}

// Relu writes y = max(x, 0) (NaN stays NaN, −0 becomes +0) and the
// mask of x > 0 to m, which must hold (len(x)+63)/64 words; y must be as
// long as x.
func (mk MaskKernels) Relu(y, x []float32, m []uint64) {
	whole := len(x) / 64
	_, _ = y[:len(x)], m[:(len(x)+63)/64]
	if whole > 0 {
		mk.k.reluMask(y[:64*whole], x[:64*whole], m[:whole])
	}
	reluMaskGo(y[64*whole:len(x)], x[64*whole:], m[whole:])
}

// Positive writes the mask of y > 0 to m, which must hold
// (len(y)+63)/64 words.
func (mk MaskKernels) Positive(m []uint64, y []float32) {
	whole := len(y) / 64
	_ = m[:(len(y)+63)/64]
	if whole > 0 {
		mk.k.positiveMask(m[:whole], y[:64*whole])
	}
	positiveMaskGo(m[whole:], y[64*whole:])
}

// Pass writes dx[j] = dy[j] where bit start+j of m is set and +0
// elsewhere: the gradient through the Relu, for the elements from start
// on. dy must be as long as dx, and m must cover start+len(dx) bits.
func (mk MaskKernels) Pass(dx, dy []float32, m []uint64, start int) {
	dy = dy[:len(dx)]
	_ = m[:(start+len(dx)+63)/64]
	head := min(len(dx), (64-start%64)%64) // up to a word's start
	passMaskGo(dx[:head], dy[:head], m, start)
	dx, dy, start = dx[head:], dy[head:], start+head
	if whole := len(dx) / 64; whole > 0 {
		mk.k.passMask(dx[:64*whole], dy[:64*whole], m[start/64:][:whole])
		dx, dy, start = dx[64*whole:], dy[64*whole:], start+64*whole
	}
	passMaskGo(dx, dy, m, start)
}

// reluMaskGo is reluMask for any length: the last word may be partial.
func reluMaskGo(y, x []float32, m []uint64) {
	for k := 0; 64*k < len(x); k++ {
		xs := x[64*k : min(64*k+64, len(x))]
		var w uint64
		for j, v := range xs {
			y[64*k+j] = max(v, 0)
			w |= positive(v) << j
		}
		m[k] = w
	}
}

// positiveMaskGo is positiveMask for any length.
func positiveMaskGo(m []uint64, y []float32) {
	for k := 0; 64*k < len(y); k++ {
		var w uint64
		for j, v := range y[64*k : min(64*k+64, len(y))] {
			w |= positive(v) << j
		}
		m[k] = w
	}
}

// passMaskGo is passMask for any length, dx[j] reading bit start+j.
func passMaskGo(dx, dy []float32, m []uint64, start int) {
	for j, g := range dy[:len(dx)] {
		i := start + j
		dx[j] = math.Float32frombits(math.Float32bits(g) & -uint32(m[i>>6]>>(i&63)&1))
	}
}

// positive returns 1 where v > 0 and 0 elsewhere, NaN included, without
// a branch (which on a network's random signs would mispredict half the
// time): v > 0 exactly when its bits u are 1 to 0x7F800000 (a positive
// float up to +Inf), so u−1 (wrapping at 0) is below 0x7F800000 and
// subtracting that borrows into bit 63.
func positive(v float32) uint64 {
	return (uint64(math.Float32bits(v)-1) - 0x7F800000) >> 63
}
