#!/usr/bin/env python3
"""qdq_small.py - Small quantized nets: sparq's integer kernels vs onnxruntime.

Builds small conv nets and MLPs with onnx.helper (seeded numpy weights),
quantizes them with onnxruntime.quantization.quantize_static (QDQ format,
per-channel and per-tensor weights, u8 and s8 activations; QOperator format
with QLinearConv / QLinearMatMul; quantize_dynamic's MatMulInteger / ConvInteger), compiles each with sparq-compile, runs it
with sparq-run and compares with onnxruntime running the same quantized
model (ORT_ENABLE_ALL, so onnxruntime fuses the QDQ groups into its own
integer kernels).

Per case it reports, for the final output (a DequantizeLinear of the last
quantized tensor):
  steps   max |sparq - ort| / scale of that DequantizeLinear, i.e. in
          quantization steps of the final quantized tensor
  differ  the fraction of elements that differ
  kernels the integer kernel calls in the lowered module
          (sparq_uk_qconv2d_i8 / sparq_uk_qmatmul_i8), checked against
          the number of convolutions / matrix products in the model, and
          for QDQ models that no f32 conv/matmul kernel is left
          (sparq-compile --emit=sparq / --emit=llvm-mlir)
A case passes when steps <= 1 (quantize_dynamic: rel_l2 <= 1e-5, its output
is float) and the integer kernels are used for every conv / matmul. The last line is `qdq-small: N passed, M failed`.
Runs under the pip python3 (onnx, onnxruntime, numpy).
"""

import argparse
import os
import re
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from sparq_models import harness  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

STEP_TOL = 1.0 + 1e-3  # one step, plus float noise of the dequantized output
DYNAMIC_TOL = 1e-5     # f32 rounding order only: the integer math is exact


# --------------------------------------------------------------------------
# Float models
# --------------------------------------------------------------------------
def _init(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def conv_net(rng, clip=False):
    """Conv+Relu, MaxPool, depthwise Conv+Relu (or Clip(0, 6)), 1x1 Conv,
    stride-2 Conv."""
    inits = [
        _init("w1", rng.standard_normal((8, 3, 3, 3)) * 0.3),
        _init("b1", rng.standard_normal(8) * 0.1),
        _init("w2", rng.standard_normal((8, 1, 3, 3)) * 0.4),
        _init("b2", rng.standard_normal(8) * 0.1),
        _init("w3", rng.standard_normal((12, 8, 1, 1)) * 0.3),
        _init("b3", rng.standard_normal(12) * 0.1),
        _init("w4", rng.standard_normal((6, 12, 3, 3)) * 0.15),
        _init("b4", rng.standard_normal(6) * 0.1),
    ]
    if clip:
        inits += [_init("lo", np.float32(0.0)), _init("hi", np.float32(0.5))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1],
                         group=8),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"]) if clip else
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"]),
        helper.make_node("Conv", ["c3", "w4", "b4"], ["y"], pads=[1, 1, 1, 1],
                         strides=[2, 2]),
    ]
    graph = helper.make_graph(
        nodes, "conv_net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 4, 4])],
        inits)
    return graph, {"x": (1, 3, 16, 16)}, 4


def mlp(rng, gemm=True):
    """MatMul+Add+Relu, MatMul+Add+Relu, then Gemm(transB) or MatMul."""
    inits = [
        _init("w1", rng.standard_normal((32, 64)) * 0.2),
        _init("b1", rng.standard_normal(64) * 0.1),
        _init("w2", rng.standard_normal((64, 48)) * 0.15),
        _init("b2", rng.standard_normal(48) * 0.1),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"]),
        helper.make_node("Add", ["m1", "b1"], ["a1"]),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("MatMul", ["r1", "w2"], ["m2"]),
        helper.make_node("Add", ["m2", "b2"], ["a2"]),
        helper.make_node("Relu", ["a2"], ["r2"]),
    ]
    if gemm:
        inits += [_init("w3", rng.standard_normal((16, 48)) * 0.2),
                  _init("b3", rng.standard_normal(16) * 0.1)]
        nodes.append(helper.make_node("Gemm", ["r2", "w3", "b3"], ["y"],
                                      transB=1))
    else:
        inits.append(_init("w3", rng.standard_normal((48, 16)) * 0.2))
        nodes.append(helper.make_node("MatMul", ["r2", "w3"], ["y"]))
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 16])],
        inits)
    return graph, {"x": (4, 32)}, 3


