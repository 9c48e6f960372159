//go:build cgo

package gradgraph

import (
	"fmt"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/internal/ortbench"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestGradReusesReleasedRoom: a released result's outputs are where the
// next run with the same outputs and batch computes, and that run's
// values are its own (other labels than the released run's), bit for
// bit those of an engine of its own; a result not released is never
// written by later runs; a run of another batch, or asking for other
// outputs, does not take room of the wrong shapes; and Release leaves
// nothing in the result to read by mistake.
func TestGradReusesReleasedRoom(t *testing.T) {
	c := newRoomCase(t)
	g, grad, all, x3, y3, x2, y2 := c.g, c.grad, c.all, c.x3, c.y3, c.x2, c.y2
	flipped := slices.Clone(y3)
	for i := range flipped {
		flipped[i] = (flipped[i] + 1) % 10
	}
	first := grad(x3, y3, all)
	at := &first.Params[0].Data[0]
	first.Release()
	if first.Input != nil || first.Params != nil || first.Logits != nil {
		t.Error("Release left tensors in the result")
	}
	// Another batch and other outputs: their own room, and right.
	sameAsFresh(t, "batch 2 after a released batch of 3", g, grad(x2, y2, all), x2, y2, all)
	params := interp.Want{Params: true}
	sameAsFresh(t, "weights alone after a released run with the input", g, grad(x3, y3, params), x3, y3, params)
	// The same outputs and batch: the released room, other values.
	second := grad(x3, flipped, all)
	if &second.Params[0].Data[0] != at {
		t.Error("the run after a released result did not compute in its room")
	}
	sameAsFresh(t, "a run in released room", g, second, x3, flipped, all)
	// Not released: no later run writes it.
	outs := append([]*interp.Tensor{second.Logits, second.Input}, second.Params...)
	kept := make([][]float32, len(outs))
	for i, o := range outs {
		if o != nil {
			kept[i] = slices.Clone(o.Data)
		}
	}
	third := grad(x3, y3, all)
	if &third.Params[0].Data[0] == at {
		t.Error("a later run computed in a result that was not released")
	}
	for i, o := range outs {
		if o != nil && !slices.Equal(o.Data, kept[i]) {
			t.Errorf("output %d of a result not released changed in a later run", i)
		}
	}
	sameAsFresh(t, "a run after one not released", g, third, x3, y3, all)
	second.Release()
	second.Release() // a second Release gives nothing back twice
	third.Release()
	a, b := grad(x3, y3, all), grad(x3, flipped, all)
	if &a.Params[0].Data[0] == &b.Params[0].Data[0] {
		t.Error("two results at once share room")
	}
	sameAsFresh(t, "the first of two runs in released room", g, a, x3, y3, all)
	sameAsFresh(t, "the second of two runs in released room", g, b, x3, flipped, all)
}

// TestRoomLetsGo: the room keeps no more than roomSets sets of a key, lets
// go of a set no run took again for roomRuns runs (a last partial
// batch's), and keeps nothing once the engine is closed.
func TestRoomLetsGo(t *testing.T) {
	c := newRoomCase(t)
	g, e := c.g, c.e
	batch2 := roomKey{fmt.Sprint(append([]string{g.Logits, g.Loss, g.InputGrad}, g.ParamGrads...)), 2}
	var held []*interp.Result
	for range roomSets + 2 {
		held = append(held, c.grad(c.x2, c.y2, c.all))
	}
	for _, r := range held {
		r.Release()
	}
	if n := len(e.room.free[batch2]); n != roomSets {
		t.Fatalf("%d results of batch 2 released: the room keeps %d sets of them, want %d", len(held), n, roomSets)
	}
	for range roomRuns + 1 {
		c.grad(c.x3, c.y3, c.all).Release()
	}
	if n := len(e.room.free[batch2]); n != 0 {
		t.Errorf("after %d runs of batch 3 the room still keeps %d sets of batch 2", roomRuns+1, n)
	}
	r := c.grad(c.x3, c.y3, c.all)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	r.Release()
	if len(e.room.free) != 0 {
		t.Error("the room of a closed engine kept a released result's outputs")
	}
}

// roomCase is the room tests' engine: resblock's gradient graph with
// weight gradients, and batches of 3 and 2 with their labels.
type roomCase struct {
	t      *testing.T
	g      *Graph
	e      *Engine
	all    interp.Want // the input's and the weights' gradients
	x3, x2 *interp.Tensor
	y3, y2 []int
}

func newRoomCase(t *testing.T) *roomCase {
	testort.Need(t)
	g, p := resblockGraph(t)
	c := &roomCase{t: t, g: g, e: openEngine(t, g), all: interp.Want{Input: true, Params: true}}
	c.x3, c.y3 = ortbench.RandomBatch(p, 3)
	c.x2, c.y2 = ortbench.RandomBatch(p, 2)
	return c
}

// grad runs the engine's Grad, failing the test on an error.
func (c *roomCase) grad(x *interp.Tensor, y []int, want interp.Want) *interp.Result {
	c.t.Helper()
	r, err := c.e.Grad(x, y, want)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
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
