"""Generate the opset-17 transformer test models: small ViT and ConvNeXt.

Run from the repository root with Debian's Python (torch 1.13, torchvision
0.14, onnx 1.12):

    /usr/bin/python3 testdata/make_transformers.py

Writes, for NAME in vit_tiny and convnext_tiny:

  testdata/models/NAME.onnx         torchvision's architecture, random weights
                                    (seeded), opset 17, dynamic batch axis "N"
  testdata/models/NAME.input.npy    4 inputs, seeded uniform [0,1), float32
  testdata/models/NAME.output.npy   PyTorch's logits on them, float32 [4,10]

torch 1.13 exports layer_norm at opset 17 as one LayerNormalization node
(torch/onnx/symbolic_opset17.py), so no post-processing is needed; the
script checks that the nodes are there. Both are tiny variants so the files
stay small: ViT with 16x16 images, 4x4 patches, 2 layers, hidden size 32,
2 heads, its head and class token redrawn (torchvision zeroes them, which
would make every logit 0); ConvNeXt with two stages of one block each (16 and 32 channels)
on 32x32 images. The layer-scale parameters of ConvNeXt (1e-6 at
initialisation) are redrawn near 1 so the blocks' branches matter.
"""

import os

import numpy as np
import onnx
import torch
from torchvision.models import VisionTransformer
from torchvision.models.convnext import CNBlockConfig, ConvNeXt

OUT = "testdata/models"
OPSET = 17


def vit():
    m = VisionTransformer(image_size=16, patch_size=4, num_layers=2, num_heads=2,
                          hidden_dim=32, mlp_dim=64, num_classes=10)
    with torch.no_grad():
        # torchvision zeroes the head (and the class token): logits would be 0.
        torch.nn.init.normal_(m.heads.head.weight, std=0.5)
        m.heads.head.bias.uniform_(-0.2, 0.2)
        m.class_token.normal_(std=0.5)
    return m, (3, 16, 16)


def convnext():
    m = ConvNeXt([CNBlockConfig(16, 32, 1), CNBlockConfig(32, None, 1)], num_classes=10)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("layer_scale"):
                p.uniform_(0.5, 1.5)
            elif "bias" in name:
                p.uniform_(-0.2, 0.2)
    return m, (3, 32, 32)


def export(name, make, seed):
    torch.manual_seed(seed)
    model, shape = make()
    model.eval()
    x = torch.rand(4, *shape, generator=torch.Generator().manual_seed(seed + 1))
    ops = write_reference(model, x, name, OPSET)
    assert "LayerNormalization" in ops, f"{name}: no LayerNormalization node in {ops}"


def write_reference(model, x, name, opset):
    """Export model (in eval mode) at opset with a dynamic batch axis "N" to
    testdata/models/NAME.onnx, check it, and write x and PyTorch's output on
    it beside it as NAME.input.npy and NAME.output.npy. Returns the graph's
    operator types, sorted. make_inverted.py uses it too."""
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    np.save(os.path.join(OUT, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".output.npy"), y.numpy().astype(np.float32))
    print(f"{path}: {os.path.getsize(path)} bytes, opset {opset}, ops {', '.join(ops)}")
    return ops


if __name__ == "__main__":
    torch.set_num_threads(1)
    export("vit_tiny", vit, 16)
    export("convnext_tiny", convnext, 17)
