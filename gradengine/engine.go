package gradengine

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/onnxguard/onnxguard/gradgraph"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// gradients is what both engines have: fgsm.Gradients, named here so that
// this package does not depend on the attacks.
type gradients interface {
	InputInfo() onnx.ValueInfo
	Run(x *interp.Tensor) ([]*interp.Tensor, error)
	Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error)
}

// Engine computes gradients on the engine Open chose. It implements
// fgsm.Gradients; like the interpreter's Program it is not safe for
// concurrent use.
type Engine struct {
	ref     gradients // the interpreter: Run, InputInfo and what the graph cannot do
	graph   gradients // ONNX Runtime's gradient graph; nil when every pass is the interpreter's
	closer  interface{ Close() error }
	device  string // where the graph runs: "cpu" or "cuda"
	weights bool   // the graph has weight gradients
	// prog is the interpreter program of an engine opened with Train: the
	// weights training updates, which the graph reads on every run.
	prog *interp.Program
	// Reason says, in one line, why this engine: Prefer's reason, or why
	// Auto fell back to the interpreter.
	Reason string
	// Fallback is set when Auto chose ONNX Runtime's graph and could not
	// open it; Reason then says why.
	Fallback bool
}

// Options configure Open.
type Options struct {
	Kind Kind
	// ORT configures the graph's session (library, device, threads).
	ORT *ort.Options
	// Weights builds the graph with weight gradients, for passes that ask
	// for them (interp.Want.Params).
	Weights bool
	// Train makes the Engine a harden.Trainable over the program p given
	// to Open: the graph, built with weight gradients, reads p's weights
	// as inputs on every run (gradgraph.Options.FeedWeights), so the
	// updates training writes into them take effect, and training passes
	// run on the graph where the mode does not change what the model
	// computes (no training-mode Dropout or BatchNormalization). Train
	// cannot be set with Recompile.
	Train bool
	// Recompile, where set, compiles the model's program again as p was
	// compiled. Once the graph is open the engine then lets go of p and
	// compiles again only when a pass needs the interpreter (another loss,
	// training, Run), so that the interpreter's decoded weights are not
	// held beside the graph's session for nothing (ViT-B/16: 330 MB).
	// Leave it nil where the caller keeps p for other work anyway.
	Recompile func() (*interp.Program, error)
}

// Open returns the gradient engine for model m, whose compiled program
// p computes what the graph cannot and is the reference. With Kind ORT a
// graph that cannot be built or opened is an error; with Auto it leaves
// the interpreter in charge, with Fallback and Reason set.
func Open(m *onnx.Model, p *interp.Program, opt Options) (*Engine, error) {
	kind := opt.Kind
	if kind == "" {
		kind = Auto
	}
	e := &Engine{ref: p, Reason: "chosen: the interpreter"}
	if opt.Train {
		if opt.Recompile != nil {
			return nil, errors.New("gradengine: Options.Train and Recompile together: training updates the program's weights, which Recompile lets go of")
		}
		e.prog = p
	}
	switch kind {
	case Interp:
		return e, nil
	case Auto:
		var k Kind
		if k, e.Reason = Prefer(p); k == Interp && (opt.ORT == nil || opt.ORT.Device != ort.DeviceCUDA) {
			return e, nil
		} else if k == Interp {
			// The interpreter computes on the CPU only: asked for CUDA,
			// the graph is the one engine that can use it.
			e.Reason = "CUDA asked for: ONNX Runtime's graph, as the interpreter runs on the CPU only"
		}
	case ORT:
		e.Reason = "chosen: ONNX Runtime's graph"
	default:
		_, err := ParseKind(string(kind))
		return nil, err
	}
	err := e.openGraph(m, p, opt)
	if err == nil && opt.Recompile != nil {
		e.ref = &lazyProgram{info: p.InputInfo(), classes: classes(p), compile: opt.Recompile}
		// The program's storage goes back to the system now, not when the
		// collector's scavenger gets to it, before the steps peak.
		debug.FreeOSMemory()
	}
	if err == nil || kind == ORT {
		return e, err
	}
	e.Fallback = true
	e.Reason = fmt.Sprintf("%s; gradients on the interpreter instead: %s", e.Reason, firstLine(err.Error()))
	return e, nil
}

