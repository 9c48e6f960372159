package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/onnxguard/onnxguard/onnx"
)

// errNoReport is returned for a nil report, which has nothing to render.
var errNoReport = errors.New("no report to render: the audit produced none")

// writeAtomic renders a file in memory with write, then saves it at path
// with onnx.WriteFileAtomic, so a failed rendering leaves no partial file.
func writeAtomic(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	return onnx.WriteFileAtomic(path, buf.Bytes())
}
