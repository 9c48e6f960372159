package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/onnx"
)

// The files WriteDir writes.
const (
	JSONFile       = "report.json"
	MarkdownFile   = "report.md"
	HTMLFile       = "report.html"
	RobustnessFile = "robustness.png"
	ExamplesFile   = "examples.png"
)

// errNoReport is returned for a nil report, which has nothing to render.
var errNoReport = errors.New("no report to render: the audit produced none")

// WriteDir writes report.json (indented JSON of r), report.md,
// report.html, robustness.png and examples.png into dir, creating dir if it is missing.
// Every file is written atomically: to a temporary file in dir, then
// renamed. examples.png is skipped, and that is not an error, when
// r.Examples is empty.
func WriteDir(dir string, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	err := writeFiles(dir, JSONFile, r,
		func(w io.Writer) error { return Markdown(w, r) },
		func(w io.Writer) error { return HTML(w, r) })
	if err != nil {
		return err
	}
	if err := Robustness(filepath.Join(dir, RobustnessFile), r); err != nil {
		return err
	}
	if len(r.Examples) == 0 {
		return nil
	}
	return Examples(filepath.Join(dir, ExamplesFile), r)
}

// writeFiles creates dir if it is missing and writes into it, each file
// atomically, v as indented JSON at jsonFile, then report.md and
// report.html rendered by markdown and html: the files every report
// folder holds.
func writeFiles(dir, jsonFile string, v any, markdown, html func(io.Writer) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the report directory %s: %w; choose a directory you can write to", dir, err)
	}
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Join(dir, jsonFile), err)
	}
	if err := onnx.WriteFileAtomic(filepath.Join(dir, jsonFile), append(js, '\n')); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, MarkdownFile), markdown); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, HTMLFile), html)
}

// writeAtomic renders a file in memory with write, then saves it at path
// with onnx.WriteFileAtomic, so a failed rendering leaves no partial file.
func writeAtomic(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	return onnx.WriteFileAtomic(path, buf.Bytes())
}
