//go:build cgo

package gradgraph

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestBlockedMatchesInterpreter runs the blocked form of the testdata
// models with depthwise Convs, at the block size of this machine's ONNX
// Runtime kernels, against the interpreter: forward, input and weight
// gradients through the blocked Convs and the Scan of the weight
// gradient: depthwise at 7×7, 5×5 and 3×3, stride 1 and 2; dense over
// blocked and unblocked inputs.
func TestBlockedMatchesInterpreter(t *testing.T) {
	if _, err := ort.FindLibrary(""); err != nil {
		t.Skipf("ONNX Runtime not installed: %v", err)
	}
	block := cpuBlock()
	if block == 0 {
		t.Skip("this machine's ONNX Runtime has no NCHWc kernels")
	}
	for _, tc := range []struct {
		model           string
		sites, fedSites int // the blocked parts at block 16, constant and fed weights
	}{
		// Two 7×7 depthwise layers of 16 and 32 channels: forward, dx and
		// dW each; the forward of the 3-channel stem (unblocked input) and
		// of the 2×2 stride-2 downsampling.
		{"convnext_tiny", 8, 8},
		// Depthwise: 32 and 144 channels at stride 1, three each; 96 and
		// 144 at stride 2, the forward only. The stem's forward.
		{"mnv2_blocks", 9, 9},
		// Depthwise: 16 and 144 at stride 1, 96 at stride 2 (72 is not a
		// multiple of 16). The stem's forward. Fed, the first depthwise
		// Conv's Relu joins it in a chain (nchwcchain.go).
		{"mnv3_blocks", 8, 9},
		// Dense 3×3 at stride 1: 1 to 32 channels (unblocked input) and
		// 32 to 64, whose dx is a blocked Conv from 64 to 32 channels.
		// Fed, each forward Conv and its Relu a chain.
		{"fmnist_cnn", 3, 5},
		// The same, its weights DequantizeLinear's outputs: neither fed nor
		// folded, reordered on every run, and chained as fed ones are.
		{"fmnist_cnn_qdq", 5, 5},
	} {
		t.Run(tc.model, func(t *testing.T) {
			m, err := onnx.Load(filepath.Join("..", "testdata", "models", tc.model+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			// Constant weights, which ONNX Runtime reorders once, and fed
			// ones, which the graph reorders on every run.
			for _, fed := range []bool{false, true} {
				c, sites, err := compareForm(t, m, 3, true, 11, 0, 1, false, block, fed)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{false: tc.sites, true: tc.fedSites}[fed]; block == 16 && sites != want {
					t.Errorf("fed %v: %d parts took the blocked form, want %d", fed, sites, want)
				}
				if sites == 0 {
					t.Fatal("no part took the blocked form")
				}
				c.check(t, fmt.Sprintf("block %d, fed %v, %d parts", block, fed, sites))
			}
		})
	}
}

// cpuBlock is the NCHWc block of the CPU sessions the engine opens here,
// 0 where ONNX Runtime has no NCHWc kernels or is not installed.
func cpuBlock() int { return ort.NCHWcBlock(&ort.Options{Device: ort.DeviceCPU}) }

// TestBlockedOperatorsMatchInterpreter runs one-Conv models through the
// blocked form, on geometries the testdata models lack: asymmetric pads,
// auto_pad, dilations, a 1×5 kernel, strides, an unblocked input, and
// channel counts a block of 16 does not divide.
func TestBlockedOperatorsMatchInterpreter(t *testing.T) {
	testort.Need(t)
	block := cpuBlock()
	if block == 0 {
		t.Skip("this machine's ONNX Runtime has no NCHWc kernels")
	}
	i, is, s := aInt, aInts, aStr
	type attrs = []*onnx.AttributeProto
	for _, test := range []struct {
		name    string
		attrs   attrs
		ins     []in
		blocked bool // at block 16
	}{
		{"depthwise asymmetric pads", attrs{i("group", 16), is("pads", 1, 0, 2, 1)}, []in{x(2, 16, 7, 9), w(16, 1, 3, 3), w(16)}, true},
		{"depthwise same upper stride 2", attrs{i("group", 16), s("auto_pad", "SAME_UPPER"), is("strides", 2, 2)}, []in{x(2, 16, 8, 7), w(16, 1, 3, 3)}, true},
		{"depthwise dilated", attrs{i("group", 16), is("dilations", 2, 1), is("pads", 2, 1, 2, 1)}, []in{x(2, 16, 9, 8), w(16, 1, 3, 3)}, true},
		{"depthwise 1x5", attrs{i("group", 32), is("pads", 0, 2, 0, 2)}, []in{x(1, 32, 6, 10), w(32, 1, 1, 5)}, true},
		{"dense asymmetric dilated", attrs{is("pads", 1, 0, 1, 2), is("dilations", 1, 2)}, []in{x(2, 16, 6, 7), w(16, 16, 3, 3), w(16)}, true},
		{"dense same lower stride 2", attrs{s("auto_pad", "SAME_LOWER"), is("strides", 2, 2)}, []in{x(2, 32, 8, 8), w(16, 32, 3, 3)}, true},
		{"dense from 3 channels", attrs{is("strides", 2, 2), is("pads", 2, 2, 2, 2)}, []in{x(2, 3, 9, 9), w(16, 3, 5, 5)}, true},
		// The forward's 8 output channels are not a block, but its input
		// gradient, from 8 channels (an unblocked input) to 32 (two blocks,
		// which the flipped weights are reordered into), is.
		{"dense to 8 channels", attrs{is("pads", 1, 1, 1, 1)}, []in{x(2, 32, 5, 5), w(8, 32, 3, 3)}, true},
		{"dense 24 to 8 channels", attrs{is("pads", 1, 1, 1, 1)}, []in{x(2, 24, 5, 5), w(8, 24, 3, 3)}, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := oneNode(t, "Conv", 13, 1, test.attrs, test.ins...)
			// No weight gradients, constant weights, fed weights.
			for _, mode := range []struct{ weights, fed bool }{{false, false}, {true, false}, {true, true}} {
				c, sites, err := compareForm(t, m, 2, mode.weights, 11, -2, 2, false, block, mode.fed)
				if err != nil {
					t.Fatal(err)
				}
				// At a block of 8 every case has a blocked part.
				if want := test.blocked || block == 8; (block == 8 || block == 16) && (sites > 0) != want {
					t.Errorf("block %d, weights %v, fed %v: %d parts blocked, want blocked %v", block, mode.weights, mode.fed, sites, want)
				}
				c.check(t, test.name)
			}
		})
	}
}
