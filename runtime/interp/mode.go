package interp

// Mode says how a pass computes. It travels with each call (RunMode,
// Want.Mode), never with the Program, so a Program one caller trains with
// runs another's inference unchanged. The zero value is inference:
// BatchNormalization on its running statistics, Dropout the identity.
type Mode struct {
	// Training runs BatchNormalization on the batch's statistics, updating
	// its running statistics with the node's momentum, and Dropout with
	// masks drawn from the Program's generator (see Reseed).
	Training bool
	// FreezeBatchNorm makes BatchNormalization use and keep its running
	// statistics in training mode, as in inference; Dropout stays active.
	// Fine-tuning with small or adversarial batches uses it so the
	// statistics the model was deployed with are not disturbed.
	FreezeBatchNorm bool
}
