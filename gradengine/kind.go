package gradengine

import "fmt"

// Kind is which engine computes gradients.
type Kind string

const (
	Auto   Kind = "auto"   // Prefer's choice, the interpreter where ONNX Runtime's graph is not available
	Interp Kind = "interp" // the interpreter for every pass
	ORT    Kind = "ort"    // ONNX Runtime's gradient graph where it computes the pass; an error where it cannot open
)

// ParseKind reads a Kind from its name; "" is Auto.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case "":
		return Auto, nil
	case Auto, Interp, ORT:
		return k, nil
	}
	return "", fmt.Errorf("gradient engine %q: choose %s, %s or %s", s, Auto, Interp, ORT)
}
