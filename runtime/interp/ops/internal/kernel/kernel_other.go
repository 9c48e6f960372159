//go:build !amd64 || purego

package kernel

// Available is false: this build has no assembly for the kernels (another
// architecture, or the purego tag), and they run as their Go twins.
const Available = false

// native is the implementation the exported kernels run on.
var native impl = goKernels{}
