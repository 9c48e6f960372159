package gradgraph

// Squeeze only rearranges: dx is dy reshaped to x's shape.
func init() { register("Squeeze", reshapeBack) }
