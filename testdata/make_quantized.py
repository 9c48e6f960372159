"""Generate the quantized Fashion-MNIST CNNs from the trained float one.

Run from the repository root with Debian's Python (torch 1.13, onnx 1.12):

    /usr/bin/python3 testdata/make_quantized.py

Reads testdata/models/fmnist_cnn.onnx (trained, float) and the 2000
committed training images (testdata/fashion/train-images-2000-idx3-ubyte.gz),
which calibrate the activation ranges, and writes, built with onnx.helper,
at opset 13:

  testdata/models/fmnist_cnn_qdq.onnx      QDQ form: QuantizeLinear/DequantizeLinear
      pairs on the input and after every Relu (uint8, per tensor), weights
      int8 symmetric per output channel behind DequantizeLinear (axis 0),
      biases float; the float Conv, Gemm, MaxPool, Flatten between.
  testdata/models/fmnist_cnn_qlinear.onnx  QLinear form: QuantizeLinear on the
      input, QLinearConv (int8 per-channel weights, int32 biases, uint8 output
      with zero point 0, which also clips like the Relu) and MaxPool on uint8,
      Flatten, QLinearMatMul for fc1 (int8 per-column weights) then
      DequantizeLinear, Add of the float bias, Relu, QuantizeLinear, and
      MatMulInteger for fc2 with Cast, Mul by the scales and Add of the bias.

Activation scales are the calibration maxima over 255 (uint8, zero point 0
after a Relu); fc1's output before its bias, which is signed, is uint8 with
zero point 128 (ONNX Runtime implements QLinearMatMul only with an output
of a's type) and scale max|pre|/127.
"""

import gzip

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

SRC = "testdata/models/fmnist_cnn.onnx"
TRAIN = "testdata/fashion/train-images-2000-idx3-ubyte.gz"
OPSET = 13


def images(path):
    with gzip.open(path) as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16)
    return data.reshape(-1, 1, 28, 28).astype(np.float32) / 255


def weights():
    m = onnx.load(SRC)
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def calibrate(w, x):
    """Maxima of every quantized activation on the calibration images."""
    t = {k: torch.from_numpy(v.copy()) for k, v in w.items()}
    x = torch.from_numpy(x)
    with torch.no_grad():
        r1 = F.relu(F.conv2d(x, t["conv1.weight"], t["conv1.bias"], padding=1))
        r2 = F.relu(F.conv2d(F.max_pool2d(r1, 2), t["conv2.weight"], t["conv2.bias"], padding=1))
        flat = F.max_pool2d(r2, 2).flatten(1)
        pre = flat @ t["fc1.weight"].T  # fc1 before its bias
        r3 = F.relu(pre + t["fc1.bias"])
    return {"r1": r1.max().item(), "r2": r2.max().item(), "pre": pre.abs().max().item(), "r3": r3.max().item()}


def per_channel(wt, axis):
    """int8 symmetric quantization, one scale per slice along axis."""
    red = tuple(i for i in range(wt.ndim) if i != axis)
    scale = np.abs(wt).max(axis=red) / 127
    scale[scale == 0] = 1
    shape = [1] * wt.ndim
    shape[axis] = -1
    q = np.clip(np.rint(wt / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def const(name, value, dtype=None):
    a = np.asarray(value, dtype=dtype)
    return numpy_helper.from_array(a, name)


def io(graph_nodes, inits, name):
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])
    g = helper.make_graph(graph_nodes, name, [inp], [out], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="onnxguard make_quantized.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def qdq(w, r):
    n, inits = [], []
    s_in, s1, s2, s3 = 1 / 255, r["r1"] / 255, r["r2"] / 255, r["r3"] / 255
    zu8 = lambda name: const(name, 0, np.uint8)

    def qdq_pair(x, scale, tag):
        inits.extend([const(f"{tag}_scale", scale, np.float32), zu8(f"{tag}_zp")])
        n.append(helper.make_node("QuantizeLinear", [x, f"{tag}_scale", f"{tag}_zp"], [f"{tag}_q"], name=f"{tag}_Q"))
        n.append(helper.make_node("DequantizeLinear", [f"{tag}_q", f"{tag}_scale", f"{tag}_zp"], [f"{tag}_dq"], name=f"{tag}_DQ"))
        return f"{tag}_dq"

    def weight(key, axis):
        q, s = per_channel(w[key], axis)
        inits.extend([const(key + "_q", q), const(key + "_scale", s), const(key + "_zp", np.zeros(len(s), np.int8))])
        n.append(helper.make_node("DequantizeLinear", [key + "_q", key + "_scale", key + "_zp"], [key + "_dq"], name=key + "_DQ", axis=axis))
        inits.append(const(key.replace("weight", "bias"), w[key.replace("weight", "bias")]))
        return key + "_dq", key.replace("weight", "bias")

    x = qdq_pair("input", s_in, "in")
    for i, (conv, scale) in enumerate([("conv1.weight", s1), ("conv2.weight", s2)], 1):
        wd, b = weight(conv, 0)
        n.append(helper.make_node("Conv", [x, wd, b], [f"conv{i}"], name=f"conv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        n.append(helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"], name=f"relu{i}"))
        r = qdq_pair(f"relu{i}", scale, f"r{i}")
        n.append(helper.make_node("MaxPool", [r], [f"pool{i}"], name=f"pool{i}", kernel_shape=[2, 2], strides=[2, 2]))
        x = f"pool{i}"
    n.append(helper.make_node("Flatten", [x], ["flat"], name="flatten", axis=1))
    wd, b = weight("fc1.weight", 0)
    n.append(helper.make_node("Gemm", ["flat", wd, b], ["fc1"], name="fc1", transB=1))
    n.append(helper.make_node("Relu", ["fc1"], ["relu3"], name="relu3"))
    r = qdq_pair("relu3", s3, "r3")
    wd, b = weight("fc2.weight", 0)
    n.append(helper.make_node("Gemm", [r, wd, b], ["logits"], name="fc2", transB=1))
    return io(n, inits, "fmnist_cnn_qdq")


