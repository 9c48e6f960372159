#!/usr/bin/python3
"""Exports the deployed architectures that onnxguard's real-architecture
benchmark measures (runtime/interp's BenchmarkArch): torchvision models with
random weights from a fixed seed, BatchNorm statistics calibrated on random
images so that activations keep a sensible scale, 224×224 input with a
dynamic batch axis, opset 13 (ViT at 14, as its attention needs).

They are hundreds of MB, so they are written into a cache outside git:

    /usr/bin/python3 testdata/make_arch_models.py [DIR] [NAME ...]

DIR defaults to ${ONNXGUARD_CACHE:-~/.cache/onnxguard}/arch-models; a model
already there is left alone. Needs Debian's python3-torch and
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
        if os.path.exists(out):
            print(f"{out}: present")
            continue
        export(name, out)
        print(f"{out}: {os.path.getsize(out) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
