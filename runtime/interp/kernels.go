package interp

import "github.com/onnxguard/onnxguard/runtime/interp/ops"

// KernelMode says whether a program's operators take the vector kernels'
// paths: the direct convolution, the 2×2 max pool and its gradient, the
// Relu mask and thin matrix products (ops/internal/kernel).
type KernelMode int

const (
	// KernelsAuto takes them where the CPU runs their assembly (amd64
	// with AVX-512F, built without the purego tag), the portable paths
	// elsewhere.
	KernelsAuto KernelMode = iota
	// KernelsOff takes the portable paths: im2col and the matrix
	// multiply, the Go pooling loops. Results agree with the kernels'
	// up to the order of float sums.
	KernelsOff
	// KernelsOn takes the kernels' paths everywhere, on their pure-Go
	// twins where the CPU has no assembly: slower than the portable
	// paths there, it is for testing the kernel paths on any machine.
	KernelsOn
)

// on reports whether the mode takes the kernels' paths on this machine.
func (k KernelMode) on() bool {
	switch k {
	case KernelsOff:
		return false
	case KernelsOn:
		return true
	}
	return ops.Kernels() == "avx512f"
}

// Kernels names what a program compiled with opt (nil: the defaults)
// computes on: "avx512f" (the kernels' assembly), "go" (their Go twins,
// KernelsOn without the assembly), "off" (KernelsOff) or "none" (no
// assembly on this machine, so the portable paths).
func Kernels(opt *Options) string {
	mode := KernelsAuto
	if opt != nil {
		mode = opt.Kernels
	}
	switch {
	case mode == KernelsOff:
		return "off"
	case !mode.on():
		return "none"
	}
	return ops.Kernels()
}
