package runtime

// Engine runs a classifier on a batch of model inputs.
type Engine interface {
	// Run runs n samples, x holding n·C·H·W float32 values already
	// preprocessed, and returns the first output with its shape. dst is
	// reused when large enough.
	Run(dst, x []float32, n int) (out []float32, shape []int64, err error)
	Close() error
}
