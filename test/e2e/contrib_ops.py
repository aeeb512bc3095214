#!/usr/bin/env python3
"""contrib_ops.py - onnxruntime's com.microsoft quantized ops: sparq vs ort.

Each case is a one-node onnx.helper model (opset 21 + com.microsoft 1) with
seeded random inputs that are never all zero: QuantizeLinear /
DequantizeLinear of the contrib domain, QLinearAdd/Mul/Sigmoid/LeakyRelu/
GlobalAveragePool/Concat/Softmax, DynamicQuantizeMatMul, MatMulIntegerToFloat,
MatMulNBits and QGemm, per-tensor and per-channel where the op allows. The model is
compiled with build/bin/sparq-compile, run with build/bin/sparq-run
--save-outputs, and compared with onnxruntime (CPU, 1 thread):
  integer outputs   at most one quantization step apart (the max step
                    difference and the number of differing elements are
                    printed; onnxruntime computes these ops in float too);
  float outputs     rel L2 <= 1e-5 (MatMulNBits: <= 1e-4).
A second group checks ai.onnx Q/DQ forms defined bit for bit exactly
against ONNX's reference implementation (onnx.reference; onnxruntime's
disagreements with it are printed): dequantizing every float8 bit pattern, quantizing to
float8 (ties, subnormals, overflow, inf/NaN, saturate on and off), blocked
int4/uint4 quantization and a blocked int4 weight of 2560 elements.
(Quantized results are widened exactly to f32 by a scale-1 dequantize, as
onnxruntime cannot return float8/int4 tensors to numpy; the node tests
cover such graph outputs.)
The last line is `contrib-ops: N passed, M failed`. Runs under the pip
python3.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from sparq_models import harness  # noqa: E402

import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper, save  # noqa: E402

MS = "com.microsoft"
U8, I8, F = TensorProto.UINT8, TensorProto.INT8, TensorProto.FLOAT
NP = {U8: np.uint8, I8: np.int8, F: np.float32}


class Case:
    """tol: the rel L2 bound of float outputs; None: every output must equal
    onnxruntime's exactly (NaN equal to NaN)."""

    def __init__(self, name, node, inputs, inits, outputs, tol=1e-5,
                 opset=21, ort_optimize=True):
        self.name = name
        self.opset = opset
        self.ort_optimize = ort_optimize
        self.node = node
        self.inputs = inputs      # [(name, numpy array)]
        self.inits = inits        # [(name, numpy array or TensorProto)]
        self.outputs = outputs    # [(name, onnx dtype)]
        self.tol = tol

    def model(self):
        def vi(name, arr):
            dtype = helper.np_dtype_to_tensor_dtype(arr.dtype)
            return helper.make_tensor_value_info(name, dtype, arr.shape)
        nodes = self.node if isinstance(self.node, list) else [self.node]
        graph = helper.make_graph(
            nodes, self.name, [vi(n, a) for n, a in self.inputs],
            [helper.make_tensor_value_info(n, t, None) for n, t in self.outputs],
            [a if isinstance(a, TensorProto) else numpy_helper.from_array(a, n)
             for n, a in self.inits])
        model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", self.opset), helper.make_opsetid(MS, 1)])
        model.ir_version = 10
        return model


def qrand(rng, dtype, shape):
    info = np.iinfo(NP[dtype])
    return rng.integers(info.min, info.max + 1, size=shape).astype(NP[dtype])


def scalar(v, dtype=F):
    return np.array(v, NP[dtype])


def qparams(rng, dtype, prefix):
    """A per-tensor scale and a zero point of dtype."""
    zp = rng.integers(-20, 20) if dtype == I8 else rng.integers(100, 150)
    return [(prefix + "_scale", scalar(rng.uniform(0.01, 0.1))),
            (prefix + "_zero_point", scalar(zp, dtype))]


