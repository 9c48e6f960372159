// Command onnxguard audits and hardens image classifiers delivered as ONNX
// files. Each subcommand lives in its own file; the maths lives in the
// library packages.
package main

import "os"

func main() {
	os.Exit(runMain(os.Args, os.Stdout, os.Stderr))
}