def qlinear(w, r):
    n, inits = [], []
    s_in, s1, s2, s3, spre = 1 / 255, r["r1"] / 255, r["r2"] / 255, r["r3"] / 255, r["pre"] / 127
    inits += [const("s_in", s_in, np.float32), const("zp_u8", 0, np.uint8), const("zp_i8", 0, np.int8), const("zp_u8_mid", 128, np.uint8),
              const("s1", s1, np.float32), const("s2", s2, np.float32), const("s3", s3, np.float32), const("spre", spre, np.float32)]
    n.append(helper.make_node("QuantizeLinear", ["input", "s_in", "zp_u8"], ["x_q"], name="quantize_input"))
    x, xs = "x_q", s_in
    for i, ys in [(1, s1), (2, s2)]:
        key = f"conv{i}.weight"
        q, s = per_channel(w[key], 0)
        bias = np.rint(w[f"conv{i}.bias"] / (np.float32(xs) * s)).astype(np.int32)
        inits += [const(key + "_q", q), const(key + "_scale", s), const(key + "_zp", np.zeros(len(s), np.int8)), const(f"conv{i}.bias_q", bias)]
        xs_name = "s_in" if i == 1 else "s1"
        n.append(helper.make_node("QLinearConv", [x, xs_name, "zp_u8", key + "_q", key + "_scale", key + "_zp", f"s{i}", "zp_u8", f"conv{i}.bias_q"],
                                  [f"conv{i}_q"], name=f"qconv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        n.append(helper.make_node("MaxPool", [f"conv{i}_q"], [f"pool{i}_q"], name=f"pool{i}", kernel_shape=[2, 2], strides=[2, 2]))
        x, xs = f"pool{i}_q", ys
    n.append(helper.make_node("Flatten", [x], ["flat_q"], name="flatten", axis=1))
    q, s = per_channel(w["fc1.weight"], 0)  # per output unit = per column of the transposed weight
    inits += [const("fc1_wT_q", np.ascontiguousarray(q.T)), const("fc1_scale", s), const("fc1_zp", np.zeros(len(s), np.int8)),
              const("fc1.bias", w["fc1.bias"])]
    n.append(helper.make_node("QLinearMatMul", ["flat_q", "s2", "zp_u8", "fc1_wT_q", "fc1_scale", "fc1_zp", "spre", "zp_u8_mid"], ["fc1_q"], name="fc1"))
    n.append(helper.make_node("DequantizeLinear", ["fc1_q", "spre", "zp_u8_mid"], ["fc1_pre"], name="fc1_dequantize"))
    n.append(helper.make_node("Add", ["fc1_pre", "fc1.bias"], ["fc1_out"], name="fc1_bias"))
    n.append(helper.make_node("Relu", ["fc1_out"], ["relu3"], name="relu3"))
    n.append(helper.make_node("QuantizeLinear", ["relu3", "s3", "zp_u8"], ["relu3_q"], name="quantize_relu3"))
    q, s = per_channel(w["fc2.weight"], 0)
    inits += [const("fc2_wT_q", np.ascontiguousarray(q.T)), const("fc2_out_scale", (np.float32(s3) * s).astype(np.float32)),
              const("fc2.bias", w["fc2.bias"])]
    n.append(helper.make_node("MatMulInteger", ["relu3_q", "fc2_wT_q", "zp_u8", "zp_i8"], ["fc2_i32"], name="fc2"))
    n.append(helper.make_node("Cast", ["fc2_i32"], ["fc2_f"], name="fc2_cast", to=TensorProto.FLOAT))
    n.append(helper.make_node("Mul", ["fc2_f", "fc2_out_scale"], ["fc2_scaled"], name="fc2_scale"))
    n.append(helper.make_node("Add", ["fc2_scaled", "fc2.bias"], ["logits"], name="fc2_bias"))
    return io(n, inits, "fmnist_cnn_qlinear")


if __name__ == "__main__":
    w = weights()
    r = calibrate(w, images(TRAIN))
    print("calibration maxima:", {k: round(v, 4) for k, v in r.items()})
    for name, make in [("fmnist_cnn_qdq", qdq), ("fmnist_cnn_qlinear", qlinear)]:
        m = make(w, r)
        path = f"testdata/models/{name}.onnx"
        onnx.save(m, path)
        print(path, sorted({nd.op_type for nd in m.graph.node}))
