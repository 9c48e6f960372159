//go:build !amd64 || purego

package kernel

// Available is false: there is no kernel for this architecture (or the
// purego tag was given), and convolutions take the im2col path.
const Available = false

// Run must not be called: Available is false.
func Run(*Tile) { panic("kernel: Run called where Available is false") }
