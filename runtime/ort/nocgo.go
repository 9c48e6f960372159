//go:build !cgo

package ort

// Session is a model loaded into ONNX Runtime. Built without cgo, none can
// be opened, so its methods are never reached through Open.
type Session struct{}

// Open returns ErrNoCgo: this build cannot load ONNX Runtime.
func Open(modelPath string, opt *Options) (*Session, error) { return nil, ErrNoCgo }

// OpenBytes returns ErrNoCgo: this build cannot load ONNX Runtime.
func OpenBytes(onnx []byte, opt *Options) (*Session, error) { return nil, ErrNoCgo }

// Inputs returns nil.
func (s *Session) Inputs() []TensorInfo { return nil }

// Outputs returns nil.
func (s *Session) Outputs() []TensorInfo { return nil }

// Device returns "".
func (s *Session) Device() string { return "" }

// Close does nothing.
func (s *Session) Close() error { return nil }

// Run returns ErrNoCgo.
func (s *Session) Run(dst, x []float32, n int) (out []float32, outShape []int64, err error) {
	return nil, nil, ErrNoCgo
}

// Graph is a multi-input, multi-output model in ONNX Runtime. Built without
// cgo, none can be opened.
type Graph struct{}

// Tensor is an input or output of Graph.Run.
type Tensor struct {
	Shape []int64
	Float []float32
	Int   []int64
}

// OpenGraph returns ErrNoCgo: this build cannot load ONNX Runtime.
func OpenGraph(onnx []byte, inputs, outputs []string, opt *Options) (*Graph, error) {
	return nil, ErrNoCgo
}

// OpenGraphForms returns ErrNoCgo: this build cannot load ONNX Runtime.
func OpenGraphForms(form func(block int) ([]byte, error), inputs, outputs []string, opt *Options) (*Graph, error) {
	return nil, ErrNoCgo
}

// NCHWcBlock returns 0: this build has no ONNX Runtime.
func NCHWcBlock(opt *Options) int { return 0 }

// Run returns ErrNoCgo.
func (g *Graph) Run(ins []Tensor) ([]Tensor, error) { return nil, ErrNoCgo }

// RunInto returns ErrNoCgo.
func (g *Graph) RunInto(ins, into []Tensor) ([]Tensor, error) { return nil, ErrNoCgo }

// Device returns "".
func (g *Graph) Device() string { return "" }

// Close does nothing.
func (g *Graph) Close() error { return nil }
