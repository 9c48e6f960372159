//go:build cgo

package gradgraph

import (
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/internal/ortbench"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestGradReusesReleasedRoom: a released result's outputs are where the
// next run with the same outputs and batch computes, and its values are
// the fresh run's; a result not released is never written by later runs;
// a run of another batch, or asking for other outputs, does not take
// room of the wrong shapes.
func TestGradReusesReleasedRoom(t *testing.T) {
	testort.Need(t)
	g, p := resblockGraph(t)
	e := openEngine(t, g)
	all := interp.Want{Input: true, Params: true}
	x3, y3 := ortbench.RandomBatch(p, 3)
	x2, y2 := ortbench.RandomBatch(p, 2)
	grad := func(x *interp.Tensor, y []int, want interp.Want) *interp.Result {
		r, err := e.Grad(x, y, want)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := grad(x3, y3, all)
	at := &first.Params[0].Data[0]
	first.Release()
	if first.Input != nil {
		t.Error("Release left the input gradient in the result")
	}
	// Another batch and other outputs: their own room, and right.
	sameAsFresh(t, "batch 2 after a released batch of 3", g, grad(x2, y2, all), x2, y2, all)
	params := interp.Want{Params: true}
	sameAsFresh(t, "weights alone after a released run with the input", g, grad(x3, y3, params), x3, y3, params)
	// The same outputs and batch: the released room, and right.
	second := grad(x3, y3, all)
	if &second.Params[0].Data[0] != at {
		t.Error("the run after a released result did not compute in its room")
	}
	sameAsFresh(t, "a run in released room", g, second, x3, y3, all)
	// Not released: no later run writes it.
	kept := slices.Clone(second.Params[0].Data)
	flipped := slices.Clone(y3)
	for i := range flipped {
		flipped[i] = (flipped[i] + 1) % 10
	}
	third := grad(x3, flipped, all)
	if &third.Params[0].Data[0] == at || !slices.Equal(second.Params[0].Data, kept) {
		t.Error("a later run wrote into a result that was not released")
	}
	sameAsFresh(t, "a run after one not released", g, third, x3, flipped, all)
	second.Release()
	second.Release() // a second Release gives nothing back twice
	third.Release()
	a, b := grad(x3, y3, all), grad(x3, flipped, all)
	if &a.Params[0].Data[0] == &b.Params[0].Data[0] {
		t.Error("two results at once share room")
	}
}

// resblockGraph builds resblock's gradient graph with weight gradients,
// and compiles it for the interpreter.
func resblockGraph(t *testing.T) (*Graph, *interp.Program) {
	t.Helper()
	m, err := onnx.Load("../testdata/models/resblock.onnx")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(m, &Options{Weights: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g, p
}

// openEngine opens g on the CPU, closed when the test ends.
func openEngine(t *testing.T, g *Graph) *Engine {
	t.Helper()
	e, err := NewEngine(g, &ort.Options{Device: ort.DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// sameAsFresh checks that r holds, to the bit, what a run of g in an
// engine of its own (room of its own) gives for x, y and want.
func sameAsFresh(t *testing.T, what string, g *Graph, r *interp.Result, x *interp.Tensor, y []int, want interp.Want) {
	t.Helper()
	f, err := openEngine(t, g).Grad(x, y, want)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Logits.Data, f.Logits.Data) || (r.Input == nil) != (f.Input == nil) ||
		r.Input != nil && !slices.Equal(r.Input.Data, f.Input.Data) {
		t.Errorf("%s: logits or input gradient differ from a fresh run's", what)
	}
	for i := range r.Params {
		if (r.Params[i] == nil) != (f.Params[i] == nil) || r.Params[i] != nil && !slices.Equal(r.Params[i].Data, f.Params[i].Data) {
			t.Errorf("%s: weight gradient %d differs from a fresh run's", what, i)
		}
	}
}
