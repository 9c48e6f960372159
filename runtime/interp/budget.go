package interp

import (
	"fmt"
	"strings"

	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// ErrTooLarge marks a model whose declared or inferred tensors exceed the
// memory budget (Options.MaxMemory); it is ops.ErrTooLarge.
var ErrTooLarge = ops.ErrTooLarge

// DefaultMaxMemory is the budget Options.MaxMemory 0 stands for: half
// the machine's physical memory (4 GiB where that is unknown).
func DefaultMaxMemory() int64 {
	if m := physicalMemory(); m > 0 {
		return m / 2
	}
	return 4 << 30
}

// budget is the memory budget in bytes that opt sets.
func (o *Options) budget() int64 {
	if o == nil || o.MaxMemory <= 0 {
		return DefaultMaxMemory()
	}
	return o.MaxMemory
}

// elemLimit is how many float32 elements one tensor may hold within a
// budget of bytes.
func elemLimit(bytes int64) int {
	return int(min(bytes/4, int64(^uint(0)>>1)))
}

// CheckInputSize refuses a declared input (batch axis as n) that alone
// holds more bytes than budget, before anything of that size is made.
func CheckInputSize(name string, shape []int, budget int64) error {
	if _, err := ops.SafeNumel(shape, elemLimit(budget)); err != nil {
		return fmt.Errorf("input %q: %w", name, err)
	}
	return nil
}

// newBytes is the storage of outs that is new: an output that shares
// storage with one of the node's inputs (a Reshape's output) or with an
// earlier output of the node counts no more.
func newBytes(outs, in []*Tensor) int64 {
	var n int64
	for i, v := range outs {
		switch {
		case v == nil:
		case v.Ints != nil:
			n += 8 * int64(len(v.Ints))
		case len(v.Data) > 0 && !sharesStorage(v, in) && !sharesStorage(v, outs[:i]):
			n += 4 * int64(len(v.Data))
		}
	}
	return n
}

// sharesStorage reports whether v's floats overlap those of a value in set.
func sharesStorage(v *Tensor, set []*Tensor) bool {
	for _, u := range set {
		if u != nil && overlaps(u.Data, v.Data) {
			return true
		}
	}
	return false
}

// joinedErrors is errors.Join on one line: every node's error, separated
// by "; ", so a command that prints it writes one line.
type joinedErrors []error

func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return joinedErrors(errs)
}

func (e joinedErrors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

func (e joinedErrors) Unwrap() []error { return e }
