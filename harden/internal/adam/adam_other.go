//go:build !amd64 || purego

package adam

// Available reports whether Update runs on the assembly: never here.
const Available = false

var native impl = goImpl{}
