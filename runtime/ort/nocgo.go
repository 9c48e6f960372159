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
