"""Generate the inverted-residual test models: small MobileNet-V2 and -V3.

Run from the repository root with Debian's Python (torch 1.13, torchvision
0.14, onnx 1.12):

    /usr/bin/python3 testdata/make_inverted.py

Writes, for NAME in mnv2_blocks and mnv3_blocks:

  testdata/models/NAME.onnx         torchvision's architecture with a few
                                    blocks, random weights (seeded, batch
                                    norm statistics warmed on random images
                                    so the activations are not all cut),
                                    opset 13, dynamic batch axis "N"
  testdata/models/NAME.input.npy    2 inputs, seeded uniform [0,1), float32
  testdata/models/NAME.output.npy   PyTorch's logits on them, float32 [2,10]

The classifiers' weights are redrawn (std 0.5, biases in [-0.2, 0.2)):
torchvision's std 0.01 and zero biases give logits of 1e-5 that hardly move
with the input.

Each has three 1x1 expand layers whose output a depthwise layer alone
reads, which the interpreter joins (runtime/interp/ops/convchain.go) and,
on the 16x16 and 8x8 planes, runs a block of channels at a time:
MobileNet-V2's with ReLU6 (Clip), MobileNet-V3's with ReLU and Hardswish
and a squeeze-and-excitation block. The images are small (32x32) so that
few activations lie within float rounding of a Relu's or Clip's kink: on
96x96 images the gradient graph's and the interpreter's input gradients
parted at one of three seeds (gradgraph's TestModelsMatchInterpreter), a
rounding flipping a branch, as it flips between two runs of the
interpreter itself on inputs one part in 1e6 apart.
"""

from functools import partial

import torch
from torchvision.models import MobileNetV2
from torchvision.ops.misc import Conv2dNormActivation
from torchvision.models.mobilenetv3 import InvertedResidualConfig, MobileNetV3

from make_transformers import write_reference  # beside this script

OPSET = 13


def mnv2():
    # t, c, n, s: an expand layer of 96 channels at 16x16, then two of 144 at 8x8.
    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2]]
    m = MobileNetV2(num_classes=10, inverted_residual_setting=setting)
    # torchvision's last layer widens to 1280 channels: 64 keep the file small.
    m.features[-1] = Conv2dNormActivation(32, 64, kernel_size=1, activation_layer=torch.nn.ReLU6)
    m.classifier[-1] = torch.nn.Linear(64, 10)
    return m, (3, 32, 32)


def mnv3():
    cfg = partial(InvertedResidualConfig, width_mult=1.0)
    setting = [
        cfg(16, 3, 16, 16, False, "RE", 1, 1),
        cfg(16, 3, 96, 24, False, "HS", 2, 1),
        cfg(24, 5, 144, 24, True, "HS", 1, 1),
        cfg(24, 3, 72, 32, False, "RE", 2, 1),
    ]
    m = MobileNetV3(setting, last_channel=64, num_classes=10)
    return m, (3, 32, 32)


def warm(model, shape, seed):
    # Batch norm statistics of random images, so that each layer's
    # activations straddle its Relu, Clip or Hardswish.
    model.train()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(4):
            model(torch.rand(8, *shape, generator=g))
    model.eval()


def export(name, make, seed):
    torch.manual_seed(seed)
    model, shape = make()
    with torch.no_grad():
        # torchvision draws the classifier's weights with std 0.01 and zero
        # biases: the logits would hardly move with the input.
        for layer in model.classifier:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.normal_(layer.weight, std=0.5)
                layer.bias.uniform_(-0.2, 0.2)
    warm(model, shape, seed + 1)
    x = torch.rand(2, *shape, generator=torch.Generator().manual_seed(seed + 2))
    write_reference(model, x, name, OPSET)


if __name__ == "__main__":
    torch.set_num_threads(1)
    export("mnv2_blocks", mnv2, 18)
    export("mnv3_blocks", mnv3, 19)
