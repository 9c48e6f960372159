package gradgraph

// A Cast to float32 of a float32 value (markNeeds only lets gradients
// through casts to float) passes its gradient unchanged.
func init() { register("Cast", passThrough) }