def cases(rng):
    out = []
    # QLinearAdd / QLinearMul, with broadcasting and an absent zero point.
    for op in ("QLinearAdd", "QLinearMul"):
        for dtype, shape_b, drop_zp in ((U8, [2, 3, 4], False),
                                        (I8, [4], False), (U8, [3, 1], True)):
            names = ["A", "A_scale", "A_zero_point", "B", "B_scale",
                     "B_zero_point", "C_scale", "C_zero_point"]
            inits = (qparams(rng, dtype, "A") + qparams(rng, dtype, "B") +
                     qparams(rng, dtype, "C"))
            if drop_zp:  # an absent C_zero_point means 0
                names.pop()
                inits = [i for i in inits if i[0] != "C_zero_point"]
            out.append(Case(
                "%s_%s_%s%s" % (op, "u8" if dtype == U8 else "i8",
                                "x".join(map(str, shape_b)),
                                "_nozp" if drop_zp else ""),
                helper.make_node(op, names, ["C"], domain=MS),
                [("A", qrand(rng, dtype, [2, 3, 4])),
                 ("B", qrand(rng, dtype, shape_b))], inits, [("C", dtype)]))
    # QLinearSigmoid / QLinearLeakyRelu.
    for op, attrs in (("QLinearSigmoid", {}), ("QLinearLeakyRelu", {"alpha": 0.1})):
        for dtype in (U8, I8):
            out.append(Case(
                "%s_%s" % (op, "u8" if dtype == U8 else "i8"),
                helper.make_node(op, ["X", "X_scale", "X_zero_point", "Y_scale",
                                      "Y_zero_point"], ["Y"], domain=MS, **attrs),
                [("X", qrand(rng, dtype, [3, 17]))],
                qparams(rng, dtype, "X") + qparams(rng, dtype, "Y"),
                [("Y", dtype)]))
    # QLinearGlobalAveragePool, NCHW and channels_last.
    for dtype, channels_last, shape in ((U8, 0, [1, 8, 5, 5]),
                                        (I8, 1, [2, 4, 4, 6]),
                                        (U8, 1, [1, 3, 7, 16])):
        out.append(Case(
            "QLinearGlobalAveragePool_%s_%s" % (
                "u8" if dtype == U8 else "i8", "nhwc" if channels_last else "nchw"),
            helper.make_node("QLinearGlobalAveragePool",
                             ["X", "x_scale", "x_zero_point", "y_scale",
                              "y_zero_point"], ["Y"], domain=MS,
                             channels_last=channels_last),
            [("X", qrand(rng, dtype, shape))],
            qparams(rng, dtype, "x") + qparams(rng, dtype, "y"), [("Y", dtype)]))
    # QLinearConcat of three inputs with their own parameters.
    for dtype, axis in ((U8, 1), (I8, -1)):
        names = ["Y_scale", "Y_zero_point"]
        inputs, inits = [], qparams(rng, dtype, "Y")
        for i, width in enumerate((2, 3, 1)):
            shape = [2, width, 5] if axis == 1 else [2, 3, width]
            names += ["X%d" % i, "X%d_scale" % i, "X%d_zero_point" % i]
            inputs.append(("X%d" % i, qrand(rng, dtype, shape)))
            inits += qparams(rng, dtype, "X%d" % i)
        out.append(Case("QLinearConcat_%s_axis%d" % ("u8" if dtype == U8 else "i8", axis),
                        helper.make_node("QLinearConcat", names, ["Y"], domain=MS,
                                         axis=axis),
                        inputs, inits, [("Y", dtype)]))
    # com.microsoft QuantizeLinear / DequantizeLinear, per-tensor and per-axis.
    for dtype in (U8, I8):
        tag = "u8" if dtype == U8 else "i8"
        x = rng.standard_normal((3, 4, 5)).astype(np.float32)
        out.append(Case("QuantizeLinear_%s" % tag,
                        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"],
                                         domain=MS),
                        [("x", x)], [("s", scalar(0.02)), ("z", scalar(3, dtype))],
                        [("y", dtype)]))
        out.append(Case("QuantizeLinear_axis_%s" % tag,
                        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"],
                                         domain=MS, axis=1),
                        [("x", x)],
                        [("s", rng.uniform(0.01, 0.05, 4).astype(np.float32)),
                         ("z", qrand(rng, dtype, [4]) // 8)], [("y", dtype)]))
        out.append(Case("DequantizeLinear_axis_%s" % tag,
                        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"],
                                         domain=MS, axis=0),
                        [("q", qrand(rng, dtype, [3, 4]))],
                        [("s", rng.uniform(0.01, 0.05, 3).astype(np.float32)),
                         ("z", qrand(rng, dtype, [3]))], [("y", F)]))
    # DynamicQuantizeMatMul: int8/uint8 B, per-tensor or per-column scales.
    for dtype, per_column, a_shape, n, bias in ((I8, False, [2, 5, 16], 8, False),
                                                (U8, True, [3, 32], 10, True),
                                                (I8, True, [4, 24], 7, True)):
        k = a_shape[-1]
        names = ["A", "B", "b_scale", "b_zero_point"] + (["bias"] if bias else [])
        b_scale = np.asarray(rng.uniform(0.005, 0.02, n) if per_column
                             else rng.uniform(0.005, 0.02), np.float32)
        b_zp = qrand(rng, dtype, [n] if per_column else []) // 16
        inits = [("B", qrand(rng, dtype, [k, n])), ("b_scale", np.asarray(b_scale)),
                 ("b_zero_point", np.asarray(b_zp))]
        if bias:
            inits.append(("bias", rng.standard_normal(n).astype(np.float32)))
        out.append(Case("DynamicQuantizeMatMul_%s_%s%s" % (
            "u8" if dtype == U8 else "i8", "col" if per_column else "tensor",
            "_bias" if bias else ""),
            helper.make_node("DynamicQuantizeMatMul", names, ["Y"], domain=MS),
            [("A", rng.standard_normal(a_shape).astype(np.float32))], inits,
            [("Y", F)]))
    # MatMulIntegerToFloat.
    for a_type, b_type, bias in ((U8, I8, True), (I8, I8, False)):
        names = ["A", "B", "a_scale", "b_scale", "a_zero_point", "b_zero_point"]
        names += ["bias"] if bias else []
        inits = [("B", qrand(rng, b_type, [16, 6])),
                 ("a_scale", scalar(0.03)),
                 ("b_scale", rng.uniform(0.01, 0.02, 6).astype(np.float32)),
                 ("a_zero_point", scalar(5, a_type)),
                 ("b_zero_point", qrand(rng, b_type, [6]) // 16)]
        if bias:
            inits.append(("bias", rng.standard_normal(6).astype(np.float32)))
        out.append(Case("MatMulIntegerToFloat_%s%s" % (
            "u8" if a_type == U8 else "i8", "_bias" if bias else ""),
            helper.make_node("MatMulIntegerToFloat", names, ["Y"], domain=MS),
            [("A", qrand(rng, a_type, [3, 16]))], inits, [("Y", F)]))
    # MatMulNBits: 4-bit (blocks of 32, K not a multiple of the block,
    # packed zero points or none, bias) and 8-bit.
    for bits, block, k, n, m_shape, with_zp, bias in (
            (4, 32, 64, 24, [2, 3], True, False),
            (4, 32, 80, 16, [5], False, True),
            (4, 16, 48, 9, [1], True, True),
            (8, 16, 40, 12, [4], True, False)):
        out.append(nbits_case(rng, bits, block, k, n, m_shape, with_zp, bias))
    return out


def widen(q, zero):
    """q -> y as f32, exactly (scale 1, zero point `zero` = 0): onnxruntime
    cannot hand float8/int4 tensors to numpy."""
    return helper.make_node("DequantizeLinear", [q, "one", zero], ["y"])


def exact_qdq_cases(rng):
    """ai.onnx Q/DQ forms whose results are defined bit for bit: float8 and
    4-bit conversions, blocked dequantization of int4 weights."""
    import ml_dtypes
    out = []
    f8 = {"e4m3fn": (TensorProto.FLOAT8E4M3FN, ml_dtypes.float8_e4m3fn),
          "e5m2": (TensorProto.FLOAT8E5M2, ml_dtypes.float8_e5m2)}
    for tag, (onnx_type, np_type) in f8.items():
        # Every bit pattern, as a constant.
        bits = np.arange(256, dtype=np.uint8).view(np_type)
        out.append(Case("DequantizeLinear_%s_all_bits" % tag,
                        helper.make_node("DequantizeLinear", ["q", "s"], ["y"]),
                        [], [("q", bits), ("s", scalar(0.75))], [("y", F)],
                        tol=None))
        # Ties, subnormals, values past the largest finite one, inf and NaN.
        top = float(ml_dtypes.finfo(np_type).max)
        special = [0.0, -0.0, top, -top, top * 1.03, top * 1.1, -top * 4,
                   np.inf, -np.inf, np.nan, 1e-9, -1e-9]
        small = float(ml_dtypes.finfo(np_type).smallest_subnormal)
        special += [small * k / 2 for k in range(-9, 10)]
        grid = bits.astype(np.float32)
        grid = grid[np.isfinite(grid)]
        mids = (grid[:-1] + grid[1:]) / 2  # exact ties between neighbours
        x = np.concatenate([np.array(special, np.float32), mids.astype(np.float32),
                            (rng.standard_normal(200) * top / 8).astype(np.float32)])
        for saturate in (1, 0):
            out.append(Case("QuantizeLinear_%s_saturate%d" % (tag, saturate),
                            [helper.make_node("QuantizeLinear", ["x", "s", "z"],
                                              ["q"], saturate=saturate),
                             widen("q", "z")],
                            [("x", x)], [("s", scalar(0.5)),
                                         ("z", np.zeros((), np_type)),
                                         ("one", scalar(1.0))],
                            [("y", F)], tol=None))
    # float4 e2m1: every bit pattern, and rounding/saturation.
    f4 = np.arange(16, dtype=np.uint8).view(ml_dtypes.float4_e2m1fn)
    out.append(Case("DequantizeLinear_e2m1_all_bits",
                    helper.make_node("DequantizeLinear", ["q", "s"], ["y"]),
                    [], [("q", f4), ("s", scalar(1.5))], [("y", F)], tol=None,
                    opset=23))
    grid = np.unique(np.abs(f4.astype(np.float32)))
    x = np.concatenate([(grid[:-1] + grid[1:]) / 2, -(grid[:-1] + grid[1:]) / 2,
                        [7.0, -9.0, 100.0, 0.1, -0.3],
                        rng.uniform(-8, 8, 40)]).astype(np.float32)
    out.append(Case("QuantizeLinear_e2m1",
                    [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                     widen("q", "z")],
                    [("x", x)], [("s", scalar(1.0)),
                                 ("z", np.zeros((), ml_dtypes.float4_e2m1fn)),
                                 ("one", scalar(1.0))], [("y", F)], tol=None,
                    opset=23))
    # int4/uint4: rounding, saturation, per-axis and blocked parameters.
    for onnx_type, np_type, tag in ((TensorProto.INT4, ml_dtypes.int4, "int4"),
                                    (TensorProto.UINT4, ml_dtypes.uint4, "uint4")):
        x = (rng.standard_normal((6, 10)) * 6).astype(np.float32)
        x[0, :4] = [0.5, 1.5, -2.5, 100.0]
        zp = np.array([1, 0, 2], np.int8 if tag == "int4" else np.uint8)
        out.append(Case("QuantizeLinear_blocked_%s" % tag,
                        [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"],
                                          axis=0, block_size=2),
                         widen("q", "z0")],
                        [("x", x)],
                        [("s", rng.uniform(0.5, 2, (3, 10)).astype(np.float32)),
                         ("z", np.tile(zp[:, None], (1, 10)).astype(np_type)),
                         ("z0", np.zeros((), np_type)), ("one", scalar(1.0))],
                        [("y", F)], tol=None))
    # Blocked int4 weights (more than 1024 elements: not a small constant).
    w = rng.integers(-8, 8, size=(64, 40)).astype(ml_dtypes.int4)
    out.append(Case("DequantizeLinear_blocked_int4_64x40",
                    helper.make_node("DequantizeLinear", ["w", "s", "z"], ["y"],
                                     axis=1, block_size=16),
                    [], [("w", w),
                         ("s", rng.uniform(0.01, 0.1, (64, 3)).astype(np.float32)),
                         ("z", rng.integers(-2, 3, (64, 3)).astype(ml_dtypes.int4))],
                    [("y", F)], tol=None))
    # A blocked int4 weight-only matmul (the QDQ form of MatMulNBits).
    # onnxruntime's optimizer turns DQ + MatMul into MatMulNBits with int8
    # activations (rel L2 ~5e-3 off the exact result), so its reference runs
    # unoptimized.
    k, n = 256, 96
    w = rng.integers(-8, 8, size=(k, n)).astype(ml_dtypes.int4)
    out.append(Case("DequantizeLinear_blocked_int4_MatMul_256x96",
                    [helper.make_node("DequantizeLinear", ["w", "s", "z"], ["wf"],
                                      axis=0, block_size=32),
                     helper.make_node("MatMul", ["x", "wf"], ["y"])],
                    [("x", rng.standard_normal((3, k)).astype(np.float32))],
                    [("w", w),
                     ("s", rng.uniform(0.01, 0.1, (k // 32, n)).astype(np.float32)),
                     ("z", rng.integers(-2, 3, (k // 32, n)).astype(ml_dtypes.int4))],
                    [("y", F)], ort_optimize=False))
    return out


def pack_rows(values, bits):
    """[rows, count] small unsigned ints -> [rows, ceil(count*bits/8)] bytes,
    low bits first (MatMulNBits' layout)."""
    rows, count = values.shape
    per = 8 // bits
    padded = np.zeros((rows, -(-count // per) * per), np.uint8)
    padded[:, :count] = values
    out = np.zeros((rows, padded.shape[1] // per), np.uint8)
    for j in range(per):
        out |= (padded[:, j::per] << (bits * j)).astype(np.uint8)
    return out


def nbits_case(rng, bits, block, k, n, m_shape, with_zp, bias):
    blocks = -(-k // block)
    qmax = (1 << bits) - 1
    q = rng.integers(0, qmax + 1, size=(n, blocks * block)).astype(np.uint8)
    b = pack_rows(q, bits).reshape(n, blocks, block * bits // 8)
    scales = rng.uniform(0.01, 0.05, (n * blocks,)).astype(np.float32)
    names = ["A", "B", "scales", "zero_points" if with_zp else ""]
    inits = [("B", b), ("scales", scales)]
    if with_zp:
        zp = rng.integers(0, qmax + 1, size=(n, blocks)).astype(np.uint8)
        inits.append(("zero_points", pack_rows(zp, bits).reshape(-1)))
    if bias:
        names += ["", "bias"]
        inits.append(("bias", rng.standard_normal(n).astype(np.float32)))
    node = helper.make_node("MatMulNBits", names, ["Y"], domain=MS, K=k, N=n,
                            bits=bits, block_size=block)
    return Case("MatMulNBits_%dbit_b%d_k%d_n%d%s%s" % (
        bits, block, k, n, "_zp" if with_zp else "", "_bias" if bias else ""),
        node, [("A", rng.standard_normal(m_shape + [k]).astype(np.float32))],
        inits, [("Y", F)], tol=1e-4)


def qgemm_cases(rng):
    """com.microsoft QGemm: float and requantized outputs, transA/transB,
    alpha != 1, with and without the int32 bias C, per-tensor and
    per-column b_scale. onnxruntime's kernels take uint8 A (B uint8 or
    int8, Y uint8) or int8 A, B and Y."""
    out = []
    for (tag, a_t, b_t, per_column, trans_a, trans_b, alpha, bias, quant) in (
            ("u8u8_tensor_bias_q", U8, U8, False, 0, 0, 1.0, True, True),
            ("u8i8_col_transB_alpha_bias_q", U8, I8, True, 0, 1, 0.5, True, True),
            ("i8i8_col_bias_float", I8, I8, True, 0, 0, 1.0, True, False),
            ("u8i8_tensor_transA_alpha_float", U8, I8, False, 1, 0, 2.0, False,
             False),
            ("i8i8_col_transB_q", I8, I8, True, 0, 1, 1.0, False, True),
            ("u8i8_col_transAB_alpha_bias_q", U8, I8, True, 1, 1, 0.75, True,
             True)):
        m, k, n = 5, 48, 24
        a = qrand(rng, a_t, [k, m] if trans_a else [m, k])
        b = qrand(rng, b_t, [n, k] if trans_b else [k, n])
        a_scale = rng.uniform(0.01, 0.05)
        a_zp = rng.integers(-10, 10) if a_t == I8 else rng.integers(110, 140)
        b_scale = (rng.uniform(0.002, 0.01, n) if per_column
                   else rng.uniform(0.002, 0.01))
        b_zp = (qrand(rng, b_t, [n] if per_column else []) // 16
                if b_t == I8 else
                rng.integers(120, 136, [n] if per_column else []).astype(np.uint8))
        names = ["A", "a_scale", "a_zero_point", "B", "b_scale", "b_zero_point"]
        inits = [("a_scale", scalar(a_scale)), ("a_zero_point", scalar(a_zp, a_t)),
                 ("B", b), ("b_scale", np.asarray(b_scale, np.float32)),
                 ("b_zero_point", np.asarray(b_zp, NP[b_t]))]
        c = rng.integers(-3000, 3000, n).astype(np.int32)
        if bias:
            names.append("C")
            inits.append(("C", c))
        if quant:
            # y_scale from the float result's range, so the output uses
            # most of the 8-bit range without saturating everything.
            af = (a.T if trans_a else a).astype(np.float64) - a_zp
            bf = (b.T if trans_b else b).astype(np.float64) - b_zp
            y = alpha * a_scale * np.asarray(b_scale) * (af @ bf + (c if bias else 0))
            y_zp = rng.integers(-5, 5) if a_t == I8 else rng.integers(120, 136)
            if not bias:
                names.append("")
            names += ["y_scale", "y_zero_point"]
            inits += [("y_scale", scalar(np.abs(y).max() / 110)),
                      ("y_zero_point", scalar(y_zp, a_t))]
        out.append(Case("QGemm_" + tag,
                        helper.make_node("QGemm", names, ["Y"], domain=MS,
                                         alpha=alpha, transA=trans_a,
                                         transB=trans_b),
                        [("A", a)], inits, [("Y", a_t if quant else F)]))
    return out


def qlinear_add_large_cases(rng):
    """QLinearAdd over many elements (onnxruntime's vector kernel and its
    tail), same-shape and with a one-element B, scale ratios near 1 as in
    residual adds."""
    out = []
    for tag, dtype, shape_b in (("u8_64x250", U8, [64, 250]),
                                ("i8_scalarB", I8, [1])):
        names = ["A", "A_scale", "A_zero_point", "B", "B_scale",
                 "B_zero_point", "C_scale", "C_zero_point"]
        inits = (qparams(rng, dtype, "A") + qparams(rng, dtype, "B") +
                 qparams(rng, dtype, "C"))
        out.append(Case("QLinearAdd_" + tag,
                        helper.make_node("QLinearAdd", names, ["C"], domain=MS),
                        [("A", qrand(rng, dtype, [64, 250])),
                         ("B", qrand(rng, dtype, shape_b))], inits,
                        [("C", dtype)]))
    return out


def qlinear_softmax_cases(rng):
    """com.microsoft QLinearSoftmax (onnxruntime: a table of exponentials;
    sparq: dequantize -> f32 softmax -> quantize), as onnxruntime's QOperator
    quantizer writes it (opset 13 semantics, y_scale 1/256 with zero point 0
    for uint8, -128 for int8), and an inner axis."""
    out = []
    for tag, dtype, shape, axis, y_zp in (
            ("u8_attn", U8, [1, 2, 8, 16], -1, 0),
            ("i8_attn", I8, [2, 4, 33], -1, -128),
            ("u8_axis1", U8, [3, 7, 5], 1, 0)):
        x_zp = rng.integers(100, 150) if dtype == U8 else rng.integers(-20, 20)
        out.append(Case(
            "QLinearSoftmax_" + tag,
            helper.make_node("QLinearSoftmax", ["X", "X_scale", "x_zero_point",
                                                "y_scale", "y_zero_point"], ["Y"],
                             domain=MS, axis=axis, opset=13),
            [("X", qrand(rng, dtype, shape))],
            [("X_scale", scalar(rng.uniform(0.02, 0.08))),
             ("x_zero_point", scalar(x_zp, dtype)),
             ("y_scale", scalar(1.0 / 256)), ("y_zero_point", scalar(y_zp, dtype))],
            [("Y", dtype)]))
    return out


def run_case(case, work, timeout):
    """Returns (ok, detail)."""
    path = os.path.join(work, case.name + ".onnx")
    save(case.model(), path)
    feeds = dict(case.inputs)
    notes = []
    try:
        ref = harness.ort_session(path, 1, case.ort_optimize).run(None, feeds)
    except Exception as exc:
        if case.tol is not None:
            return False, "onnxruntime failed: %s" % str(exc).splitlines()[0]
        ref = None
        notes.append("(onnxruntime cannot run it: %s)" %
                     str(exc).splitlines()[0][:80])
    if case.tol is None:
        # Exact forms follow ONNX's reference implementation; onnxruntime
        # deviates in one corner (e5m2, saturate=0: past the largest finite
        # value it gives NaN where the spec says inf), noted when it does.
        from onnx.reference import ReferenceEvaluator
        spec = ReferenceEvaluator(case.model()).run(None, feeds)
        for (name, _), a, b in zip(case.outputs, spec, ref or spec):
            a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
            differ = int((~((a == b) | (np.isnan(a) & np.isnan(b)))).sum())
            if differ:
                notes.append("(onnxruntime differs from the ONNX reference on "
                             "%d elements of %s)" % (differ, name))
        ref = spec
    so = os.path.join(work, case.name + ".so")
    res = harness.run([harness.tool("sparq-compile"), path, "-o", so], timeout)
    if res.rc != 0:
        return False, "sparq-compile: %s" % res.message()
    out_dir = os.path.join(work, case.name + ".out")
    cmd = [harness.tool("sparq-run"), so, "--threads", "1", "--save-outputs",
           out_dir]
    for name, arr in case.inputs:
        npy = os.path.join(work, "%s.%s.npy" % (case.name, name))
        np.save(npy, arr)
        cmd += ["--input", "%s=%s" % (name, npy)]
    res = harness.run(cmd, timeout)
    if res.rc != 0:
        return False, "sparq-run: %s" % res.message()
    details, ok = [], True
    for i, ((name, dtype), want) in enumerate(zip(case.outputs, ref)):
        got = np.load(os.path.join(out_dir, "output_%d.npy" % i))
        if got.shape != want.shape or (case.tol is not None and
                                       got.dtype != want.dtype):
            return False, "%s: got %s %s, onnxruntime %s %s" % (
                name, got.dtype, got.shape, want.dtype, want.shape)
        if case.tol is None:
            if want.dtype.kind not in "fiub":  # ml_dtypes (float8, int4)
                want = want.astype(np.float32 if got.dtype.kind == "f"
                                   else np.int64)
            same = np.array_equal(got.astype(want.dtype), want, equal_nan=True)
            ok &= same and got.shape == want.shape
            diff = int((~((got.astype(want.dtype) == want) |
                          (np.isnan(want) if want.dtype.kind == "f" else False)))
                       .sum())
            details.append("%s exact differing=%d/%d" % (name, diff, want.size))
        elif dtype == F:
            err = harness.rel_l2(got, want)
            ok &= err <= case.tol
            details.append("%s rel_l2=%.2e (tol %.0e)" % (name, err, case.tol))
        else:
            steps = np.abs(got.astype(np.int64) - want.astype(np.int64))
            ok &= int(steps.max()) <= 1
            details.append("%s max_step=%d differing=%d/%d" % (
                name, int(steps.max()), int((steps > 0).sum()), steps.size))
    return ok, " ".join(details + notes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    args = parser.parse_args(argv)
    if harness.tools_missing("contrib-ops", 1, "sparq-compile", "sparq-run"):
        return 1
    rng = np.random.default_rng(2024)
    selected = [case for case in (cases(rng) + exact_qdq_cases(rng) +
                                  qgemm_cases(np.random.default_rng(7)) +
                                  qlinear_softmax_cases(np.random.default_rng(8)) +
                                  qlinear_add_large_cases(np.random.default_rng(9)))
                if args.filter in case.name]

    def check(case, work):
        ok, detail = run_case(case, work, args.timeout)
        return ok, "%s %s %s" % ("PASS" if ok else "FAIL", case.name, detail)

    return harness.run_suite(
        "contrib-ops", selected, check,
        lambda case, exc: "FAIL %s %s" % (case.name, harness.harness_error(exc)),
        "sparq-contrib-", args.keep)


if __name__ == "__main__":
    sys.exit(main())
