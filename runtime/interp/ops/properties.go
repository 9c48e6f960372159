package ops

// Optional properties an Op declares by implementing an interface; the
// executor asks for them instead of naming operators.

// Foldable is implemented by ops whose outputs read no input and are the
// same every run (Constant): the executor computes them once, at compile
// time, and holds them as it holds initializers (not trained), never
// handing their storage back for reuse as it does a computed value's.
type Foldable interface {
	Op
	Foldable()
}

// Normalizer is implemented by ops that turn logits into probabilities or
// their logarithms (Softmax, LogSoftmax): where a graph's first output is
// one's, the loss reads the logits at its input.
type Normalizer interface {
	Op
	Normalizer()
}

// ModeDependent is implemented by ops that compute differently in training
// mode (Dropout, BatchNormalization). ModeDependent reports whether this
// one does, given whether BatchNormalization is held to its running
// statistics in training mode.
type ModeDependent interface {
	Op
	ModeDependent(freezeBatchNorm bool) bool
}
