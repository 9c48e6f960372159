// Command onnxguard audits and hardens image classifiers delivered as ONNX
// files. Each subcommand lives in its own file; the maths lives in the
// library packages.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "onnxguard: %v\n", withBudgetHint(err))
		os.Exit(exitCode(err))
	}
}
