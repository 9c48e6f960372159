package ops

// Mean takes any number of inputs; opset 8 added broadcasting, a superset of
// opset 6's equal shapes, so one version serves both.
func init() { register("Mean", 6, variadic(variadicMean)) }
