#!/usr/bin/python3
"""Writes the tiny ONNX models that runtime/ort's tests run.

Run with Debian's python3 (python3-onnx), from anywhere:

    /usr/bin/python3 runtime/ort/testdata/make_models.py

Every classifier is the same two-layer MLP on a 1x2x2 "image":
Flatten -> Gemm(4->5) -> Relu -> Gemm(5->3) = logits, with weights given by
the formulas in w1/b1/w2/b2 below. session_test.go repeats those formulas to
compute the expected logits by hand, so change both together.
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13
SAMPLE = [1, 2, 2]  # C, H, W
HIDDEN = 5
CLASSES = 3


def w1():  # [HIDDEN, 4], used with transB=1
    return np.array([[((i * 4 + j) % 7 - 3) * 0.25 for j in range(4)]
                     for i in range(HIDDEN)], dtype=np.float32)


def b1():
    return np.array([(i - 2) * 0.1 for i in range(HIDDEN)], dtype=np.float32)


def w2():  # [CLASSES, HIDDEN], used with transB=1
    return np.array([[((i * 3 + j * 2) % 5 - 2) * 0.5 for j in range(HIDDEN)]
                     for i in range(CLASSES)], dtype=np.float32)


def b2():
    return np.array([0.5, -0.25, 0.0], dtype=np.float32)


def save(graph, name):
    model = helper.make_model(
        graph,
        producer_name="onnxguard runtime/ort/testdata/make_models.py",
        opset_imports=[helper.make_opsetid("", OPSET)])
    # ONNX Runtime 1.24 reads any IR version up to 11; 8 is what onnx 1.12
    # writes, pinned so the files do not change with the generator's version.
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name))


def mlp(name, batch, squeeze=False, misdeclare=False):
    """The classifier; batch is an int or a symbolic name for a dynamic axis.

    squeeze drops the batch axis from the logits (batch must be 1);
    misdeclare reshapes them through a computed shape, so that shape inference
    cannot check the declared [batch, CLASSES+1], which is wrong.
    """
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1(), "w1"), (b1(), "b1"), (w2(), "w2"), (b2(), "b2")]]
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "w2", "b2"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    out_shape = [batch, CLASSES]
    logits = "logits"
    if squeeze:
        # Some exports of fixed-batch-1 models drop the batch axis.
        inits.append(numpy_helper.from_array(
            np.array([CLASSES], dtype=np.int64), "flat_shape"))
        nodes.append(helper.make_node(
            "Reshape", ["logits", "flat_shape"], ["logits_flat"]))
        out_shape = [CLASSES]
        logits = "logits_flat"
    if misdeclare:
        inits += [numpy_helper.from_array(np.array([v], dtype=np.int64), n)
                  for v, n in [(0, "zero"), (1, "one"), (-1, "minus_one")]]
        nodes += [
            helper.make_node("Shape", ["input"], ["input_shape"]),
            helper.make_node("Slice", ["input_shape", "zero", "one"],
                             ["batch_dim"]),
            helper.make_node("Concat", ["batch_dim", "minus_one"],
                             ["logits_shape"], axis=0),
            helper.make_node("Reshape", ["logits", "logits_shape"],
                             ["logits_reshaped"]),
        ]
        out_shape = [batch, CLASSES + 1]
        logits = "logits_reshaped"
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       [batch] + SAMPLE)],
        [helper.make_tensor_value_info(logits, TensorProto.FLOAT, out_shape),
         helper.make_tensor_value_info("probs", TensorProto.FLOAT,
                                       [batch, CLASSES])],
        inits)
    save(graph, name + ".onnx")


def two_inputs():
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"])], "two_inputs",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["N", 4])])
    save(graph, "two_inputs.onnx")


def int64_input():
    graph = helper.make_graph(
        [helper.make_node("Cast", ["ids"], ["out"], to=TensorProto.FLOAT)],
        "int64_input",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 4])])
    save(graph, "int64_input.onnx")


def int_output():
    graph = helper.make_graph(
        [helper.make_node("ArgMax", ["x"], ["class"], axis=1, keepdims=0)],
        "int_output",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("class", TensorProto.INT64, ["N"])])
    save(graph, "int_output.onnx")


def dynamic_hw():
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["out"], axis=1)],
        "dynamic_hw",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       ["N", 1, "H", "W"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 1])])
    save(graph, "dynamic_hw.onnx")


if __name__ == "__main__":
    mlp("mlp_dynamic", "batch")
    mlp("mlp_b1", 1)
    mlp("mlp_b2", 2)
    mlp("mlp_b1_squeezed", 1, squeeze=True)
    mlp("mlp_misdeclared", "batch", misdeclare=True)
    two_inputs()
    int64_input()
    int_output()
    dynamic_hw()
