package gradengine

import (
	"fmt"

	"github.com/onnxguard/onnxguard/runtime/interp"
)

// smallModel bounds, in weights, the convolution-free models that Prefer
// leaves on the interpreter.
const smallModel = 1 << 20

// Prefer is Auto's rule: it returns Interp or ORT for the compiled model p,
// and why, in one line. It reads only the model and the convolution
// strategies the interpreter planned for it on this CPU, so the choice,
// and with it every result, does not depend on the machine's load.
//
// The interpreter wins where its vector kernels (the direct, rows,
// phases, pixels and space-to-depth strategies, on AVX-512F) run every
// convolution but the stem, the one that reads the image (3 channels, often strided:
// im2col when these figures were taken, space to depth since). The FGSM
// step's gradient pass as a ratio to ONNX Runtime's forward (higher is
// faster), graph against interpreter (BenchmarkGradGraph in make bench,
// 2026-12-06 20:00 UTC, 2-core AVX-512 VM, batch 16, 4 for ConvNeXt-T and
// ViT-B/16; the README's table of targets has batch 16 throughout):
//   - the interpreter: MobileNet-V2 0.206 against 0.236, MobileNet-V3-Large
//     0.224 against 0.273, EfficientNet-B0 0.273 against 0.332 (every
//     convolution on the kernels but the stem); bench_mnist 0.100 against
//     0.536 and bench_cifar 0.273 against 0.422;
//   - the graph: ResNet-50 0.313 against 0.194 (six strided convolutions on
//     im2col besides the stem), ConvNeXt-T 0.349 against 0.104 (strided
//     downsampling), ViT-B/16 0.415 against 0.121 (no convolution but the
//     patch-embedding stem: attention's batched MatMul, Softmax and
//     LayerNorm take the interpreter's general paths),
//     and every convolutional model on a CPU without the kernels.
//
// A model without convolutions stays on the interpreter up to smallModel
// weights (an MLP is a few matrix products, which the interpreter hands to
// BLAS as ONNX Runtime does); a larger one goes to the graph.
//
// Training (Options.Train) follows the same rule, and the paper step's
// figures agree with it (BenchmarkAutoPaperStep and a graph-trained run of
// every model, 2026-12-06, batch 16 where not said): the graph 0.058-0.077
// against the interpreter's 0.047-0.057 on ResNet-50, 0.084 against 0.030
// (batch 4) on ConvNeXt-T, 0.116 against 0.035 (batch 4) on ViT-B/16; the
// interpreter 0.066 against the graph's 0.026 on MobileNet-V2, 0.073
// against 0.034 on MobileNet-V3-Large, 0.108 against 0.044 on
// EfficientNet-B0. With the graph's convolutions on ONNX Runtime's blocked
// kernels (gradgraph/nchwc.go; 2026-12-07, BenchmarkAutoPaperStep and the
// graph forced, one run each) the rule still holds: the interpreter's
// 0.113 against the graph's 0.059 on MobileNet-V2 and 0.166 against 0.093
// on EfficientNet-B0.
//
// Open applies one more rule before Prefer's: with ONNX Runtime's device
// set to CUDA, Auto takes the graph, the one engine that can run there.
func Prefer(p *interp.Program) (Kind, string) {
	plans := p.ConvPlans()
	if len(plans) == 0 {
		n := 0
		for _, prm := range p.Params() {
			n += prm.T.Len()
		}
		if n <= smallModel {
			return Interp, fmt.Sprintf("no convolutions and %d weights: the interpreter", n)
		}
		return ORT, fmt.Sprintf("no convolutions and %d weights, more than %d: ONNX Runtime's graph", n, smallModel)
	}
	body, off := 0, 0
	for _, c := range plans {
		if c.OnInput {
			continue
		}
		body++
		if !c.Kernels {
			off++
		}
	}
	switch {
	case body == 0:
		return ORT, fmt.Sprintf("no convolution but the %d on the input (a transformer's patch embedding): ONNX Runtime's graph", len(plans))
	case off > 0:
		return ORT, fmt.Sprintf("%d of %d convolutions after the stem off the interpreter's vector kernels: ONNX Runtime's graph", off, body)
	}
	return Interp, fmt.Sprintf("all %d convolutions after the stem on the interpreter's vector kernels", body)
}
