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
// ONNXGUARD_REQUIRE_ORT is set (as CI does), when that is a failure; and
// so when the test binary was built without cgo.
func Need(t testing.TB) {
	t.Helper()
	if !cgo {
		if os.Getenv("ONNXGUARD_REQUIRE_ORT") != "" {
			t.Fatal("ONNX Runtime required, but this test binary was built without cgo (CGO_ENABLED=0), which runtime/ort needs")
		}
		t.Skip("built without cgo (CGO_ENABLED=0): ONNX Runtime cannot run")
	}
	if _, err := ort.FindLibrary(""); err != nil {
		if os.Getenv("ONNXGUARD_REQUIRE_ORT") != "" {
			t.Fatalf("ONNX Runtime required: %v", err)
		}
		t.Skipf("ONNX Runtime not installed, run scripts/setup-ort.sh: %v", err)
	}
}
