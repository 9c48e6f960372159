package gradgraph

// Unsqueeze only rearranges: dx is dy reshaped to x's shape.
func init() { register("Unsqueeze", reshapeBack) }
