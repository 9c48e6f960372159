// Package pixelstep is fgsm.Step, one signed-gradient step projected onto
// the ε-ball and [0,1], on AVX-512F where the CPU has it and in Go
// elsewhere.
//
// The Go loop (step) is the reference. The assembly gives its bits: each
// sum and difference is one float32 operation, as in Go, and a vector in
// which any of them is NaN is left to the Go loop, since which NaN Go's
// min and max return is Go's business. Without NaN the clamps agree with
// Go's min and max on every value, and the last max with +0 makes every
// zero +0 as Go's does, so only the signs of zeros in between, which
// nothing sees, may differ.
package pixelstep
