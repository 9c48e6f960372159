package interp

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// attrMutation is one integer attribute value of one node set to Value.
type attrMutation struct {
	Node  int    // index in the graph's node list
	Attr  string // attribute name
	Elem  int    // element of an INTS attribute, -1 for an INT
	Value int64
}

func (m attrMutation) String() string {
	if m.Elem < 0 {
		return fmt.Sprintf("node %d %s=%d", m.Node, m.Attr, m.Value)
	}
	return fmt.Sprintf("node %d %s[%d]=%d", m.Node, m.Attr, m.Elem, m.Value)
}

// mutationValues are what the issue asks every integer attribute to be set
// to: zero, negative, very negative, past int32, near int64's end.
var mutationValues = []int64{0, -1, -1000, 1 << 31, 1 << 62}

// attrMutations lists every mutation of every integer attribute of mp.
func attrMutations(mp *onnx.ModelProto) []attrMutation {
	var out []attrMutation
	for i, n := range mp.GetGraph().GetNode() {
		for _, a := range n.GetAttribute() {
			switch a.GetType() {
			case onnx.AttributeProto_INT:
				for _, v := range mutationValues {
					out = append(out, attrMutation{i, a.GetName(), -1, v})
				}
			case onnx.AttributeProto_INTS:
				for j := range a.GetInts() {
					for _, v := range mutationValues {
						out = append(out, attrMutation{i, a.GetName(), j, v})
					}
				}
			}
		}
	}
	return out
}

// apply returns a copy of mp with the mutation made.
func (m attrMutation) apply(mp *onnx.ModelProto) *onnx.ModelProto {
	c := proto.Clone(mp).(*onnx.ModelProto)
	for _, a := range c.GetGraph().GetNode()[m.Node].GetAttribute() {
		if a.GetName() != m.Attr {
			continue
		}
		if m.Elem < 0 {
			a.I = proto.Int64(m.Value)
		} else {
			a.Ints[m.Elem] = m.Value
		}
	}
	return c
}

// mutationBudget is the memory a mutated model may claim; what needs
// more is refused at compile time.
const mutationBudget = 256 << 20

// compileAndRun compiles the model and, when that succeeds, runs one
// forward pass on a batch of one.
func compileAndRun(m *onnx.Model) error {
	p, err := Compile(m, &Options{Seed: 1, MaxMemory: mutationBudget})
	if err != nil {
		return err
	}
	shape, _, err := p.inputShape(1)
	if err != nil {
		return err
	}
	x := ops.NewFloat(shape...)
	for i := range x.Data {
		x.Data[i] = 0.5
	}
	_, err = p.Run(x)
	return err
}

var (
	errPanicked = errors.New("panicked")
	errDeadline = errors.New("still running after the deadline")
)

// withDeadline runs f, failing when it panics or takes longer than limit.
func withDeadline(limit time.Duration, f func() error) (err error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("%w: %v", errPanicked, r)
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		return fmt.Errorf("%w (%v)", errDeadline, limit)
	}
}

// TestAttributeMutations sets each integer attribute of each node of real
// models to 0, -1, -1000, 2^31 and 2^62 in turn: compiling either fails
// with a one-line error or gives a program that runs a batch, never a
// panic, a hang or an allocation past the budget.
func TestAttributeMutations(t *testing.T) {
	for _, name := range []string{"fmnist_cnn", "resblock", "mobile", "dropout", "opset7_mlp"} {
		m, err := onnx.Load(filepath.Join(modelDir, name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		refused, ran := 0, 0
		for _, mu := range attrMutations(m.Proto) {
			mm := &onnx.Model{Proto: mu.apply(m.Proto), Dir: m.Dir}
			err := withDeadline(20*time.Second, func() error { return compileAndRun(mm) })
			switch {
			case err == nil:
				ran++
			case isCrash(err):
				t.Errorf("%s: %v: %v", name, mu, err)
			default:
				refused++
			}
		}
		t.Logf("%s: %d mutations refused, %d ran", name, refused, ran)
	}
}

// isCrash reports whether err is a panic, a deadline passed, or an error
// message of more than one line.
func isCrash(err error) bool {
	return errors.Is(err, errPanicked) || errors.Is(err, errDeadline) || strings.Contains(err.Error(), "\n")
}
