#!/usr/bin/python3
"""Exports the deployed architectures that onnxguard's real-architecture
benchmark measures (runtime/interp's BenchmarkArch): torchvision models with
random weights from a fixed seed, BatchNorm statistics calibrated on random
images so that activations keep a sensible scale, 224×224 input with a
dynamic batch axis, opset 13 (ViT at 14, as its attention needs).

They are hundreds of MB, so they are written into a cache outside git:

    /usr/bin/python3 testdata/make_arch_models.py [DIR] [NAME ...]

DIR defaults to ${ONNXGUARD_CACHE:-~/.cache/onnxguard}/arch-models; a model
already there is left alone (but for a ViT-B/16 exported with torchvision's
all-zero head, by an earlier version of this script). Needs Debian's python3-torch and
python3-torchvision (no pretrained weights are downloaded)."""
import os
import sys

import torch
import torchvision

MODELS = {
    "resnet50": (torchvision.models.resnet50, 13),
    "mobilenet_v2": (torchvision.models.mobilenet_v2, 13),
    "mobilenet_v3_large": (torchvision.models.mobilenet_v3_large, 13),
    "efficientnet_b0": (torchvision.models.efficientnet_b0, 13),
    "convnext_tiny": (torchvision.models.convnext_tiny, 13),
    "vit_b_16": (torchvision.models.vit_b_16, 14),
}

# The layers torchvision initialises to zero, by model.
ZERO_HEADS = {"vit_b_16": lambda m: m.heads.head}


def zero_head(name, path):
    """Reports whether the model exported at path still has the all-zero
    head of an export made before ZERO_HEADS (so it is exported again)."""
    if name not in ZERO_HEADS:
        return False
    import onnx
    from onnx import numpy_helper
    for t in onnx.load(path).graph.initializer:
        if t.name.startswith("heads.head.weight"):
            return not numpy_helper.to_array(t).any()
    return False


def export(name, out):
    make, opset = MODELS[name]
    torch.manual_seed(1)
    model = make(weights=None)
    # Calibrate BatchNorm's running statistics on random images, so that
    # inference does not divide by the initial unit variances.
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.rand(8, 3, 224, 224))
    model.eval()
    # torchvision starts ViT's classification head at zero, which leaves
    # every logit 0 and every input gradient 0: nothing to attack and
    # nothing for a gradient comparison to see. Give it random weights.
    if name in ZERO_HEADS:
        with torch.no_grad():
            torch.nn.init.normal_(ZERO_HEADS[name](model).weight, std=0.02)
    x = torch.rand(2, 3, 224, 224)
    tmp = out + ".tmp"
    torch.onnx.export(model, x, tmp, opset_version=opset, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    os.replace(tmp, out)


def main():
    cache = os.environ.get("ONNXGUARD_CACHE", os.path.expanduser("~/.cache/onnxguard"))
    args = sys.argv[1:]
    out_dir = os.path.join(cache, "arch-models")
    if args and args[0] not in MODELS:
        out_dir, args = args[0], args[1:]
    os.makedirs(out_dir, exist_ok=True)
    for name in args or MODELS:
        out = os.path.join(out_dir, name + ".onnx")
        if os.path.exists(out) and not zero_head(name, out):
            print(f"{out}: present")
            continue
        export(name, out)
        print(f"{out}: {os.path.getsize(out) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