def residual(rng):
    """x + (bias + x W1), then MatMul: the transformer shape whose residual
    add becomes sparq.qadd. x is read by the first matmul's kernel call,
    the bias add (kept apart by its own quantize) runs as a generic, and the
    qadd then reads x again: its buffer must still hold x."""
    inits = [
        _init("w1", rng.standard_normal((32, 32)) * 0.2),
        _init("b1", rng.standard_normal(32) * 0.1),
        _init("w2", rng.standard_normal((32, 16)) * 0.2),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"]),
        helper.make_node("Add", ["b1", "m1"], ["a1"]),
        helper.make_node("Add", ["x", "a1"], ["r1"]),
        helper.make_node("MatMul", ["r1", "w2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "residual",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8, 16])],
        inits)
    return graph, {"x": (8, 32)}, 2


def save_float(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


# --------------------------------------------------------------------------
# Quantization
# --------------------------------------------------------------------------
def quantize(float_path, out_path, shapes, fmt, per_channel, act, seed):
    """act: u8, s8 (asymmetric) or s8sym (symmetric activations, zero point
    0, so onnxruntime keeps the Relus for sparq to fuse)."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_dynamic,
                                          quantize_static)
    if fmt == "dynamic":
        quantize_dynamic(float_path, out_path, per_channel=per_channel,
                         weight_type=QuantType.QInt8)
        return

    class Reader(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(seed + 1000)
            self.data = iter([{n: rng.standard_normal(s).astype(np.float32)
                               for n, s in shapes.items()} for _ in range(8)])

        def get_next(self):
            return next(self.data, None)

    quantize_static(
        float_path, out_path, Reader(),
        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
        per_channel=per_channel,
        activation_type=QuantType.QUInt8 if act == "u8" else QuantType.QInt8,
        weight_type=QuantType.QInt8,
        extra_options={"ActivationSymmetric": act == "s8sym"})


def final_scale(path, output):
    """Scale of the DequantizeLinear that produces `output` (one element)."""
    model = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if output in node.output and node.op_type == "DequantizeLinear":
            scale = inits.get(node.input[1])
            if scale is not None and scale.size == 1:
                return float(scale.reshape(()))
    return None


# --------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------
CASES = [
    # name, model builder, format, per-channel, activation type
    ("conv_qdq_pc_u8", conv_net, "qdq", True, "u8"),
    ("conv_qdq_pt_u8", conv_net, "qdq", False, "u8"),
    ("conv_qdq_pc_s8", conv_net, "qdq", True, "s8"),
    ("conv_qdq_pt_s8", conv_net, "qdq", False, "s8"),
    ("conv_qdq_pc_s8sym", conv_net, "qdq", True, "s8sym"),
    ("conv_clip_qdq_pc_u8", lambda rng: conv_net(rng, clip=True), "qdq", True, "u8"),
    ("conv_clip_qdq_pt_s8sym", lambda rng: conv_net(rng, clip=True), "qdq", False, "s8sym"),
    ("mlp_qdq_pc_u8", mlp, "qdq", True, "u8"),
    ("mlp_qdq_pt_u8", mlp, "qdq", False, "u8"),
    ("mlp_qdq_pc_s8", mlp, "qdq", True, "s8"),
    ("mlp_qdq_pc_s8sym", mlp, "qdq", True, "s8sym"),
    ("residual_qdq_pc_u8", residual, "qdq", True, "u8"),
    ("residual_qdq_pt_s8", residual, "qdq", False, "s8"),
    ("conv_qop_pc_u8", conv_net, "qop", True, "u8"),
    ("conv_qop_pt_u8", conv_net, "qop", False, "u8"),
    ("mlp_qop_pt_u8", lambda rng: mlp(rng, gemm=False), "qop", False, "u8"),
    ("mlp_qop_pc_u8", lambda rng: mlp(rng, gemm=False), "qop", True, "u8"),
    # quantize_dynamic: DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul
    # -> Add (ConvInteger for convs), an f32-result kernel; the output is float, so it is compared
    # by rel_l2 (<= DYNAMIC_TOL) instead of steps.
    ("mlp_dynamic_pt", lambda rng: mlp(rng, gemm=False), "dynamic", False, "u8"),
    ("mlp_dynamic_pc", lambda rng: mlp(rng, gemm=False), "dynamic", True, "u8"),
    ("conv_dynamic_pt", conv_net, "dynamic", False, "u8"),
]


def run_tool(cmd, timeout):
    res = harness.run(cmd, timeout)
    if res.rc != 0:
        raise RuntimeError("%s %s: %s" % (os.path.basename(cmd[0]),
                                          res.describe(), res.message()))
    return res


def check_case(case, work, args):
    name, build, fmt, per_channel, act = case
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    graph, shapes, n_kernels = build(rng)
    float_path = os.path.join(work, "float.onnx")
    q_path = os.path.join(work, "quant.onnx")
    save_float(graph, float_path)
    quantize(float_path, q_path, shapes, fmt, per_channel, act, seed=1)

    sess = harness.ort_session(q_path, args.threads, optimize=True)
    feed_rng = np.random.default_rng(7)
    feeds = {n: feed_rng.standard_normal(s).astype(np.float32)
             for n, s in shapes.items()}
    ref = sess.run(None, feeds)[0]
    out_name = sess.get_outputs()[0].name
    scale = final_scale(q_path, out_name) if fmt != "dynamic" else None
    if scale is None and fmt != "dynamic":
        return False, "no final DequantizeLinear found for the output"

    # The integer kernels: calls in the lowered module, no f32 kernel left.
    llvm = run_tool([harness.tool("sparq-compile"), q_path, "--emit=llvm-mlir",
                     "-o", "-"], args.compile_timeout).stdout
    calls = len(re.findall(r"llvm\.call @sparq_uk_q(?:conv2d|matmul)_i8\(", llvm))
    f32_calls = len(re.findall(r"llvm\.call @sparq_uk_(?:conv2d|matmul)_f32\(", llvm))
    sparq_ir = run_tool([harness.tool("sparq-compile"), q_path, "--emit=sparq",
                         "-o", "-"], args.compile_timeout).stdout
    formed = re.findall(r'sparq\.quantized = "([^"]+)"', sparq_ir)

    so = os.path.join(work, "model.so")
    run_tool([harness.tool("sparq-compile"), q_path, "-o", so],
             args.compile_timeout)
    cmd = [harness.tool("sparq-run"), so, "--threads", str(args.threads)]
    for i, (n, arr) in enumerate(feeds.items()):
        path = os.path.join(work, "input_%d.npy" % i)
        np.save(path, arr)
        cmd += ["--input", "%s=%s" % (n, path)]
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    run_tool(cmd + ["--save-outputs", out_dir], args.run_timeout)
    got = np.load(os.path.join(out_dir, "output_0.npy"))
    if got.shape != ref.shape or got.dtype != ref.dtype:
        return False, "output %s %s, expected %s %s" % (
            got.dtype, list(got.shape), ref.dtype, list(ref.shape))

    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    differ = float(np.mean(got != ref))
    problems = []
    if fmt == "dynamic":
        err = harness.rel_l2(got, ref)
        if not err <= DYNAMIC_TOL:
            problems.append("rel_l2 %.2e > %.0e" % (err, DYNAMIC_TOL))
        detail = "rel_l2 %.2e max_abs %.2e" % (err, float(diff.max()))
    else:
        steps = float(diff.max()) / scale
        if not steps <= STEP_TOL:
            problems.append("%.2f steps > 1" % steps)
        detail = "steps %.2f" % steps
    if calls != n_kernels:
        problems.append("%d integer kernel calls, expected %d" % (calls, n_kernels))
    if f32_calls:
        problems.append("%d f32 conv/matmul kernel calls left" % f32_calls)
    detail += " differ %.2f%% int8-calls %d/%d" % (100 * differ, calls, n_kernels)
    if fmt in ("qdq", "dynamic"):
        detail += " formed [%s]" % ", ".join(sorted(set(formed)))
    if problems:
        detail += " -- " + "; ".join(problems)
    return not problems, detail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help="regex selecting cases")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile-timeout", type=float, default=120)
    parser.add_argument("--run-timeout", type=float, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    args = parser.parse_args(argv)

    cases = [c for c in CASES if re.search(args.cases, c[0])]
    if harness.tools_missing("qdq-small", len(cases), "sparq-compile", "sparq-run"):
        return 1

    def line(case, ok, detail):
        return "%-4s %-22s %s" % ("PASS" if ok else "FAIL", case[0], detail)

    def check(case, work):
        ok, detail = check_case(case, work, args)
        return ok, line(case, ok, detail)

    return harness.run_suite(
        "qdq-small", cases, check,
        lambda case, exc: line(case, False, "%s: %s" % (type(exc).__name__, exc)),
        "sparq-qdq-small-", args.keep, name=lambda case: case[0])


if __name__ == "__main__":
    sys.exit(main())
