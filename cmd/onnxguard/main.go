// Command onnxguard audits and hardens image classifiers delivered as ONNX
// files. Each subcommand lives in its own file and exports its *cli.Command;
// its Action turns the flags into the library's config once, checking each
// where it is read, makes one library call (fgsm.Audit, harden.Run,
// export.FromCheckpoint, ...) and prints the result as text or JSON. The
// maths lives in the library packages, whose errors speak in their own
// terms: flaghints.go adds the flags that fix them where runMain prints
// them.
package main

import "os"

func main() {
	os.Exit(runMain(os.Args, os.Stdout, os.Stderr))
}
