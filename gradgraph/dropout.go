package gradgraph

// Dropout is the identity in inference, which is the mode gradient graphs
// run in; its mask output carries no gradient.
func init() { register("Dropout", passThrough) }
