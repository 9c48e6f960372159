package interp

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"google.golang.org/protobuf/proto"
)

// TestMissingOpsListedAtOnce checks that Compile names every operator the
// interpreter lacks, once each with its opset and node count, in one line.
func TestMissingOpsListedAtOnce(t *testing.T) {
	m, err := onnx.Load(filepath.Join(modelDir, "fmnist_cnn.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	nodes := m.Proto.Graph.Node
	if len(nodes) < 5 {
		t.Fatalf("fmnist_cnn has %d nodes; the test needs 5", len(nodes))
	}
	nodes[0].OpType = proto.String("DeformConv")
	nodes[1].OpType = proto.String("DeformConv")
	nodes[2].OpType = proto.String("LayerNormalization") // opset 13 < 17
	nodes[3].Domain = proto.String("com.microsoft")
	nodes[3].OpType = proto.String("FusedConv")
	nodes[4].OpType = proto.String("QLinearConvX")
	_, err = Compile(m, nil)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"4 operators are not implemented",
		"DeformConv (opset 13) ×2",
		"LayerNormalization (opset 13; implemented from opset 17) ×1",
		"com.microsoft:FusedConv (domain com.microsoft) ×1",
		"QLinearConvX (opset 13) ×1",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("the error takes several lines: %s", msg)
	}
}
