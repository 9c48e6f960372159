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
// The interpreter wins where its vector kernels run every convolution
// (the direct strategy: unit-stride windows on AVX-512F): an FGSM step's
// gradient pass ran at 31357 images/s on bench_mnist and 584 on
// bench_cifar, against 2212 and 352 for the gradient graph on ONNX
// Runtime's CPU provider. Where any convolution falls to im2col or another
// general path (stride 2, 7×7 stems, patch embeddings, every convolution
// on a CPU without the kernels) the graph wins: 2.83 against 1.52 images/s
// on ResNet-50, 7.13 against 4.67 on MobileNet-V2, 4.94 against 1.22 on
// EfficientNet-B0 (README, "Gradient graphs on ONNX Runtime"; batch 16 at
// 224×224, 128 for the small CNNs, the same shared 2-core machine, the
// engines alternated). A model without convolutions stays on the
// interpreter up to smallModel weights (an MLP is a few matrix products,
// which the interpreter hands to BLAS as ONNX Runtime does); a larger one
// goes to the graph, as the attention models whose batched MatMul,
// Softmax and LayerNorm take the interpreter's general paths (issue 19's
// ViT-B/16: 196 s against PyTorch's 28.9 s for the same FGSM).
//
// Open applies one more rule before Prefer's: with ONNX Runtime's device
// set to CUDA, Auto takes the graph, the one engine that can run there.
func Prefer(p *interp.Program) (Kind, string) {
	s := p.ConvStrategies()
	if len(s) == 0 {
		n := 0
		for _, prm := range p.Params() {
			n += prm.T.Len()
		}
		if n <= smallModel {
			return Interp, fmt.Sprintf("no convolutions and %d weights: the interpreter", n)
		}
		return ORT, fmt.Sprintf("no convolutions and %d weights, more than %d: ONNX Runtime's graph", n, smallModel)
	}
	off := 0
	for _, st := range s {
		if st != "direct" {
			off++
		}
	}
	if off == 0 {
		return Interp, fmt.Sprintf("all %d convolutions on the interpreter's vector kernels", len(s))
	}
	return ORT, fmt.Sprintf("%d of %d convolutions off the interpreter's vector kernels: ONNX Runtime's graph", off, len(s))
}
