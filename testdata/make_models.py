"""Generate onnxguard's committed test assets, so Go tests never need Python.

Run from the repository root, with Debian's Python (it has torch 1.13,
torchvision 0.14 and onnx 1.12; the pyenv python3 on PATH has no torch):

    /usr/bin/python3 testdata/make_models.py

Then fill in ONNX Runtime's figures (see testdata/README.md):

    NODE_PATH=/tmp/ortnode/node_modules node testdata/ort_reference.mjs

Reads the real Fashion-MNIST IDX files from /usr/share/datasets/fashion-mnist
(override with FASHION_MNIST_DIR) and writes:

  testdata/models/fmnist_cnn.onnx          trained CNN, input [N,1,28,28] in [0,1]
  testdata/models/fmnist_cnn_b1_255.onnx   same weights, /255 inside, input [1,1,28,28] in 0..255
  testdata/models/fmnist_cnn.slice1000.logits.npy   PyTorch logits on the 1000-image slice
  testdata/models/{resblock,mobile,normalized,dropout,opset7_mlp}.onnx
      interpreter test models, each with NAME.input.npy (N=4, uniform [0,1))
      and NAME.output.npy (PyTorch's output on it)
  testdata/models/{bench_mnist,bench_cifar}.onnx    random-init benchmark models
  testdata/fashion/t10k-{images-1000-idx3,labels-1000-idx1}-ubyte.gz
      the first 1000 test images and labels, original IDX format
  testdata/reference.json                  PyTorch accuracies and FGSM figures
                                           (rewritten from scratch; ORT keys are
                                           added by ort_reference.mjs)

Everything is seeded and single-process; training takes about 1-2 minutes on
2 cores.
"""

import gzip
import io
import json
import os
import struct
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "models")
FASHION = os.path.join(HERE, "fashion")
SRC = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
SLICE = 1000

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------- data


