package gradgraph

// Flatten only rearranges: dx is dy reshaped to x's shape.
func init() { register("Flatten", reshapeBack) }
