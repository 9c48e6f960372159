package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newApp() *cli.App {
	return &cli.App{
		Name:    "onnxguard",
		Usage:   "audit and harden ONNX image classifiers against adversarial examples",
		Version: version,
		Description: `onnxguard takes a CNN exported to ONNX by any framework, runs it on ONNX Runtime,
computes input gradients with its own differentiable interpreter, attacks it, and
fine-tunes it to be robust. Data is read as pixels in [0,1]; --input-scale, --mean
and --std describe the preprocessing the model expects.`,
		Commands: []*cli.Command{
			inspectCommand,
			evalCommand,
			predictCommand,
			attackCommand,
			auditCommand,
			reportCommand,
			hardenCommand,
			exportCommand,
			initCommand,
		},
		HideHelpCommand:      true,
		EnableBashCompletion: true,
	}
}

// exitError carries a specific exit status (a failed robustness gate, say).
type exitError struct {
	err  error
	code int
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}
