package fgsm

import (
	"fmt"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/runtime"
)

// EngineScorer makes a Scorer of an engine that runs the model on its
// inputs (an ONNX Runtime session, or interp.Engine): it applies pre to
// the pixels of c×h×w samples and checks that the engine gives k scores a
// sample (any number when k is 0). Like the engine, the Scorer is not safe
// for concurrent use; it keeps one input buffer between calls.
func EngineScorer(e runtime.Engine, pre dataset.Preprocess, c, h, w, k int) Scorer {
	var in []float32
	per := c * h * w
	return func(dst, x []float32, n int) ([]float32, error) {
		if n <= 0 || len(x) != n*per {
			return nil, fmt.Errorf("scoring %d pixel values as %d samples of %d×%d×%d", len(x), n, c, h, w)
		}
		in = pre.Apply(in, x, c, h*w)
		out, shape, err := e.Run(dst, in, n)
		if err != nil {
			return nil, err
		}
		if len(shape) == 0 || shape[0] != int64(n) || len(out)%n != 0 || k > 0 && len(out) != n*k {
			return nil, fmt.Errorf("the model gave output of shape %v for %d samples; want %d scores a sample", shape, n, k)
		}
		return out, nil
	}
}
