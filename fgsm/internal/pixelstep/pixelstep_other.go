//go:build !amd64 || purego

package pixelstep

// Available reports whether Step runs on the assembly: never here.
const Available = false

var native impl = goImpl{}
