package export

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// ErrMismatch is returned, wrapped, when ONNX Runtime's outputs for a
// written model differ from the interpreter's by more than the tolerance.
var ErrMismatch = errors.New("export: ONNX Runtime and the interpreter disagree on the written model")

// The relative error's denominator is |b| but at least relScale of the
// largest output magnitude and at least relFloor, so that outputs near
// zero, where float32 rounding of the larger terms dominates, are compared
// on the scale of the outputs.
const (
	relFloor = 1e-3 // absolute floor of the denominator
	relScale = 1e-2 // fraction of max|b|
)

// Verify loads the model file at path in ONNX Runtime and compares its first
// output on x (a batch already in the model's input space, NCHW float32)
// with prog's, run in inference mode. It
// returns the largest relative error |a−b| / max(|b|, 1e-2·max|b|, 1e-3), a from ONNX
// Runtime and b from the interpreter, and an error wrapping ErrMismatch when
// that is above tol or the shapes differ. Models exported with a fixed batch
// size run in chunks of it on both sides. ortOpt nil means ONNX Runtime's
// defaults; without a Check, the file passes interp.PreflightCheck first.
func Verify(path string, prog *interp.Program, x *interp.Tensor, tol float64, ortOpt *ort.Options) (float64, error) {
	if prog == nil {
		return 0, errors.New("export: Verify: no program to compare with")
	}
	n, err := checkBatch(prog, x)
	if err != nil {
		return 0, err
	}
	var opt ort.Options
	if ortOpt != nil {
		opt = *ortOpt
	}
	if opt.Check == nil {
		opt.Check = interp.PreflightCheck
	}
	sess, err := ort.Open(path, &opt)
	if err != nil {
		return 0, fmt.Errorf("export: verifying %s: %w", path, err)
	}
	defer sess.Close()
	got, gotShape, err := sess.Run(nil, x.Data, n)
	if err != nil {
		return 0, fmt.Errorf("export: verifying %s: %w", path, err)
	}
	want, wantShape, err := interp.Engine{P: prog}.Run(nil, x.Data, n)
	if err != nil {
		return 0, fmt.Errorf("export: verifying %s: the interpreter: %w", path, err)
	}
	if !slices.Equal(gotShape, wantShape) {
		return math.Inf(1), fmt.Errorf("%w: %s: ONNX Runtime's first output has shape %v, the interpreter's %v", ErrMismatch, path, gotShape, wantShape)
	}
	worst, at := maxRelErr(got, want)
	if !(worst <= tol) {
		per := len(want) / n
		return worst, fmt.Errorf("%w: %s: output %d of sample %d is %g in ONNX Runtime and %g in the interpreter, relative error %.3g above the tolerance %g",
			ErrMismatch, path, at%per, at/per, got[at], want[at], worst, tol)
	}
	return worst, nil
}

// checkBatch checks that x is a float batch of the program's input and
// returns its size.
func checkBatch(prog *interp.Program, x *interp.Tensor) (int, error) {
	decl := prog.Input.Shape
	if x == nil || x.IsInt() || len(x.Shape) != len(decl) || len(x.Shape) == 0 {
		return 0, fmt.Errorf("export: Verify: want a float batch of input %q %v, got %v", prog.Input.Name, decl, x)
	}
	for i, d := range decl[1:] {
		if d > 0 && int(d) != x.Shape[i+1] {
			return 0, fmt.Errorf("export: Verify: input %q wants samples of shape %v, got a batch of shape %v", prog.Input.Name, decl[1:], x.Shape)
		}
	}
	n := x.Shape[0]
	if n < 1 || len(x.Data) != x.Len() {
		return 0, fmt.Errorf("export: Verify: a batch of shape %v with %d values; want at least one sample and every value", x.Shape, len(x.Data))
	}
	return n, nil
}

// maxRelErr returns the largest |a−b| / max(|b|, relScale·max|b|, relFloor)
// and where it is; a NaN on one side only counts as infinite.
func maxRelErr(a, b []float32) (float64, int) {
	worst, at := 0.0, 0
	floor := relFloor
	for _, v := range b {
		if v := float64(v); !math.IsNaN(v) && !math.IsInf(v, 0) {
			floor = math.Max(floor, relScale*math.Abs(v))
		}
	}
	for i := range b {
		x, y := float64(a[i]), float64(b[i])
		var e float64
		switch {
		case math.IsNaN(x) && math.IsNaN(y), x == y:
			continue
		case math.IsNaN(x) || math.IsNaN(y):
			e = math.Inf(1)
		default:
			e = math.Abs(x-y) / math.Max(math.Abs(y), floor)
		}
		if e > worst {
			worst, at = e, i
		}
	}
	return worst, at
}