def read_idx(path):
    """Read a gzip IDX file (images uint8 [n,28,28] or labels uint8 [n])."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)
    if magic == 0x801:
        return np.frombuffer(data, np.uint8, offset=8)
    raise ValueError(f"{path}: unknown IDX magic {magic:#x}")


def write_idx_gz(path, arr):
    """Write uint8 images [n,r,c] or labels [n] as gzip IDX, byte-for-byte
    the original layout; mtime=0 and no file name keep the .gz reproducible."""
    if arr.ndim == 3:
        header = struct.pack(">IIII", 0x803, *arr.shape)
    else:
        header = struct.pack(">II", 0x801, arr.shape[0])
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(header + arr.astype(np.uint8).tobytes())
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def to_input(images):
    # Division, not multiplication by 1/255, so the values match the
    # fmnist_cnn_b1_255 graph's own Div bit for bit.
    return torch.from_numpy(images.astype(np.float32)).unsqueeze(1) / 255.0


# ---------------------------------------------------------------- Fashion-MNIST CNN


class FashionCNN(nn.Module):
    """The seed paper's simple CNN: two conv+ReLU+maxpool stages, two linears."""

    def __init__(self, c1=32, c2=64):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(c2 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc2(F.relu(self.fc1(x)))


class Scale255(nn.Module):
    """Wraps a [0,1] model so the graph takes raw 0..255 pixels."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x / 255.0)


def train_fashion(xtr, ytr, epochs=2, batch=128):
    torch.manual_seed(0)
    model = FashionCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    n = xtr.shape[0]
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, t0 = 0.0, time.time()
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}: mean loss {total / n:.4f} ({time.time() - t0:.0f}s)")
    model.eval()
    return model


@torch.no_grad()
def predict(model, x, batch=1000):
    return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)])


def fgsm(model, x, y, eps, batch=256):
    """x' = clamp(x + eps*sign(d CE / dx), 0, 1). The loss is summed so each
    sample's gradient is its own loss's gradient, independent of the batch."""
    out = []
    for i in range(0, len(x), batch):
        xb = x[i : i + batch].clone().requires_grad_(True)
        loss = F.cross_entropy(model(xb), y[i : i + batch], reduction="sum")
        (g,) = torch.autograd.grad(loss, xb)
        out.append((xb + eps * g.sign()).clamp(0, 1).detach())
    return torch.cat(out)


# ---------------------------------------------------------------- interpreter test models


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.block1 = BasicBlock(8, 8, 1)
        self.block2 = BasicBlock(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(self.pool(x).flatten(1))


class Mobile(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.Hardswish())
        self.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Conv2d(4, 8, 1), nn.Hardsigmoid()
        )
        self.pw = nn.Sequential(nn.Conv2d(8, 16, 1), nn.BatchNorm2d(16), nn.LeakyReLU(0.1))
        self.elu = nn.ELU()
        # 20x20 -> 10x10; the last window hangs over the edge (ceil_mode) and
        # count_include_pad=False divides it by its valid count.
        self.pool = nn.AvgPool2d(3, stride=2, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(16 * 10 * 10, 10)

    def forward(self, x):
        x = self.dw(self.stem(x))
        x = x * self.se(x)
        x = self.pool(self.elu(self.pw(x)))
        x = torch.sigmoid(x) * torch.tanh(x)
        x = x.view(x.size(0), -1)  # Shape->Gather->Unsqueeze->Concat->Reshape
        return self.fc(x)


class Normalized(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)  # 16 -> 9
        self.dil = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)  # 10 -> 20
        self.proj = nn.Conv2d(8, 4, 1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.gelu(self.conv1(x))  # exact GELU: Erf
        x = self.pool(x)
        x = F.pad(x, (1, 0, 1, 0), mode="reflect")  # 9 -> 10
        x = self.dil(x)
        a = F.relu6(self.up(x))  # Clip(0, 6)
        b = F.softplus(self.proj(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)))
        c = F.interpolate(x, scale_factor=2, mode="nearest")
        x = torch.cat([a, b, c], dim=1)  # 4+4+8 channels
        x = x.mean(dim=(2, 3))  # ReduceMean
        return torch.softmax(self.fc(x), dim=1)  # Gemm, Softmax


class DropoutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.drop1 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(4 * 10 * 10, 16)
        self.drop2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.drop1(F.relu(self.conv(x))).flatten(1)
        return self.fc2(self.drop2(self.fc1(x)))


class LowOpsetMLP(nn.Module):
    """Squeeze/Transpose/Unsqueeze/Clip whose arguments are attributes, not
    inputs, at low opsets."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = x.squeeze(1).transpose(1, 2).unsqueeze(1)  # [N,1,8,8] -> [N,8,8] -> T -> [N,1,8,8]
        x = x.flatten(1)
        x = torch.clamp(self.fc1(x), -0.5, 0.5)
        return torch.softmax(self.fc2(F.relu(x)), dim=1)


class BenchMNIST(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3)
        self.conv2 = nn.Conv2d(16, 32, 3)
        self.fc = nn.Linear(32 * 5 * 5, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 28 -> 26 -> 13
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 13 -> 11 -> 5
        return self.fc(x.flatten(1))


class BenchCIFAR(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 32, 3, padding=1)
        self.c3 = nn.Conv2d(32, 64, 3, padding=1)
        self.c4 = nn.Conv2d(64, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 8 * 8, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c2(F.relu(self.c1(x)))), 2)
        x = F.max_pool2d(F.relu(self.c4(F.relu(self.c3(x)))), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


# ---------------------------------------------------------------- export helpers


def export(model, name, shape, opset=13, dynamic=True, **kw):
    path = os.path.join(MODELS, name + ".onnx")
    dummy = torch.zeros(shape)
    out_name = kw.pop("output_name", "output")
    axes = {"input": {0: "N"}, out_name: {0: "N"}} if dynamic else None
    torch.onnx.export(
        model,
        dummy,
        path,
        input_names=["input"],
        output_names=[out_name],
        dynamic_axes=axes,
        opset_version=opset,
        **kw,
    )
    return path


def check(path):
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})
    opset = {o.domain or "ai.onnx": o.version for o in m.opset_import}
    size = os.path.getsize(path)
    print(f"{os.path.basename(path)}: {size} bytes, opset {opset}, ops {ops}")
    return m, ops


def save_reference(model, name, shape, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand((4,) + tuple(shape[1:]), generator=g)
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(MODELS, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(MODELS, name + ".output.npy"), y.numpy().astype(np.float32))


def warm_batchnorm(model, shape, seed, steps=5):
    """Train-mode forward passes on shifted, scaled random data so every
    BatchNorm's running mean and variance are far from 0 and 1."""
    g = torch.Generator().manual_seed(seed)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.5
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.5, 0.5, generator=g)
    with torch.no_grad():
        for _ in range(steps):
            model(torch.rand((8,) + tuple(shape[1:]), generator=g) * 3 + 0.5)
    model.eval()


