package gradgraph

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// Engine computes logits, loss and input gradients by running a gradient
// graph in ONNX Runtime. Its methods are safe for concurrent use (runs are
// serialised by the session).
//
// Besides LossGrad it has the interpreter's Program methods that attacks and
// training consume (InputInfo, Run, Grad), so that it can stand in for the
// interpreter behind that interface.
type Engine struct {
	mu       sync.Mutex // guards sessions
	g        *Graph
	opt      *ort.Options
	sess     *ort.Graph
	sessions map[string]*ort.Graph // by the outputs they compute, for Run and Grad
	sample   []int64               // the input's shape after the batch axis
	perX     int                   // values per sample
	fed      []ort.Tensor          // a Graph.Fed's weights, fed on every run (Feed)
	shapes   [][]int64             // the shapes of Graph.Params, as the graph declares them
	room     room                  // released results' outputs, for Grad's next runs
}

// NewEngine opens g in an ONNX Runtime session (opt as for ort.Open).
func NewEngine(g *Graph, opt *ort.Options) (*Engine, error) {
	gr, err := g.Model.Graph()
	if err != nil {
		return nil, err
	}
	e := &Engine{g: g, opt: opt, perX: 1, sessions: map[string]*ort.Graph{}}
	declared := map[string][]int64{}
	for _, in := range gr.Inputs {
		declared[in.Name] = in.Shape
	}
	if s := declared[g.Input]; len(s) > 0 {
		e.sample = s[1:]
	}
	for _, name := range g.Params {
		e.shapes = append(e.shapes, declared[name])
	}
	for _, d := range e.sample {
		if d <= 0 {
			return nil, fmt.Errorf("%w: input %q has a dynamic axis besides the batch", ErrUnsupported, g.Input)
		}
		e.perX *= int(d)
	}
	names := []string{g.Logits, g.Loss, g.InputGrad}
	e.sess, err = e.open(names)
	if err != nil {
		return nil, err
	}
	e.sessions[fmt.Sprint(names)] = e.sess
	// Building the graph (the interpreter's shape inference) and encoding
	// it leave garbage that the collector returns to the system only
	// slowly, and the gradient steps would peak on top of it (ConvNeXt-T:
	// 260 MB, one step's peak 2.97 -> 2.76 GB).
	debug.FreeOSMemory()
	return e, nil
}

// open opens a session of the graph that computes the outputs names: on
// a CPU with NCHWc kernels, its blocked form (Graph.Blocked).
func (e *Engine) open(names []string) (*ort.Graph, error) {
	return ort.OpenGraphForms(func(block int) ([]byte, error) {
		m, n, err := e.g.Blocked(block)
		if err != nil {
			return nil, err
		}
		if block > 0 && n == 0 {
			return nil, ort.ErrNoForm
		}
		return m.Marshal()
	}, e.inputNames(), names, e.opt)
}

// inputNames are the graph's inputs in the order runs feed them.
func (e *Engine) inputNames() []string {
	names := []string{e.g.Input, e.g.Labels}
	if e.g.Fed {
		names = append(names, e.g.Params...)
	}
	return names
}

// Feed sets the weights that a graph built with Options.FeedWeights reads
// on every run: w is aligned with Graph.Params (the interpreter's Params),
// and the engine keeps and reads the slices themselves, so a trainer that
// updates them in place between runs needs to call Feed once. It must not
// change them during a run.
func (e *Engine) Feed(w [][]float32) error {
	if !e.g.Fed {
		return errors.New("gradgraph: Feed: the graph holds its weights; build it with Options.FeedWeights to feed them")
	}
	if len(w) != len(e.g.Params) {
		return fmt.Errorf("gradgraph: Feed: %d weights for the graph's %d; pass one slice per Graph.Params entry, in its order (the interpreter's Params)", len(w), len(e.g.Params))
	}
	fed := make([]ort.Tensor, len(w))
	for i, shape := range e.shapes {
		n := 1
		for _, d := range shape {
			n *= int(d)
		}
		if len(w[i]) != n {
			return fmt.Errorf("gradgraph: Feed: weight %q has %d values, the graph reads %v", e.g.Params[i], len(w[i]), shape)
		}
		fed[i] = ort.Tensor{Shape: shape, Float: w[i]}
	}
	e.mu.Lock()
	e.fed = fed
	e.mu.Unlock()
	return nil
}

