package main

import (
	"os"
	"strings"

	"github.com/onnxguard/onnxguard/runtime/interp"
)

// kernelsEnv names the environment variable that picks the interpreter's
// kernel paths (interp.Options.Kernels): "off" takes the portable paths,
// "on" the vector kernels' (their Go twins where the CPU has no
// assembly); unset, or any other value, the default. It lets the two be
// compared on one machine.
const kernelsEnv = "ONNXGUARD_KERNELS"

// interpOptions returns o with Kernels set from the environment.
func interpOptions(o interp.Options) *interp.Options {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(kernelsEnv))) {
	case "off":
		o.Kernels = interp.KernelsOff
	case "on":
		o.Kernels = interp.KernelsOn
	}
	return &o
}
