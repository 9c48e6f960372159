package testfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Arch is one deployed architecture of the real-architecture benchmarks,
// exported by testdata/make_arch_models.py into a cache outside git (the
// files are 14 to 330 MB).
type Arch struct {
	Name string
	// Batch is the benchmark's batch: 16, as the speed issue measures, or
	// 4 where a gradient pass at 16 does not fit this project's 24 GiB
	// machines today (ConvNeXt-T, ViT-B/16).
	Batch int
}

// Archs are the architectures BenchmarkArch and BenchmarkArchPaperStep
// measure.
var Archs = []Arch{
	{"resnet50", 16}, {"mobilenet_v2", 16}, {"mobilenet_v3_large", 16},
	{"efficientnet_b0", 16}, {"convnext_tiny", 4}, {"vit_b_16", 4},
}

// ArchPath returns the exported model of a, skipping b with the command
// that exports it when it is absent.
func ArchPath(b testing.TB, a Arch) string {
	b.Helper()
	cache := os.Getenv("ONNXGUARD_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "onnxguard")
	}
	path := filepath.Join(cache, "arch-models", a.Name+".onnx")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("%s is not exported: run /usr/bin/python3 testdata/make_arch_models.py (needs python3-torch, python3-torchvision)", path)
	}
	return path
}