// feeds returns the inputs of one run: the batch, its labels and the fed
// weights.
func (e *Engine) feeds(x ort.Tensor, labels []int64) ([]ort.Tensor, error) {
	e.mu.Lock()
	fed := e.fed
	e.mu.Unlock()
	if e.g.Fed && fed == nil {
		return nil, errors.New("gradgraph: the graph reads its weights as inputs and none were fed (Engine.Feed)")
	}
	return append([]ort.Tensor{x, {Shape: []int64{int64(len(labels))}, Int: labels}}, fed...), nil
}

// Device says where the graph runs: "cpu" or "cuda".
func (e *Engine) Device() string { return e.sess.Device() }

// Close releases the sessions.
func (e *Engine) Close() error {
	e.room.close()
	e.mu.Lock()
	defer e.mu.Unlock()
	var first error
	for _, s := range e.sessions {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// LossGrad returns, for n samples x (n·C·H·W values, preprocessed as the
// model expects) with their labels, the logits the loss reads (n×K), the
// mean softmax cross-entropy, computed in float64 from those logits as
// interp.SoftmaxCrossEntropy does, and its gradient with respect to x. A
// model with a dynamic batch runs all n at once; one with a fixed batch B
// runs chunks of B, the last padded with zeros (label 0), and the chunks'
// gradients, means over B, are rescaled to a mean over n.
func (e *Engine) LossGrad(x []float32, labels []int, n int) (logits []float32, loss float64, grad []float32, err error) {
	if n <= 0 || len(x) != n*e.perX || len(labels) != n {
		return nil, 0, nil, fmt.Errorf("gradgraph: LossGrad: %d values and %d labels for %d samples of %v", len(x), len(labels), n, e.sample)
	}
	chunk := n
	if e.g.Batch > 0 {
		chunk = e.g.Batch
	}
	grad = make([]float32, 0, len(x))
	shape := append([]int64{int64(chunk)}, e.sample...)
	for start := 0; start < n; start += chunk {
		k := min(chunk, n-start)
		xc := x[start*e.perX : (start+k)*e.perX]
		yc := make([]int64, chunk)
		for i, y := range labels[start : start+k] {
			yc[i] = int64(y)
		}
		if k < chunk {
			xc = append(make([]float32, 0, chunk*e.perX), xc...)
			xc = xc[:chunk*e.perX]
		}
		ins, err := e.feeds(ort.Tensor{Shape: shape, Float: xc}, yc)
		if err != nil {
			return nil, 0, nil, err
		}
		outs, err := e.sess.Run(ins)
		if err != nil {
			return nil, 0, nil, err
		}
		per := len(outs[0].Float) / chunk
		logits = append(logits, outs[0].Float[:k*per]...)
		g := outs[2].Float[:k*e.perX]
		if scale := float32(chunk) / float32(n); chunk != n {
			for i := range g {
				g[i] *= scale
			}
		}
		grad = append(grad, g...)
	}
	loss, err = meanCrossEntropy(logits, labels, n)
	return logits, loss, grad, err
}

// meanCrossEntropy is interp.SoftmaxCrossEntropy's loss on flat logits.
func meanCrossEntropy(logits []float32, labels []int, n int) (float64, error) {
	k := len(logits) / n
	var total float64
	for i, y := range labels {
		row := logits[i*k : (i+1)*k]
		if y < 0 || y >= k {
			return 0, fmt.Errorf("label %d of sample %d is outside the model's %d classes", y, i, k)
		}
		total += interp.LogSumExp(row) - float64(row[y])
	}
	return total / float64(n), nil
}
