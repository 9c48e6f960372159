package fgsm

import (
	"fmt"
	"strings"

	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Engines is implemented by a Gradients that computes its passes on more
// than one engine (gradengine.Engine: ONNX Runtime's gradient graph for
// the cross-entropy, the interpreter for the rest). It names the engine
// of each pass as Report.GradEngine names them; a Gradients without it
// computes every pass on the interpreter.
type Engines interface {
	// GradEngine names the engine that computes a gradient pass asking
	// for want.
	GradEngine(want interp.Want) string
	// RunEngine names the engine that Run uses.
	RunEngine() string
}

// Engine names, as reports record them.
const (
	interpreterEngine = "interpreter"
	graphPrefix       = "onnxruntime-graph/" // and the device: the gradient graph on ONNX Runtime
	runtimePrefix     = "onnxruntime/"       // and the device: the deployed model on ONNX Runtime
	selfRuntime       = "interp"             // Report.Runtime when the interpreter classifies
)

// GradEngine names the engine that computes m's gradient passes: those of
// the cross-entropy (Grad) when custom is false, those of a SampleLoss
// (LossGrad) when it is true.
func (m *Model) GradEngine(custom bool) string {
	e, ok := m.G.(Engines)
	if !ok {
		return interpreterEngine
	}
	want := interp.Want{Input: true}
	if custom {
		want.Loss = sampleLoss(func([]float32, []float32, int, int) float64 { return 0 }, 0, 0)
	}
	return e.GradEngine(want)
}

// RunEngine names the engine of m's forward passes (Logits, Score).
func (m *Model) RunEngine() string {
	if e, ok := m.G.(Engines); ok {
		return e.RunEngine()
	}
	return interpreterEngine
}

// CleanSource names the engine whose clean logits CleanDisagreement
// compared with the runtime's: CleanLogits, or, in a report from before
// that was recorded, the interpreter where it computed every gradient
// (GradEngine empty or "interpreter"). It is "" where nothing was compared
// (the interpreter classifies, or the audit was black-box) and where an
// older report does not say.
func (r *Report) CleanSource() string {
	switch {
	case r.CleanLogits != "":
		return r.CleanLogits
	case r.Runtime == selfRuntime || r.Checks.BlackBox:
		return ""
	case r.GradEngine == "" || r.GradEngine == interpreterEngine:
		return interpreterEngine
	}
	return ""
}

// CleanSameRuntime says whether the clean check compared two sessions of
// ONNX Runtime on one device: the gradient graph's logits against the
// deployed model's. That checks the graph onnxguard built, not ONNX
// Runtime's kernels, which computed both.
func (r *Report) CleanSameRuntime() bool {
	dev, ok := strings.CutPrefix(r.CleanSource(), graphPrefix)
	return ok && !strings.Contains(dev, ", ") && r.Runtime == runtimePrefix+dev
}

// CleanCheck describes the clean-disagreement check for people, in one
// line: whose logits were compared with whose, and, where both are ONNX
// Runtime on one device, that the check is not independent of it. It is
// "" where nothing was compared.
func (r *Report) CleanCheck() string {
	if r.Runtime == selfRuntime || r.Checks.BlackBox {
		return ""
	}
	src := r.CleanSource()
	s := fmt.Sprintf("%d of %d clean samples classified differently by %s and %s", r.CleanDisagreement, r.Samples, engineText(src), r.Runtime)
	if r.CleanSameRuntime() {
		s += fmt.Sprintf(": two ONNX Runtime sessions on %s (the gradient graph and the deployed model), which checks the graph onnxguard built, not ONNX Runtime's kernels; --cross-check compares the interpreter's logits instead",
			strings.TrimPrefix(src, graphPrefix))
	}
	return s
}

// cleanWarning is the warning for CleanDisagreement clean samples out of
// Samples classified differently.
func (r *Report) cleanWarning() string {
	if r.CleanSameRuntime() {
		return fmt.Sprintf("%s and %s disagree on %d of %d clean samples: both are ONNX Runtime on one device, so the gradient graph onnxguard built does not compute the deployed model; the gradients may not describe it",
			engineText(r.CleanSource()), r.Runtime, r.CleanDisagreement, r.Samples)
	}
	return fmt.Sprintf("%s and %s disagree on %d of %d clean samples; the gradients may not describe the deployed model",
		engineText(r.CleanSource()), r.Runtime, r.CleanDisagreement, r.Samples)
}

// notRecorded stands, in a merged report's CleanLogits, for the shards
// that compared clean logits without recording whose.
const notRecorded = "not recorded"

// engineText names an engine of Report.CleanLogits for people.
func engineText(name string) string {
	switch {
	case name == "" || name == notRecorded:
		return "the gradient engine (not recorded)"
	case strings.Contains(name, ", "):
		return "the gradient engines (" + name + ", by shard)"
	case name == interpreterEngine:
		return "the interpreter"
	case strings.HasPrefix(name, graphPrefix):
		return "the gradient graph on ONNX Runtime (" + strings.TrimPrefix(name, graphPrefix) + ")"
	}
	return name
}
