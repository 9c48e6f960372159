"""Build testdata/models/fmnist_fusedmatmul.onnx, a model ONNX Runtime runs
and onnxguard's interpreter refuses, for black-box-only audits (Square).

Run from the repository root with Debian's Python (numpy and onnx 1.12):

    /usr/bin/python3 testdata/make_blackbox_model.py

The model is softmax regression on Fashion-MNIST, trained here with plain
full-batch gradient descent (float64, zero start, no randomness) on the
2000 committed training images. Its one matrix product is Microsoft's
contrib operator com.microsoft.FusedMatMul (MatMul with a transpose and a
scale folded in), which ONNX Runtime's CPU provider implements and the
interpreter, which runs the standard ai.onnx domain only, does not:

    input [N,1,28,28] -> Flatten -> FusedMatMul(x, W, transB=1, alpha=0.5) -> Add(b) -> logits [N,10]

W holds twice the trained weights so that alpha = 0.5 matters. About 32 KB.
"""

import gzip
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def train(x, y, k=10, steps=300, lr=0.5, decay=1e-4):
    n, d = x.shape
    w, b = np.zeros((k, d)), np.zeros(k)
    onehot = np.eye(k)[y]
    for _ in range(steps):
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        w -= lr * (g.T @ x + decay * w)
        b -= lr * g.sum(axis=0)
    return w, b


def main():
    fashion = os.path.join(HERE, "fashion")
    x = read_idx(os.path.join(fashion, "train-images-2000-idx3-ubyte.gz")).reshape(-1, 784) / 255.0
    y = read_idx(os.path.join(fashion, "train-labels-2000-idx1-ubyte.gz")).astype(np.int64)
    w, b = train(x, y)
    xt = read_idx(os.path.join(fashion, "t10k-images-1000-idx3-ubyte.gz")).reshape(-1, 784) / 255.0
    yt = read_idx(os.path.join(fashion, "t10k-labels-1000-idx1-ubyte.gz"))
    print("train accuracy %.4f, test slice accuracy %.4f" % (
        ((x @ w.T + b).argmax(1) == y).mean(), ((xt @ w.T + b).argmax(1) == yt).mean()))

    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], axis=1),
        helper.make_node("FusedMatMul", ["flat", "W"], ["prod"], domain="com.microsoft",
                         transA=0, transB=1, alpha=0.5),
        helper.make_node("Add", ["prod", "b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "fmnist_fusedmatmul",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        initializer=[numpy_helper.from_array((2 * w).astype(np.float32), "W"),
                     numpy_helper.from_array(b.astype(np.float32), "b")],
    )
    model = helper.make_model(graph, producer_name="onnxguard testdata/make_blackbox_model.py",
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    out = os.path.join(HERE, "models", "fmnist_fusedmatmul.onnx")
    onnx.save(model, out)
    print("wrote %s (%d bytes)" % (out, os.path.getsize(out)))


if __name__ == "__main__":
    main()
