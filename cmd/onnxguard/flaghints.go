package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// flagHints name the flags that fix an error the library reports in its
// own terms; each hint is added, as written, after the library's message.
var flagHints = []struct {
	err  error
	hint string
}{
	{interp.ErrTooLarge, "; --" + maxMemoryFlag.Name + " raises the budget"},
	{dataset.ErrNoLabels, ": pass --labels"},
	{dataset.ErrPixelRange, " (--input-scale, --mean and --std describe it)"},
	{fgsm.ErrNoSamples, " (check --limit and --shard)"},
	{fgsm.ErrResumeMismatch, ": resume with the same --batch, --limit and --shard"},
	{harden.ErrAWPOff, " (--awp)"},
	{ort.ErrLibraryMissing, " (or pass it with --ort-lib)"},
	{ort.ErrSecondLibrary, " (--ort-lib or ONNXRUNTIME_LIB)"},
	{ort.ErrNoCUDA, "; --ort-lib or ONNXRUNTIME_LIB names the library, --device cpu runs on the CPU"},
}

// hinted is an error to which the flags that fix it have been added.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + h.hint }
func (h *hinted) Unwrap() error { return h.err }

// withHint adds hint, which names flags, to err; a command uses it where
// it knows better than flagHints which flag applies.
func withHint(err error, hint string) error { return &hinted{err, hint} }

// withFlagHints adds to err the flags that fix it, from flagHints, unless
// a command has already said which (withHint).
func withFlagHints(err error) error {
	var h *hinted
	if err == nil || errors.As(err, &h) {
		return err
	}
	var le *dataset.LayoutError
	if errors.As(err, &le) {
		return withHint(err, fmt.Sprintf(" (--layout %s)", strings.ToLower(le.Layout.String())))
	}
	for _, f := range flagHints {
		if errors.Is(err, f.err) {
			return withHint(err, f.hint)
		}
	}
	return err
}
