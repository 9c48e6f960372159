//go:build cgo

package arch

import (
	"github.com/onnxguard/onnxguard/internal/testort"
	"math"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

func TestInterpMatchesORT(t *testing.T) {
	testort.Need(t)
	for _, test := range builds {
		o := settingsOf(t, test.opt)
		m, err := Build(test.arch, test.opt)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := m.Marshal()
		s, err := ort.OpenBytes(data, &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU})
		if err != nil {
			t.Fatalf("%s: ONNX Runtime: %v", test.arch, err)
		}
		x := randomBatch(5, o.Input, 2)
		got, shape, err := s.Run(nil, x.Data, 5)
		s.Close()
		if err != nil {
			t.Fatalf("%s: ONNX Runtime: %v", test.arch, err)
		}
		p, err := interp.Compile(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := p.Run(x)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shape, []int64{5, int64(o.Classes)}) {
			t.Fatalf("%s: ONNX Runtime's logits have shape %v", test.arch, shape)
		}
		// Relative to max(|logit|, 1e-2), as the interpreter's own model
		// tests state the 1e-4 bound: freshly drawn logits are of order one,
		// and float32 sums in another order differ by ~1e-7 absolute.
		worst := 0.0
		for i, w := range want[0].Data {
			worst = max(worst, math.Abs(float64(got[i]-w))/math.Max(math.Abs(float64(w)), 1e-2))
		}
		if worst > 1e-4 {
			t.Errorf("%s %v: ONNX Runtime and the interpreter differ by %.3g relative, want ≤ 1e-4", test.arch, o.Input, worst)
		} else {
			t.Logf("%s %v: max relative difference %.2g", test.arch, o.Input, worst)
		}
	}
}
