package interp

import (
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// TestConvStrategies checks what the planner reports for the models under
// testdata: every Conv of the benchmark CNNs on the direct kernels where
// they run, ConvNeXt's and ViT's strided ones on im2col, none for an MLP.
func TestConvStrategies(t *testing.T) {
	direct := ops.Kernels() == "avx512f"
	for _, test := range []struct {
		name      string
		convs     int
		allDirect bool // where the kernels run
	}{
		{name: "bench_cifar", convs: 4, allDirect: true},
		{name: "fmnist_cnn", convs: 2, allDirect: true},
		{name: "convnext_tiny", convs: 4}, // a 4×4 stride-4 stem and stride-2 downsampling
		{name: "vit_tiny", convs: 1},      // the 16×16 stride-16 patch embedding
		{name: "opset7_mlp", convs: 0},
	} {
		got := loadProgram(t, test.name).ConvStrategies()
		if test.convs >= 0 && len(got) > test.convs {
			t.Errorf("%s: %d convolutions reported (%v), want at most %d", test.name, len(got), got, test.convs)
		}
		if test.convs != 0 && len(got) == 0 {
			t.Errorf("%s: no convolutions reported", test.name)
		}
		for _, s := range got {
			if s == "" {
				t.Errorf("%s: a convolution without a plan after Compile: %v", test.name, got)
			}
		}
		all := len(got) > 0 && !slices.ContainsFunc(got, func(s string) bool { return s != "direct" })
		if want := direct && test.allDirect; all != want {
			t.Errorf("%s: strategies %v; all direct %v, want %v (kernels %s)", test.name, got, all, want, ops.Kernels())
		}
	}
}

// TestConvPlansStem checks that ConvPlans marks the convolutions that read
// the model's input, and only those: the first of each model here.
func TestConvPlansStem(t *testing.T) {
	for _, name := range []string{"bench_cifar", "fmnist_cnn", "convnext_tiny", "vit_tiny"} {
		plans := loadProgram(t, name).ConvPlans()
		if len(plans) == 0 {
			t.Fatalf("%s: no convolutions", name)
		}
		for i, c := range plans {
			if c.OnInput != (i == 0) {
				t.Errorf("%s: convolution %d of %d reads the input %v, want %v", name, i, len(plans), c.OnInput, i == 0)
			}
		}
	}
}
