"""Generate a channels-last (NHWC) Fashion-MNIST classifier as tf2onnx writes one.

Run from the repository root with Debian's Python (torch 1.13, onnx 1.12):

    /usr/bin/python3 testdata/make_tf2onnx_style.py

Trains a small CNN with torch on the 2000 committed training images
(testdata/fashion/train-images-2000-idx3-ubyte.gz, seeded, ~20 s on 2 cores)
and writes it, built with onnx.helper at opset 13, in the shape tf2onnx gives
a Keras model (Conv2D/ZeroPadding2D/MaxPooling2D/Flatten/Dense(softmax)):

  testdata/models/fmnist_nhwc.onnx
      input_1 [unk__0,28,28,1] (NHWC pixels in [0,1])
      → Transpose(perm 0,3,1,2)                     into NCHW, as tf2onnx does
      → Conv 1→8 4×4 auto_pad SAME_UPPER → Relu     (TF "same": pads 1 before, 2 after)
      → Pad [0,0,0,0, 0,0,1,1] (explicit, mode constant) → Conv 8→16 3×3 stride 2
        auto_pad VALID → Relu                      (ZeroPadding2D(((0,1),(0,1))))
      → MaxPool 2×2 stride 2
      → Conv 16→16 2×2 auto_pad SAME_LOWER → Relu   (pad 1 before, 0 after)
      → Transpose(perm 0,2,3,1)                     back to NHWC for Flatten
      → Shape → Slice[0:1] → Concat with [784] → Reshape   (Keras Flatten)
      → MatMul 784×10 → Add → Softmax               output dense [unk__0,10]

The torch twin pads exactly as the ONNX graph does and flattens in NHWC
order, so the exported weights give the trained model; the script checks
this by running both on the test slice and prints both accuracies.
"""

import gzip

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

TRAIN = "testdata/fashion/train-images-2000-idx3-ubyte.gz"
TRAIN_LABELS = "testdata/fashion/train-labels-2000-idx1-ubyte.gz"
TEST = "testdata/fashion/t10k-images-1000-idx3-ubyte.gz"
TEST_LABELS = "testdata/fashion/t10k-labels-1000-idx1-ubyte.gz"
OUT = "testdata/models/fmnist_nhwc.onnx"
OPSET = 13


def images(path):
    with gzip.open(path) as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16)
    return data.reshape(-1, 1, 28, 28).astype(np.float32) / 255


def labels(path):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)


