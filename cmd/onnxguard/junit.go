package main

import (
	"bytes"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/fgsm/report"
	"github.com/onnxguard/onnxguard/onnx"
)

// junitFlag writes the --fail-under gate as a JUnit XML test result; audit,
// report merge and report compare take it.
var junitFlag = &cli.StringFlag{Name: "junit", Usage: "write the --fail-under gate as a JUnit XML test result to `FILE`: a testcase per attack and ε, failed below the threshold, and one for the gate"}

// writeJUnit writes --junit, when given, for r and the gate.
func writeJUnit(c *cli.Context, r *fgsm.Report, gate report.Gate) error {
	path := c.String("junit")
	if path == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := report.JUnit(&buf, r, gate); err != nil {
		return fmt.Errorf("--junit %s: %w", path, err)
	}
	if err := onnx.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	return nil
}
