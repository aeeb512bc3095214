#!/usr/bin/env python3
"""make_onnx_models.py - Build test models directly with onnx.helper.

A second "exporter" next to export_torch.py: these graphs use attribute
forms torch never writes (Gemm transB=1, Conv auto_pad=SAME_UPPER with
groups, an explicit BatchNormalization), external-data initializers and a
symbolic batch dimension. Runs under the pip python3 (needs onnx, numpy).

  python3 python/sparq_models/make_onnx_models.py --out build/test-models
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


class Builder:
    """Collects nodes and seeded random initializers for one graph."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []

    def weight(self, name, shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else int(shape[0])
        scale = scale if scale is not None else 1.0 / np.sqrt(max(fan_in, 1))
        data = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        self.inits.append(numpy_helper.from_array(data, name))
        return name

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, outputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))
        return outputs[0]

    def model(self, name, inputs, outputs, opset=OPSET):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(
            graph, producer_name="sparq-make-onnx-models",
            opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8  # readable by onnxruntime and by onnx 1.12 tooling
        onnx.checker.check_model(model)
        return model


def float_input(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def gemm_mlp(seed):
    """MLP with weights stored [out, in] and Gemm transB=1 (Keras/TF style)."""
    b = Builder(seed)
    h = "x"
    dims = [128, 512, 512, 64]
    for i, (din, dout) in enumerate(zip(dims, dims[1:])):
        w = b.weight("fc%d.weight" % i, [dout, din])
        bias = b.weight("fc%d.bias" % i, [dout], scale=0.1)
        h = b.node("Gemm", [h, w, bias], ["fc%d" % i], "fc%d" % i, transB=1)
        if i + 2 < len(dims):
            h = b.node("Relu", [h], ["relu%d" % i], "relu%d" % i)
    b.nodes[-1].output[0] = "y"
    return b.model("gemm_mlp", [float_input("x", [8, 128])],
                   [float_input("y", [8, 64])])


def small_cnn(seed):
    """Conv(SAME_UPPER, grouped, strided) + BatchNormalization + pools + Gemm."""
    b = Builder(seed)

    def conv_bn_relu(x, idx, cin, cout, k, stride=1, group=1):
        w = b.weight("conv%d.weight" % idx, [cout, cin // group, k, k])
        y = b.node("Conv", [x, w], ["conv%d" % idx], "conv%d" % idx,
                   kernel_shape=[k, k], strides=[stride, stride], group=group,
                   auto_pad="SAME_UPPER")
        gamma = b.const("bn%d.scale" % idx,
                        (1.0 + 0.1 * b.rng.standard_normal(cout)).astype(np.float32))
        beta = b.const("bn%d.bias" % idx,
                       (0.1 * b.rng.standard_normal(cout)).astype(np.float32))
        mean = b.const("bn%d.mean" % idx,
                       (0.1 * b.rng.standard_normal(cout)).astype(np.float32))
        var = b.const("bn%d.var" % idx,
                      b.rng.uniform(0.5, 1.5, cout).astype(np.float32))
        y = b.node("BatchNormalization", [y, gamma, beta, mean, var],
                   ["bn%d" % idx], "bn%d" % idx, epsilon=1e-5)
        return b.node("Relu", [y], ["relu%d" % idx], "relu%d" % idx)

    h = conv_bn_relu("image", 0, 3, 16, 3)
    h = conv_bn_relu(h, 1, 16, 32, 3, stride=2, group=4)   # 32x32 -> 16x16
    h = b.node("MaxPool", [h], ["pool"], "pool", kernel_shape=[3, 3],
               strides=[2, 2], pads=[1, 1, 1, 1])           # -> 8x8
    h = conv_bn_relu(h, 2, 32, 32, 3, group=32)             # depthwise
    h = conv_bn_relu(h, 3, 32, 64, 1)                       # pointwise
    h = b.node("GlobalAveragePool", [h], ["gap"], "gap")
    h = b.node("Flatten", [h], ["flat"], "flatten", axis=1)
    w = b.weight("head.weight", [10, 64])
    bias = b.weight("head.bias", [10], scale=0.1)
    b.node("Gemm", [h, w, bias], ["logits"], "head", transB=1)
    return b.model("small_cnn", [float_input("image", [2, 3, 32, 32])],
                   [float_input("logits", [2, 10])])


def external_data_mlp(seed):
    """MatMul/Add/Tanh model whose initializers live in a side file."""
    b = Builder(seed)
    w0 = b.weight("w0", [64, 256])
    b0 = b.weight("b0", [256], scale=0.1)
    w1 = b.weight("w1", [256, 32])
    h = b.node("MatMul", ["x", w0], ["mm0"], "mm0")
    h = b.node("Add", [h, b0], ["add0"], "add0")
    h = b.node("Tanh", [h], ["tanh0"], "tanh0")
    b.node("MatMul", [h, w1], ["y"], "mm1")
    return b.model("external_data_mlp", [float_input("x", [4, 64])],
                   [float_input("y", [4, 32])])


def dynamic_batch(seed):
    """MatMul + Add + Sigmoid + Softmax with a symbolic batch dim 'N'."""
    b = Builder(seed)
    w = b.weight("w", [64, 48])
    bias = b.weight("bias", [48], scale=0.1)
    h = b.node("MatMul", ["x", w], ["mm"], "mm")
    h = b.node("Add", [h, bias], ["add"], "add")
    h = b.node("Sigmoid", [h], ["sig"], "sig")
    b.node("Softmax", [h], ["probs"], "softmax", axis=-1)
    return b.model("dynamic_batch", [float_input("x", ["N", 64])],
                   [float_input("probs", ["N", 48])])


MODELS = {
    "onnx_gemm_mlp": gemm_mlp,
    "onnx_small_cnn": small_cnn,
    "onnx_external_data": external_data_mlp,
    "onnx_dynamic_batch": dynamic_batch,
}


def save(model, out_dir, name):
    path = os.path.join(out_dir, name + ".onnx")
    if name == "onnx_external_data":
        data_name = name + ".data"
        data_path = os.path.join(out_dir, data_name)
        if os.path.exists(data_path):
            os.remove(data_path)  # onnx appends to an existing data file
        onnx.save_model(model, path, save_as_external_data=True,
                        all_tensors_to_one_file=True, location=data_name,
                        size_threshold=0)
    else:
        onnx.save_model(model, path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated subset of: " + ",".join(MODELS))
    args = parser.parse_args(argv)
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error("unknown model(s): " + ",".join(unknown))
    os.makedirs(args.out, exist_ok=True)
    for i, name in enumerate(names):
        path = save(MODELS[name](args.seed + i), args.out, name)
        print("built %-20s opset %d  %s" % (name, OPSET, path), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
