package gradengine

import (
	"fmt"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// lazyProgram is the interpreter compiled on first use (Options.Recompile):
// its InputInfo is known without it, and a run that takes every gradient
// from the graph never asks for more. Like Engine, it is not safe for
// concurrent use.
type lazyProgram struct {
	info    onnx.ValueInfo
	classes int // logits per sample, from the shapes compiling inferred
	compile func() (*interp.Program, error)
	p       *interp.Program
	err     error // a failed compile, returned from then on
}

func (l *lazyProgram) program() (*interp.Program, error) {
	if l.p == nil && l.err == nil {
		if l.p, l.err = l.compile(); l.err != nil {
			l.err = fmt.Errorf("compiling the interpreter for a pass the gradient graph does not compute: %w", l.err)
		}
	}
	return l.p, l.err
}

func (l *lazyProgram) InputInfo() onnx.ValueInfo { return l.info }

func (l *lazyProgram) Run(x *interp.Tensor) ([]*interp.Tensor, error) {
	p, err := l.program()
	if err != nil {
		return nil, err
	}
	return p.Run(x)
}

func (l *lazyProgram) Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error) {
	p, err := l.program()
	if err != nil {
		return nil, err
	}
	return p.Grad(x, labels, want)
}

// classes returns the logits per sample of p's first output, from the
// shapes its compile-time run inferred, or 0 where they are not all known.
func classes(p *interp.Program) int {
	outs := p.Graph.Outputs
	if len(outs) == 0 {
		return 0
	}
	shape, ok := p.Shapes()[outs[0].Name]
	if !ok || len(shape) < 1 {
		return 0
	}
	k := 1
	for _, d := range shape[1:] {
		if d <= 0 {
			return 0
		}
		k *= d
	}
	return k
}

// Classes returns the logits per sample where the engine compiles its
// interpreter only on demand, so that probing the class count (as
// fgsm.NewAttacker does) does not compile it; 0 otherwise, where a probe
// costs nothing.
func (e *Engine) Classes() int {
	if l, ok := e.ref.(*lazyProgram); ok {
		return l.classes
	}
	return 0
}