// openGraph builds m's gradient graph on the shapes p inferred (p is m
// compiled, within its memory budget) and opens it in ONNX Runtime.
func (e *Engine) openGraph(m *onnx.Model, p *interp.Program, opt Options) error {
	var o ort.Options
	if opt.ORT != nil {
		o = *opt.ORT
	}
	if _, err := ort.FindLibrary(o.Library); err != nil {
		return fmt.Errorf("ONNX Runtime's gradient graph: %w", err)
	}
	// FeedWeights implies weight gradients.
	g, err := gradgraph.Build(m, &gradgraph.Options{Weights: opt.Weights, FeedWeights: opt.Train, Program: p})
	if err != nil {
		return fmt.Errorf("building the gradient graph: %w", err)
	}
	ge, err := gradgraph.NewEngine(g, &o)
	if err != nil {
		return fmt.Errorf("opening the gradient graph in ONNX Runtime: %w", err)
	}
	if opt.Train {
		// The graph reads p's weights themselves, which training updates.
		w := make([][]float32, len(p.Params()))
		for i, prm := range p.Params() {
			w[i] = prm.T.Data
		}
		if err := ge.Feed(w); err != nil {
			ge.Close()
			return fmt.Errorf("feeding the gradient graph its weights: %w", err)
		}
	}
	e.graph, e.closer, e.device, e.weights = ge, ge, ge.Device(), opt.Weights || opt.Train
	return nil
}

// InputInfo is the model's input, as the interpreter declares it.
func (e *Engine) InputInfo() onnx.ValueInfo { return e.ref.InputInfo() }

// Run is the model's inference: the interpreter's, since the flag chooses
// where gradients are computed, not what classifies; but an engine opened
// with Train runs it on its graph, which reads the weights as training
// leaves them. Every classification of a training run goes there
// (validation's, and the clean logits of TRADES's inner maximisation) on
// ONNX Runtime's forward kernels, instead of holding the interpreter's
// activations of a whole batch on top of what the graph's training passes
// keep (ViT-B/16); the logits differ from the interpreter's by float
// rounding only.
func (e *Engine) Run(x *interp.Tensor) ([]*interp.Tensor, error) {
	if e.runsOnGraph() {
		return e.graph.Run(x)
	}
	return e.ref.Run(x)
}

// runsOnGraph says whether Run is the graph's: opened with Train, and the
// graph open.
func (e *Engine) runsOnGraph() bool { return e.prog != nil && e.graph != nil }

// Grad computes what want asks for on the graph where it can (see
// OnGraph), on the interpreter otherwise.
func (e *Engine) Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error) {
	if e.OnGraph(want) {
		// A training mode that computes as inference does (OnGraph).
		want.Mode = interp.Mode{}
		return e.graph.Grad(x, labels, want)
	}
	return e.ref.Grad(x, labels, want)
}

// OnGraph says whether a pass asking for want runs on ONNX Runtime's
// graph: there is one, and it computes the pass (the mean softmax
// cross-entropy, in inference mode or, for an engine opened with Train, in
// a training mode that computes the same, weight gradients only if built
// with them).
func (e *Engine) OnGraph(want interp.Want) bool {
	inference := !want.Training || e.prog != nil && !e.prog.ModeMatters(want.Mode)
	return e.graph != nil && want.Loss == nil && inference && (!want.Params || e.weights)
}

// Params returns the weights of an engine opened with Train (the
// program's, which the graph reads), nil otherwise. With Reseed and
// ModeMatters it makes the Engine a harden.Trainable.
func (e *Engine) Params() []interp.Param {
	if e.prog == nil {
		return nil
	}
	return e.prog.Params()
}

// Reseed reseeds the program's training-mode Dropout (see
// interp.Program.Reseed); passes with Dropout in training mode run there.
func (e *Engine) Reseed(seed uint64) {
	if e.prog != nil {
		e.prog.Reseed(seed)
	}
}

// ModeMatters says whether mode changes what the model computes (see
// interp.Program.ModeMatters); true for an engine not opened with Train.
func (e *Engine) ModeMatters(mode interp.Mode) bool {
	return e.prog == nil || e.prog.ModeMatters(mode)
}

// GradEngine names the engine that computes a pass asking for want, as
// Name does: the graph's where OnGraph, "interpreter" otherwise. With it
// an Engine is an fgsm.Engines, and audits record whose logits they
// compared with the deployed runtime's.
func (e *Engine) GradEngine(want interp.Want) string {
	if e.OnGraph(want) {
		return e.Name()
	}
	return "interpreter"
}

// RunEngine names Run's engine: the graph's where it runs there (Train),
// the interpreter otherwise.
func (e *Engine) RunEngine() string {
	if e.runsOnGraph() {
		return e.Name()
	}
	return "interpreter"
}

// Name identifies the engine in reports: "interpreter", or
// "onnxruntime-graph/" and the device.
func (e *Engine) Name() string {
	if e.graph == nil {
		return "interpreter"
	}
	return "onnxruntime-graph/" + e.device
}

// String describes the engine for people: "interpreter", or "onnxruntime
// graph (cpu)"; passes the graph does not compute still run on the
// interpreter.
func (e *Engine) String() string {
	if e.graph == nil {
		return "interpreter"
	}
	return "onnxruntime graph (" + e.device + "); other losses and training passes on the interpreter"
}

// Close closes the graph's sessions, if any.
func (e *Engine) Close() error {
	if e.closer == nil {
		return nil
	}
	return e.closer.Close()
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
