package fgsm

import (
	"fmt"
	"strings"
)

// Norm is the geometry of a perturbation budget: an L∞ radius (every pixel
// moves at most ε) or an L2 radius (the perturbation's Euclidean length
// over all C·H·W values is at most ε), both in pixel space [0,1].
type Norm string

// The norms the attacks support.
const (
	Linf Norm = "linf"
	L2   Norm = "l2"
)

// ParseNorm reads "linf" (also "inf", "l-inf") or "l2"; "" is Linf.
func ParseNorm(s string) (Norm, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "linf", "inf", "l-inf", "l∞":
		return Linf, nil
	case "l2":
		return L2, nil
	}
	return "", fmt.Errorf("unknown norm %q: choose linf or l2", s)
}

// Scorer classifies n samples of pixels x in [0,1] (N×C×H×W, the
// preprocessing is the Scorer's business) and returns their n×K logits,
// reusing dst when large enough. A black-box attack needs nothing else;
// an ONNX Runtime session wrapped with the model's preprocessing is one.
type Scorer func(dst, x []float32, n int) ([]float32, error)
