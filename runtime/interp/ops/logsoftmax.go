package ops

// LogSoftmax shares Softmax's kernel and its change of semantics at opset 13.
func init() {
	register("LogSoftmax", 1, newSoftmax(true, false))
	register("LogSoftmax", 13, newSoftmax(true, true))
}
