package interp

import (
	"fmt"
	"strings"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// missingOps returns one error naming every operator of g that the
// interpreter does not implement at g's opset, each once with its node
// count, or nil when there is none; a user sees all that is missing at once.
func missingOps(g *onnx.Graph) error {
	count := map[string]int{}
	var order []string
	for _, n := range g.Nodes {
		if d := ops.Missing(n, g.Opset); d != "" {
			if count[d] == 0 {
				order = append(order, d)
			}
			count[d]++
		}
	}
	if len(order) == 0 {
		return nil
	}
	parts := make([]string, len(order))
	for i, d := range order {
		parts[i] = fmt.Sprintf("%s ×%d", d, count[d])
	}
	what := "operator is"
	if len(order) > 1 {
		what = fmt.Sprintf("%d operators are", len(order))
	}
	return fmt.Errorf("%w: %s not implemented by the interpreter: %s", ErrUnsupported, what, strings.Join(parts, ", "))
}
