package ops

import "testing"

// TestProperties checks the properties the executor asks the ops for:
// which are folded at compile time, which normalise logits, and which
// depend on the mode, BatchNormalization only while not frozen.
func TestProperties(t *testing.T) {
	for _, test := range []struct {
		op                            string
		opset                         int64
		nIn                           int
		a                             attrs
		foldable, normalizer          bool
		modeDependent, modeWhenFrozen bool
	}{
		{op: "Constant", opset: 13, a: attrs{"value_float": 1.5}, foldable: true},
		{op: "Softmax", opset: 13, nIn: 1, normalizer: true},
		{op: "LogSoftmax", opset: 11, nIn: 1, normalizer: true},
		{op: "Dropout", opset: 13, nIn: 1, modeDependent: true, modeWhenFrozen: true},
		{op: "BatchNormalization", opset: 15, nIn: 5, modeDependent: true},
		{op: "Relu", opset: 14, nIn: 1},
		{op: "Conv", opset: 13, nIn: 2},
	} {
		op := newOp(t, test.op, test.a, test.opset, test.nIn, 1)
		_, foldable := op.(Foldable)
		_, normalizer := op.(Normalizer)
		var mode, frozen bool
		if m, ok := op.(ModeDependent); ok {
			mode, frozen = m.ModeDependent(false), m.ModeDependent(true)
		}
		if foldable != test.foldable || normalizer != test.normalizer || mode != test.modeDependent || frozen != test.modeWhenFrozen {
			t.Errorf("%s: foldable %v, normalizer %v, mode-dependent %v (frozen BatchNorm %v); want %v, %v, %v, %v",
				test.op, foldable, normalizer, mode, frozen, test.foldable, test.normalizer, test.modeDependent, test.modeWhenFrozen)
		}
	}
}
