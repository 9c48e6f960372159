package gradgraph

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// keptBytes sums, by the op type that produced it, the bytes of every
// forward value (and the input) that a backward node of gr reads: what the
// gradient graph keeps alive between its forward and its backward half at
// the given batch. Initializers that a backward node transposes count
// under "Transpose(W)": ONNX Runtime folds each into a second copy.
func keptBytes(t testing.TB, m *onnx.Model, gr *Graph, batch int) map[string]int64 {
	t.Helper()
	g, err := m.Graph()
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	shapes := p.Shapes()
	producer := map[string]string{gr.Input: "input"}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			producer[o] = n.OpType
		}
	}
	inits := map[string]bool{}
	for _, name := range g.InitializerNames() {
		inits[name] = true
	}
	size := func(name string) int64 {
		s, ok := shapes[name]
		if !ok {
			return 0
		}
		v := int64(4)
		for _, d := range s {
			if d < 0 {
				d = batch
			}
			v *= int64(d)
		}
		return v
	}
	nodes := gr.Model.Proto.GetGraph().GetNode()[len(g.Nodes):]
	kept := map[string]int64{}
	seen := map[string]bool{}
	for _, n := range nodes {
		for _, in := range n.GetInput() {
			if seen[in] {
				continue
			}
			if op, ok := producer[in]; ok {
				seen[in] = true
				kept[op] += size(in)
			} else if inits[in] && n.GetOpType() == "Transpose" {
				seen[in] = true
				kept["Transpose(W)"] += size(in)
			}
		}
	}
	return kept
}

func formatKept(kept map[string]int64) string {
	var total int64
	keys := make([]string, 0, len(kept))
	for k, v := range kept {
		keys = append(keys, k)
		total += v
	}
	slices.SortFunc(keys, func(a, b string) int { return int(kept[b] - kept[a]) })
	var sb strings.Builder
	fmt.Fprintf(&sb, "%.0f MiB:", float64(total)/(1<<20))
	for _, k := range keys {
		fmt.Fprintf(&sb, " %s %.0f", k, float64(kept[k])/(1<<20))
	}
	return sb.String()
}

// TestArchKeptBytes logs what each architecture's gradient graph keeps
// between its halves at batch 16, by forward op type.
//
//	ONNXGUARD_ARCH_TESTS=1 go test -run ArchKept -v ./gradgraph/
func TestArchKeptBytes(t *testing.T) {
	if os.Getenv("ONNXGUARD_ARCH_TESTS") == "" {
		t.Skip("the architectures take seconds and gigabytes each: set ONNXGUARD_ARCH_TESTS=1 to run them")
	}
	for _, a := range testfiles.Archs {
		t.Run(a.Name, func(t *testing.T) {
			m, err := onnx.Load(testfiles.ArchPath(t, a))
			if err != nil {
				t.Fatal(err)
			}
			gr, err := Build(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s at batch 16 keeps %s", a.Name, formatKept(keptBytes(t, m, gr, 16)))
		})
	}
}

// TestNoShapeReadsKeepForwardValues checks, on the ViT of testdata/
// (LayerNorm, GELU, attention's Slices and MatMuls), that no backward Shape
// or Size node reads a forward value: each would keep a whole activation
// alive for the sake of its dimensions. (Pooling's rules, which still
// read some, are not this one's.)
func TestNoShapeReadsKeepForwardValues(t *testing.T) {
	paths := []string{"../testdata/models/vit_tiny.onnx"}
	for _, path := range paths {
		m, err := onnx.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		gr, err := Build(m, nil)
		if errors.Is(err, ErrUnsupported) {
			continue // the models the graph cannot take are TestModelsMatchInterpreter's concern
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		g, err := m.Graph()
		if err != nil {
			t.Fatal(err)
		}
		forward := map[string]bool{}
		for _, n := range g.Nodes {
			for _, o := range n.Outputs {
				forward[o] = true
			}
		}
		nodes := gr.Model.Proto.GetGraph().GetNode()
		for _, n := range nodes[len(g.Nodes):] {
			if op := n.GetOpType(); (op == "Shape" || op == "Size") && forward[n.GetInput()[0]] {
				t.Errorf("%s: backward %s node %s reads forward value %q", filepath.Base(path), op, n.GetName(), n.GetInput()[0])
			}
		}
	}
}