class Net(nn.Module):
    """The graph below in torch, NCHW inside, flattening in NHWC order."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 4)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2)
        self.conv3 = nn.Conv2d(16, 16, 2)
        self.dense = nn.Linear(7 * 7 * 16, 10)

    def forward(self, x):
        x = F.relu(self.conv1(F.pad(x, (1, 2, 1, 2))))  # SAME_UPPER, kernel 4
        x = F.relu(self.conv2(F.pad(x, (0, 1, 0, 1))))  # explicit Pad, VALID
        x = F.max_pool2d(x, 2)
        x = F.relu(self.conv3(F.pad(x, (1, 0, 1, 0))))  # SAME_LOWER, kernel 2
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return self.dense(x)  # logits; the ONNX graph adds the Softmax


def train(x, y):
    torch.manual_seed(16)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(16)
    for _ in range(15):
        perm = torch.randperm(len(y), generator=g)
        for i in range(0, len(y), 50):
            idx = perm[i:i + 50]
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return net


def const(name, value, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def build(net):
    w = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    inits = [
        const("conv2d/kernel", w["conv1.weight"]), const("conv2d/bias", w["conv1.bias"]),
        const("conv2d_1/kernel", w["conv2.weight"]), const("conv2d_1/bias", w["conv2.bias"]),
        const("conv2d_2/kernel", w["conv3.weight"]), const("conv2d_2/bias", w["conv3.bias"]),
        const("dense/kernel", w["dense.weight"].T.copy()), const("dense/bias", w["dense.bias"]),
        const("zero_padding2d/pads", [0, 0, 0, 0, 0, 0, 1, 1], np.int64),
        const("flatten/start", [0], np.int64), const("flatten/end", [1], np.int64),
        const("flatten/width", [7 * 7 * 16], np.int64),
    ]
    node = helper.make_node
    nodes = [
        node("Transpose", ["input_1"], ["conv2d/Conv2D__6:0"], name="conv2d/Conv2D__6", perm=[0, 3, 1, 2]),
        node("Conv", ["conv2d/Conv2D__6:0", "conv2d/kernel", "conv2d/bias"], ["conv2d/BiasAdd:0"], name="conv2d/BiasAdd",
             auto_pad="SAME_UPPER", kernel_shape=[4, 4], strides=[1, 1], dilations=[1, 1]),
        node("Relu", ["conv2d/BiasAdd:0"], ["conv2d/Relu:0"], name="conv2d/Relu"),
        node("Pad", ["conv2d/Relu:0", "zero_padding2d/pads"], ["zero_padding2d/Pad:0"], name="zero_padding2d/Pad", mode="constant"),
        node("Conv", ["zero_padding2d/Pad:0", "conv2d_1/kernel", "conv2d_1/bias"], ["conv2d_1/BiasAdd:0"], name="conv2d_1/BiasAdd",
             auto_pad="VALID", kernel_shape=[3, 3], strides=[2, 2], dilations=[1, 1]),
        node("Relu", ["conv2d_1/BiasAdd:0"], ["conv2d_1/Relu:0"], name="conv2d_1/Relu"),
        node("MaxPool", ["conv2d_1/Relu:0"], ["max_pooling2d/MaxPool:0"], name="max_pooling2d/MaxPool",
             kernel_shape=[2, 2], strides=[2, 2]),
        node("Conv", ["max_pooling2d/MaxPool:0", "conv2d_2/kernel", "conv2d_2/bias"], ["conv2d_2/BiasAdd:0"], name="conv2d_2/BiasAdd",
             auto_pad="SAME_LOWER", kernel_shape=[2, 2], strides=[1, 1], dilations=[1, 1]),
        node("Relu", ["conv2d_2/BiasAdd:0"], ["conv2d_2/Relu:0"], name="conv2d_2/Relu"),
        node("Transpose", ["conv2d_2/Relu:0"], ["conv2d_2/Relu__20:0"], name="conv2d_2/Relu__20", perm=[0, 2, 3, 1]),
        node("Shape", ["conv2d_2/Relu__20:0"], ["flatten/Shape:0"], name="flatten/Shape"),
        node("Slice", ["flatten/Shape:0", "flatten/start", "flatten/end"], ["flatten/strided_slice:0"], name="flatten/strided_slice"),
        node("Concat", ["flatten/strided_slice:0", "flatten/width"], ["flatten/Reshape/shape:0"], name="flatten/Reshape/shape", axis=0),
        node("Reshape", ["conv2d_2/Relu__20:0", "flatten/Reshape/shape:0"], ["flatten/Reshape:0"], name="flatten/Reshape"),
        node("MatMul", ["flatten/Reshape:0", "dense/kernel"], ["dense/MatMul:0"], name="dense/MatMul"),
        node("Add", ["dense/MatMul:0", "dense/bias"], ["dense/BiasAdd:0"], name="dense/BiasAdd"),
        node("Softmax", ["dense/BiasAdd:0"], ["dense"], name="dense/Softmax", axis=-1),
    ]
    inp = helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__0", 28, 28, 1])
    out = helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["unk__0", 10])
    g = helper.make_graph(nodes, "tf2onnx", [inp], [out], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="onnxguard make_tf2onnx_style.py (tf2onnx's patterns)")
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    return m


def reference(m, x):
    """The ONNX graph's output, replayed with torch ops from the written
    initializers (onnx 1.12 has no reference evaluator): checks that the
    weights are stored as the graph reads them."""
    w = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    t = torch.from_numpy(x).permute(0, 3, 1, 2)
    t = F.relu(F.conv2d(F.pad(t, (1, 2, 1, 2)), w["conv2d/kernel"], w["conv2d/bias"]))
    t = F.relu(F.conv2d(F.pad(t, (0, 1, 0, 1)), w["conv2d_1/kernel"], w["conv2d_1/bias"], stride=2))
    t = F.max_pool2d(t, 2)
    t = F.relu(F.conv2d(F.pad(t, (1, 0, 1, 0)), w["conv2d_2/kernel"], w["conv2d_2/bias"]))
    t = t.permute(0, 2, 3, 1).reshape(t.shape[0], -1)
    return torch.softmax(t @ w["dense/kernel"] + w["dense/bias"], -1).numpy()


def main():
    x, y = images(TRAIN), labels(TRAIN_LABELS)
    xt, yt = images(TEST), labels(TEST_LABELS)
    net = train(x, y).eval()
    with torch.no_grad():
        acc = (net(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean()
    m = build(net)
    onnx.save(m, OUT)
    probs = reference(m, xt.transpose(0, 2, 3, 1).copy())
    print(f"{OUT}: torch accuracy {acc:.3f}, graph replay accuracy {(probs.argmax(1) == yt).mean():.3f} on the 1000-image test slice")


if __name__ == "__main__":
    main()