def make_dropout_eval(path):
    """torch exports Dropout nodes only in training mode; flip each node's
    training_mode input to false so the graph is an inference graph that still
    carries its Dropout nodes (ratio 0.5)."""
    m = onnx.load(path)
    producers = {o: n for n in m.graph.node for o in n.output}
    inits = {i.name: i for i in m.graph.initializer}
    flipped = 0
    for n in m.graph.node:
        if n.op_type != "Dropout" or len(n.input) < 3:
            continue
        src = n.input[2]
        false = numpy_helper.from_array(np.array(False), src)
        if src in inits:
            inits[src].CopyFrom(false)
        elif producers.get(src) is not None and producers[src].op_type == "Constant":
            p = producers[src]
            del p.attribute[:]
            p.attribute.append(onnx.helper.make_attribute("value", false))
        else:
            raise RuntimeError(f"Dropout {n.name}: training_mode {src} is not a constant")
        flipped += 1
    if flipped == 0:
        raise RuntimeError("no Dropout node with a training_mode input")
    onnx.save(m, path)


# ---------------------------------------------------------------- main


def main():
    os.makedirs(MODELS, exist_ok=True)
    os.makedirs(FASHION, exist_ok=True)
    notes = {}

    # Fashion-MNIST and the committed 1000-image slice.
    tr_img = read_idx(os.path.join(SRC, "train-images-idx3-ubyte.gz"))
    tr_lab = read_idx(os.path.join(SRC, "train-labels-idx1-ubyte.gz"))
    te_img = read_idx(os.path.join(SRC, "t10k-images-idx3-ubyte.gz"))
    te_lab = read_idx(os.path.join(SRC, "t10k-labels-idx1-ubyte.gz"))
    write_idx_gz(os.path.join(FASHION, "t10k-images-1000-idx3-ubyte.gz"), te_img[:SLICE])
    write_idx_gz(os.path.join(FASHION, "t10k-labels-1000-idx1-ubyte.gz"), te_lab[:SLICE])
    assert (read_idx(os.path.join(FASHION, "t10k-images-1000-idx3-ubyte.gz")) == te_img[:SLICE]).all()
    assert (read_idx(os.path.join(FASHION, "t10k-labels-1000-idx1-ubyte.gz")) == te_lab[:SLICE]).all()

    xtr, ytr = to_input(tr_img), torch.from_numpy(tr_lab.astype(np.int64))
    xte, yte = to_input(te_img), torch.from_numpy(te_lab.astype(np.int64))

    # (a) trained CNN, (b) the same weights behind a /255, batch fixed at 1.
    t0 = time.time()
    cnn = train_fashion(xtr, ytr)
    print(f"trained in {time.time() - t0:.0f}s")
    check(export(cnn, "fmnist_cnn", (1, 1, 28, 28), output_name="logits"))
    check(export(Scale255(cnn).eval(), "fmnist_cnn_b1_255", (1, 1, 28, 28), dynamic=False, output_name="logits"))

    logits = predict(cnn, xte)
    correct = (logits.argmax(1) == yte).numpy()
    np.save(os.path.join(MODELS, "fmnist_cnn.slice1000.logits.npy"), logits[:SLICE].numpy().astype(np.float32))
    raw = torch.from_numpy(te_img.astype(np.float32)).unsqueeze(1)
    wrapped = Scale255(cnn).eval()
    correct255 = (predict(wrapped, raw).argmax(1) == yte).numpy()

    adv = fgsm(cnn, xte, yte, 0.1)
    adv_correct = (predict(cnn, adv).argmax(1) == yte).numpy()
    print(f"fmnist_cnn: test acc {correct.mean():.4f}, FGSM eps=0.1 acc {adv_correct.mean():.4f}")

    ref = {
        "dataset": {
            "name": "Fashion-MNIST",
            "test_samples": int(len(yte)),
            "slice_samples": SLICE,
            "slice_files": [
                "testdata/fashion/t10k-images-1000-idx3-ubyte.gz",
                "testdata/fashion/t10k-labels-1000-idx1-ubyte.gz",
            ],
            "input_scaling": "float32(pixel) / 255 for fmnist_cnn; raw pixel values 0..255 for fmnist_cnn_b1_255",
        },
        "fmnist_cnn": {
            "architecture": "Conv(1->32,3x3,pad1)+ReLU, MaxPool2, Conv(32->64,3x3,pad1)+ReLU, MaxPool2, "
            "Flatten, Linear(3136->128)+ReLU, Linear(128->10)",
            "training": "Adam lr 1e-3, batch 128, 2 epochs, full 60k train set, torch.manual_seed(0)",
            "samples": int(len(yte)),
            "pytorch_test_correct": int(correct.sum()),
            "pytorch_test_accuracy": float(correct.mean()),
            "pytorch_slice1000_correct": int(correct[:SLICE].sum()),
            "pytorch_slice1000_accuracy": float(correct[:SLICE].mean()),
            "pytorch_fgsm_eps0.1_correct": int(adv_correct.sum()),
            "pytorch_fgsm_eps0.1_accuracy": float(adv_correct.mean()),
            "pytorch_fgsm_eps0.1_slice1000_correct": int(adv_correct[:SLICE].sum()),
            "pytorch_fgsm_eps0.1_slice1000_accuracy": float(adv_correct[:SLICE].mean()),
            "fgsm": "x' = clamp(x + 0.1*sign(grad_x CE(model(x), y)), 0, 1); eval mode; "
            "batch 256, loss summed over the batch (per-sample gradients); sign(0) = 0",
        },
        "fmnist_cnn_b1_255": {
            "samples": int(len(yte)),
            "pytorch_test_correct": int(correct255.sum()),
            "pytorch_test_accuracy": float(correct255.mean()),
            "pytorch_slice1000_correct": int(correct255[:SLICE].sum()),
            "pytorch_slice1000_accuracy": float(correct255[:SLICE].mean()),
        },
    }
    assert ref["fmnist_cnn_b1_255"]["pytorch_test_correct"] == ref["fmnist_cnn"]["pytorch_test_correct"]

    # (c) interpreter test models, with reference input and PyTorch output.
    torch.manual_seed(10)
    res = ResBlock()
    warm_batchnorm(res, (4, 3, 16, 16), seed=11)
    save_reference(res, "resblock", (4, 3, 16, 16), seed=12)
    # PRESERVE (model already in eval mode) skips torch's eval peephole, which
    # would fuse each BatchNormalization into the Conv before it.
    p = export(
        res, "resblock", (1, 3, 16, 16), do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE
    )
    _, ops = check(p)
    if "BatchNormalization" not in ops:
        notes["resblock"] = "torch fused BatchNormalization into Conv despite do_constant_folding=False"

    torch.manual_seed(20)
    mob = Mobile()
    warm_batchnorm(mob, (4, 3, 20, 20), seed=21)
    save_reference(mob, "mobile", (4, 3, 20, 20), seed=22)
    check(export(mob, "mobile", (1, 3, 20, 20)))

    torch.manual_seed(30)
    norm = Normalized().eval()
    save_reference(norm, "normalized", (4, 3, 16, 16), seed=32)
    check(export(norm, "normalized", (1, 3, 16, 16)))

    torch.manual_seed(40)
    drop = DropoutNet().eval()
    save_reference(drop, "dropout", (4, 1, 12, 12), seed=42)
    # Export in training mode (the only mode that emits Dropout nodes), then
    # set training_mode=false in the graph.
    p = export(drop, "dropout", (1, 1, 12, 12), do_constant_folding=False, training=torch.onnx.TrainingMode.TRAINING)
    make_dropout_eval(p)
    check(p)

    torch.manual_seed(50)
    mlp = LowOpsetMLP().eval()
    save_reference(mlp, "opset7_mlp", (4, 1, 8, 8), seed=52)
    check(export(mlp, "opset7_mlp", (1, 1, 8, 8), opset=7))

    # (d) benchmark models.
    torch.manual_seed(60)
    check(export(BenchMNIST().eval(), "bench_mnist", (1, 1, 28, 28)))
    torch.manual_seed(70)
    check(export(BenchCIFAR().eval(), "bench_cifar", (1, 3, 32, 32)))

    if notes:
        ref["export_notes"] = notes
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=2)
        f.write("\n")
    print(json.dumps(ref, indent=2))


if __name__ == "__main__":
    sys.exit(main())
