package interp

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
	"google.golang.org/protobuf/proto"
)

// nodeTestDir is where Debian's libonnx-testdata installs ONNX's operator
// conformance tests.
const nodeTestDir = "/usr/include/onnx/backend/test/data/node"

// conformanceSkips lists the node tests of supported operators that are
// not run, one reason each.
var conformanceSkips = map[string]string{}

// TestNodeConformance runs every ONNX node test whose operators the
// interpreter implements at the test's opset and compares the outputs.
func TestNodeConformance(t *testing.T) {
	dirs, err := os.ReadDir(nodeTestDir)
	if err != nil {
		t.Skipf("ONNX node tests not found (%v); install Debian's libonnx-testdata", err)
	}
	ran, passed, unsupported := 0, 0, 0
	var failed []string
	for _, d := range dirs {
		name := d.Name()
		if reason, skip := conformanceSkips[name]; skip {
			t.Logf("skip %s: %s", name, reason)
			continue
		}
		m, err := onnx.Load(filepath.Join(nodeTestDir, name, "model.onnx"))
		if err != nil {
			continue
		}
		if !allSupported(m) {
			unsupported++
			continue
		}
		ran++
		if err := runNodeTest(m, filepath.Join(nodeTestDir, name, "test_data_set_0")); err != nil {
			failed = append(failed, name)
			t.Errorf("%s: %v", name, err)
			continue
		}
		passed++
	}
	sort.Strings(failed)
	fmt.Printf("conformance: %d ran, %d passed, %d failed, %d skipped by list, %d use unsupported operators\n",
		ran, passed, len(failed), len(conformanceSkips), unsupported)
	if ran == 0 {
		t.Fatal("no conformance test ran")
	}
}

func allSupported(m *onnx.Model) bool {
	opset := m.Opset("")
	for _, n := range m.Proto.GetGraph().GetNode() {
		if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" || !ops.Supported(n.GetOpType(), opset) {
			return false
		}
	}
	return true
}

func runNodeTest(m *onnx.Model, dataDir string) error {
	p, err := compile(m, nil)
	if err != nil {
		return err
	}
	feeds := map[int]*Tensor{}
	for i, in := range p.Graph.Inputs {
		t, err := readTensor(filepath.Join(dataDir, fmt.Sprintf("input_%d.pb", i)))
		if errors.Is(err, os.ErrNotExist) {
			continue // an omitted optional input
		}
		if err != nil {
			return err
		}
		feeds[p.slots[in.Name]] = t
	}
	vals, err := p.forwardFeeds(feeds, Mode{}, nil, true)
	if err != nil {
		return err
	}
	for i, out := range p.Graph.Outputs {
		want, err := readTensor(filepath.Join(dataDir, fmt.Sprintf("output_%d.pb", i)))
		if err != nil {
			return err
		}
		if err := compareTensor(vals[p.slots[out.Name]], want, 1e-3, 1e-5); err != nil {
			return fmt.Errorf("output %d (%s): %w", i, out.Name, err)
		}
	}
	return nil
}

func readTensor(path string) (*Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tp onnx.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t, err := onnx.DecodeTensor(&tp, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ops.FromONNX(t), nil
}

// compareTensor checks got against want elementwise: |g-w| <= atol + rtol·|w|
// for floats, equality for integers.
func compareTensor(got, want *Tensor, rtol, atol float64) error {
	if got == nil {
		return fmt.Errorf("not computed")
	}
	if !slices.Equal(got.Shape, want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	if want.IsInt() {
		if !got.IsInt() {
			return fmt.Errorf("got floats, want integers")
		}
		for i := range want.Ints {
			if got.Ints[i] != want.Ints[i] {
				return fmt.Errorf("element %d = %d, want %d", i, got.Ints[i], want.Ints[i])
			}
		}
		return nil
	}
	if got.IsInt() {
		return fmt.Errorf("got integers, want floats")
	}
	var msgs []string
	for i := range want.Data {
		g, w := float64(got.Data[i]), float64(want.Data[i])
		if math.IsNaN(w) && math.IsNaN(g) || math.IsInf(w, 0) && g == w {
			continue
		}
		if math.Abs(g-w) > atol+rtol*math.Abs(w) || math.IsNaN(g) {
			msgs = append(msgs, fmt.Sprintf("element %d = %g, want %g", i, g, w))
			if len(msgs) == 3 {
				break
			}
		}
	}
	if len(msgs) > 0 {
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}
