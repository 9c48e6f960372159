// Package testort provides tests outside runtime/ort with the check that
// the ONNX Runtime library is installed. It is imported only by _test files,
// and is apart from internal/testfiles, which runtime/ort's own tests use.
package testort

import (
	"os"
	"testing"

	"github.com/onnxguard/onnxguard/runtime/ort"
)

// Need skips a test when the ONNX Runtime library is not installed, unless
// ONNXGUARD_REQUIRE_ORT is set (as CI does), when that is a failure.
func Need(t testing.TB) {
	t.Helper()
	if _, err := ort.FindLibrary(""); err != nil {
		if os.Getenv("ONNXGUARD_REQUIRE_ORT") != "" {
			t.Fatalf("ONNX Runtime required: %v", err)
		}
		t.Skipf("ONNX Runtime not installed, run scripts/setup-ort.sh: %v", err)
	}
}
