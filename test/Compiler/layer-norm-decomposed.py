# LayerNorm decomposed as torch (opset < 17: Div, Pow 2) and Hugging Face
# (x * x, Mul by Reciprocal, gamma on the left) exporters write it becomes
# one sparq.layer_norm; compiled, it runs the runtime's row kernel and the
# result matches a float64 numpy reference on rows offset far from zero.
# A mean over a non-last axis stays decomposed.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-compile %t/torch.onnx --emit=sparq -o - 2>/dev/null | FileCheck %s
# RUN: sparq-compile %t/hf.onnx --emit=sparq -o - 2>/dev/null | FileCheck %s
# RUN: sparq-compile %t/axis1.onnx --emit=sparq -o - 2>/dev/null | FileCheck %s --check-prefix=AXIS1
# RUN: %python %s %t --run | FileCheck %s --check-prefix=NUM

# CHECK-NOT: sparq.reduce_mean
# CHECK: sparq.layer_norm
# CHECK-NOT: sparq.reduce_mean
# CHECK: sparq.softmax

# AXIS1-NOT: sparq.layer_norm
# AXIS1: sparq.reduce_mean

# NUM: torch ok
# NUM: hf ok

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = 96
SHAPE = [3, 17, N]


def constants(rng):
    return [
        numpy_helper.from_array(rng.standard_normal(N).astype(np.float32), "g"),
        numpy_helper.from_array(rng.standard_normal(N).astype(np.float32), "b"),
        numpy_helper.from_array(np.array([1e-6], np.float32), "eps"),
        numpy_helper.from_array(np.array([2.0], np.float32), "two"),
    ]


def layer_norm_nodes(style, axis):
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[axis], keepdims=1),
        helper.make_node("Sub", ["x", "m"], ["d"]),
    ]
    if style == "hf":
        nodes += [
            helper.make_node("Mul", ["d", "d"], ["d2"]),
            helper.make_node("ReduceMean", ["d2"], ["v"], axes=[axis], keepdims=1),
            helper.make_node("Add", ["eps", "v"], ["ve"]),
            helper.make_node("Sqrt", ["ve"], ["s"]),
            helper.make_node("Reciprocal", ["s"], ["r"]),
            helper.make_node("Mul", ["d", "r"], ["n"]),
            helper.make_node("Mul", ["g", "n"], ["ng"]),
        ]
    else:
        nodes += [
            helper.make_node("Pow", ["d", "two"], ["d2"]),
            helper.make_node("ReduceMean", ["d2"], ["v"], axes=[axis], keepdims=1),
            helper.make_node("Add", ["v", "eps"], ["ve"]),
            helper.make_node("Sqrt", ["ve"], ["s"]),
            helper.make_node("Div", ["d", "s"], ["n"]),
            helper.make_node("Mul", ["n", "g"], ["ng"]),
        ]
    return nodes + [
        helper.make_node("Add", ["ng", "b"], ["ln"]),
        helper.make_node("Softmax", ["ln"], ["y"], axis=-1),
    ]


def make(path, style, axis):
    rng = np.random.default_rng(7)
    graph = helper.make_graph(
        layer_norm_nodes(style, axis), style,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, SHAPE)],
        constants(rng))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              ir_version=8)
    onnx.save(model, path)


def reference(x, consts):
    g, b, eps = (numpy_helper.to_array(c).astype(np.float64) for c in consts[:3])
    d = x.astype(np.float64) - x.astype(np.float64).mean(-1, keepdims=True)
    y = d / np.sqrt((d * d).mean(-1, keepdims=True) + eps) * g + b
    e = np.exp(y - y.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def run(out):
    import sparq
    rng = np.random.default_rng(1)
    # Rows offset far from zero: the variance must not cancel.
    x = (rng.standard_normal(SHAPE) * 3 + 100).astype(np.float32)
    consts = constants(np.random.default_rng(7))
    want = reference(x, consts)
    for style in ("torch", "hf"):
        got = sparq.compile(os.path.join(out, style + ".onnx"))(x=x)
        if isinstance(got, dict):
            got = list(got.values())[0]
        elif isinstance(got, (list, tuple)):
            got = got[0]
        err = np.linalg.norm(got - want) / np.linalg.norm(want)
        print(style, "ok" if err <= 1e-6 else "rel_l2 %.3e" % err)


if __name__ == "__main__":
    out = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--run":
        run(out)
    else:
        make(os.path.join(out, "torch.onnx"), "torch", -1)
        make(os.path.join(out, "hf.onnx"), "hf", -1)
        make(os.path.join(out, "axis1.onnx"), "torch", 1)
