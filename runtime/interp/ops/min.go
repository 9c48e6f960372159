package ops

// Min takes any number of inputs; opset 8 added broadcasting, a superset of
// opset 6's equal shapes, so one version serves both.
func init() { register("Min", 6, variadic(variadicMin)) }
