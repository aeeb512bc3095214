# com.microsoft (version 1) quantized ops: QLinear element ops decompose into
# dequantize -> f32 op -> quantize (QLinearAdd: onnxruntime's scale-ratio
# arithmetic), DynamicQuantizeMatMul and
# MatMulIntegerToFloat into an integer matmul scaled in f32, QGemm into
# dequantize -> gemm [-> quantize_linear], MatMulNBits
# becomes sparq.matmul_nbits; unsupported forms and other com.microsoft ops
# fail with an error naming the node.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/qlinear.onnx | FileCheck %s
# RUN: sparq-translate --import-onnx %t/matmuls.onnx | FileCheck %s --check-prefix=MM
# RUN: sparq-translate --import-onnx %t/qgemm.onnx | FileCheck %s --check-prefix=QGEMM
# RUN: not sparq-translate --import-onnx %t/qgemm_c.onnx 2>&1 | FileCheck %s --check-prefix=QGEMMC
# RUN: sparq-translate --import-onnx %t/qsoftmax.onnx | FileCheck %s --check-prefix=QSM
# RUN: not sparq-translate --import-onnx %t/qsoftmax_old.onnx 2>&1 | FileCheck %s --check-prefix=QSMOLD
# RUN: not sparq-translate --import-onnx %t/gidx.onnx 2>&1 | FileCheck %s --check-prefix=GIDX
# RUN: not sparq-translate --import-onnx %t/bits3.onnx 2>&1 | FileCheck %s --check-prefix=BITS3
# RUN: not sparq-translate --import-onnx %t/floatzp.onnx 2>&1 | FileCheck %s --check-prefix=FLOATZP
# RUN: not sparq-translate --import-onnx %t/other.onnx 2>&1 | FileCheck %s --check-prefix=OTHER
# RUN: not sparq-translate --import-onnx %t/version.onnx 2>&1 | FileCheck %s --check-prefix=VERSION

# QLinearAdd as onnxruntime computes it: fma(A, rA, fma(B, rB, fixed)) with
# rA = rB = 0.1 / 0.05 and fixed = 128 - (2 * 128 + 2 * 128), each fma in
# f64 rounded to f32, then quantized with scale 1 and zero point 0.
# CHECK-LABEL: func.func @main
# CHECK: %[[B64:.+]] = sparq.cast %arg1 {to = f64} : tensor<4xui8> -> tensor<4xf64>
# CHECK: %[[RB:.+]] = sparq.constant dense<2.000000e+00> : tensor<f64>
# CHECK: %[[FIX:.+]] = sparq.constant dense<-3.840000e+02> : tensor<f64>
# CHECK: %[[PB:.+]] = sparq.mul %[[B64]], %[[RB]]
# CHECK: %[[SB:.+]] = sparq.add %[[PB]], %[[FIX]]
# CHECK: %[[PARTB:.+]] = sparq.cast %[[SB]] {to = f32} : tensor<4xf64> -> tensor<4xf32>
# CHECK: %[[A64:.+]] = sparq.cast %arg0 {to = f64} : tensor<2x4xui8> -> tensor<2x4xf64>
# CHECK: %[[RA:.+]] = sparq.constant dense<2.000000e+00> : tensor<f64>
# CHECK: %[[PB64:.+]] = sparq.cast %[[PARTB]] {to = f64}
# CHECK: %[[PA:.+]] = sparq.mul %[[A64]], %[[RA]]
# CHECK: %[[SA:.+]] = sparq.add %[[PA]], %[[PB64]] : (tensor<2x4xf64>, tensor<4xf64>) -> tensor<2x4xf64>
# CHECK: %[[SUM:.+]] = sparq.cast %[[SA]] {to = f32} : tensor<2x4xf64> -> tensor<2x4xf32>
# CHECK: %[[Z:.+]] = sparq.constant dense<0> : tensor<ui8>
# CHECK: %[[ONE:.+]] = sparq.constant dense<1.000000e+00> : tensor<f32>
# CHECK: sparq.quantize_linear %[[SUM]], %[[ONE]], %[[Z]] : (tensor<2x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x4xui8>
# CHECK: sparq.mul
# CHECK: %[[SIG:.+]] = sparq.sigmoid
# CHECK: sparq.quantize_linear %[[SIG]]
# CHECK: sparq.leaky_relu %{{.+}} {alpha = 2.000000e-01 : f32}
# CHECK: %[[T:.+]] = sparq.transpose %{{.+}} {perm = array<i64: 0, 3, 1, 2>} : tensor<1x3x3x5xf32> -> tensor<1x5x3x3xf32>
# CHECK: %[[P:.+]] = sparq.global_average_pool %[[T]]
# CHECK: sparq.transpose %[[P]] {perm = array<i64: 0, 2, 3, 1>} : tensor<1x5x1x1xf32> -> tensor<1x1x1x5xf32>
# CHECK: sparq.concat %{{.+}}, %{{.+}} {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
# CHECK: sparq.quantize_linear %{{.+}} {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x4xi8>

# MM-LABEL: func.func @main
# MM: %[[QA:.+]], %[[QS:.+]], %[[QZ:.+]] = sparq.dynamic_quantize_linear %arg0
# MM: %[[ACC:.+]] = sparq.matmul_integer %[[QA]], %{{.+}}, %[[QZ]], %{{.+}} : (tensor<3x8xui8>, tensor<8x5xi8>, tensor<ui8>, tensor<5xi8>) -> tensor<3x5xi32>
# MM: %[[M:.+]] = sparq.mul %[[QS]], %{{.+}} : (tensor<f32>, tensor<5xf32>) -> tensor<5xf32>
# MM: %[[F:.+]] = sparq.cast %[[ACC]] {to = f32}
# MM: %[[Y:.+]] = sparq.mul %[[F]], %[[M]]
# MM: sparq.add %[[Y]], %{{.+}} : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
# MM: sparq.matmul_integer %arg1, {{.+}} -> tensor<3x5xi32>
# MM: sparq.matmul_nbits %arg0, %{{.+}}, %{{.+}} zero_points %{{.+}} bias %{{.+}} {bits = 4 : i64, block_size = 16 : i64, k = 8 : i64, n = 6 : i64} : (tensor<3x8xf32>, tensor<6x1x8xui8>, tensor<6xf32>, tensor<6xui8>, tensor<6xf32>) -> tensor<3x6xf32>

# QGemm, quantized output: transA on the 8-bit A, alpha folded into A's scale,
# B per column along dim 0 (transB), C dequantized at alpha * a_scale *
# b_scale with zero point 0, a gemm without alpha, then quantize_linear.
# QGEMM-LABEL: func.func @main
# QGEMM: %[[AS:.+]] = sparq.constant dense<5.000000e-02> : tensor<f32>
# QGEMM: %[[AT:.+]] = sparq.transpose %arg0 {perm = array<i64: 1, 0>} : tensor<4x3xui8> -> tensor<3x4xui8>
# QGEMM: %[[DA:.+]] = sparq.dequantize_linear %[[AT]], %[[AS]], %{{.+}} : (tensor<3x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<3x4xf32>
# QGEMM: %[[DB:.+]] = sparq.dequantize_linear %{{.+}} {axis = 0 : i64} : (tensor<5x4xi8>, tensor<5xf32>, tensor<5xi8>) -> tensor<5x4xf32>
# QGEMM: %[[CS:.+]] = sparq.constant dense<[5.000000e-04, 1.000000e-03, 1.500000e-03, 2.000000e-03, 0.00250000018]> : tensor<5xf32>
# QGEMM: %[[CZ:.+]] = sparq.constant dense<0> : tensor<5xi32>
# QGEMM: %[[DC:.+]] = sparq.dequantize_linear %{{.+}}, %[[CS]], %[[CZ]] {axis = 0 : i64} : (tensor<5xi32>, tensor<5xf32>, tensor<5xi32>) -> tensor<5xf32>
# QGEMM: %[[G:.+]] = sparq.gemm %[[DA]], %[[DB]], %[[DC]] {{{.*}}trans_b = true{{.*}}} : (tensor<3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<3x5xf32>
# QGEMM: sparq.quantize_linear %[[G]], {{.+}} -> tensor<3x5xi8>
# Float output: no quantize; a scalar C with a per-column scale is expanded
# (folded into a constant).
# QGEMM: %[[CE:.+]] = sparq.constant dense<3> : tensor<5xi32>
# QGEMM: sparq.dequantize_linear %[[CE]]
# QGEMM: %[[G2:.+]] = sparq.gemm
# QGEMM-NOT: sparq.quantize_linear
# QGEMM: return
# QGEMMC: error: {{.*}}qgemm_c.onnx: node 'qg' (QGemm): C must be an int32 tensor of rank 2 or less

# QSM-LABEL: func.func @main
# QSM: %[[X:.+]] = sparq.dequantize_linear %arg0, {{.+}} -> tensor<2x3x4xf32>
# QSM: %[[S:.+]] = sparq.softmax %[[X]] {axis = 1 : i64}
# QSM: sparq.quantize_linear %[[S]], {{.+}} -> tensor<2x3x4xui8>
# QSMOLD: error: {{.*}}qsoftmax_old.onnx: node 'sm' (QLinearSoftmax): opset-11 softmax semantics over several dims (axis 1 of rank 3) are unsupported

# GIDX: error: {{.*}}gidx.onnx: node 'nb' (MatMulNBits): g_idx (act-order group indices) is unsupported
# BITS3: error: {{.*}}bits3.onnx: node 'nb' (MatMulNBits): bits = 3 is unsupported (4 and 8 are)
# FLOATZP: error: {{.*}}floatzp.onnx: node 'nb' (MatMulNBits): zero_points of type f32 are unsupported (packed uint8 zero points are)
# OTHER: error: {{.*}}other.onnx: node 'attn' (Attention): unsupported op of domain 'com.microsoft'
# VERSION: error: {{.*}}version.onnx: node 'add' (QLinearAdd): domain 'com.microsoft' must be imported at version 1, got 2

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

root = sys.argv[1]
F, U8, I8 = TensorProto.FLOAT, TensorProto.UINT8, TensorProto.INT8
MS = "com.microsoft"


def vi(name, shape, dtype=F):
    return helper.make_tensor_value_info(name, dtype, shape)


def init(name, array):
    return numpy_helper.from_array(np.array(array), name)


def model(name, nodes, inputs, outputs, inits=(), ms_version=1):
    graph = helper.make_graph(nodes, "g", inputs, [vi(o, None) for o in outputs],
                              list(inits))
    save(helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 21), helper.make_opsetid(MS, ms_version)]),
        f"{root}/{name}")


params = [init("s", np.float32(0.1)), init("z", np.uint8(128)),
          init("s2", np.float32(0.05)), init("zi", np.int8(-3)),
          init("sa", np.array([0.1, 0.2], np.float32)),
          init("za", np.array([1, -1], np.int8))]
model("qlinear.onnx", [
    helper.make_node("QLinearAdd", ["a", "s", "z", "b", "s", "z", "s2", "z"], ["add"],
                     domain=MS),
    helper.make_node("QLinearMul", ["a", "s", "z", "a", "s", "z", "s2", "z"], ["mul"],
                     domain=MS),
    helper.make_node("QLinearSigmoid", ["a", "s", "z", "s2", "z"], ["sig"], domain=MS),
    helper.make_node("QLinearLeakyRelu", ["c", "s", "zi", "s2", "zi"], ["lrelu"],
                     domain=MS, alpha=0.2),
    helper.make_node("QLinearGlobalAveragePool", ["p", "s", "z", "s2", "z"], ["pool"],
                     domain=MS, channels_last=1),
    helper.make_node("QLinearConcat", ["s2", "z", "a", "s", "z", "add", "s2", "z"],
                     ["cat"], domain=MS, axis=-1),
    helper.make_node("QuantizeLinear", ["x", "sa", "za"], ["q"], domain=MS, axis=0),
], [vi("a", [2, 4], U8), vi("b", [4], U8), vi("c", [2, 4], I8),
    vi("p", [1, 3, 3, 5], U8), vi("x", [2, 4])],
   ["add", "mul", "sig", "lrelu", "pool", "cat", "q"], params)

nbits = [init("B", np.arange(48, dtype=np.uint8).reshape(6, 1, 8)),
         init("scales", np.full(6, 0.5, np.float32)),
         init("zp", np.full(6, 8, np.uint8)),
         init("bias", np.ones(6, np.float32))]
model("matmuls.onnx", [
    helper.make_node("DynamicQuantizeMatMul", ["a", "w", "ws", "wz", "bias5"], ["y0"],
                     domain=MS),
    helper.make_node("MatMulIntegerToFloat", ["q", "w", "s", "ws", "z", "wz"], ["y1"],
                     domain=MS),
    helper.make_node("MatMulNBits", ["a", "B", "scales", "zp", "", "bias"], ["y2"],
                     domain=MS, K=8, N=6, bits=4, block_size=16),
], [vi("a", [3, 8]), vi("q", [3, 8], U8)], ["y0", "y1", "y2"],
   [init("w", np.ones((8, 5), np.int8)), init("ws", np.full(5, 0.1, np.float32)),
    init("wz", np.zeros(5, np.int8)), init("bias5", np.ones(5, np.float32)),
    init("s", np.float32(0.1)), init("z", np.uint8(128))] + nbits)


def nbits_model(name, inputs=("a", "B", "scales"), **attrs):
    kw = dict(K=8, N=6, bits=4, block_size=16)
    kw.update(attrs)
    model(name, [helper.make_node("MatMulNBits", list(inputs), ["y"], name="nb",
                                  domain=MS, **kw)],
          [vi("a", [3, 8])], ["y"],
          nbits + [init("gidx", np.zeros(8, np.int32)),
                   init("fzp", np.zeros(6, np.float32))])


nbits_model("gidx.onnx", inputs=("a", "B", "scales", "", "gidx"))
nbits_model("bits3.onnx", bits=3)
nbits_model("floatzp.onnx", inputs=("a", "B", "scales", "fzp"))
model("other.onnx", [helper.make_node("Attention", ["x"], ["y"], name="attn",
                                      domain=MS)], [vi("x", [2, 4])], ["y"])
model("version.onnx", [helper.make_node(
    "QLinearAdd", ["a", "s", "z", "a", "s", "z", "s", "z"], ["y"], name="add",
    domain=MS)], [vi("a", [2], U8)], ["y"], params, ms_version=2)

qg = [init("qs", np.float32(0.1)), init("qz", np.uint8(7)),
      init("qb", np.arange(20, dtype=np.int8).reshape(5, 4)),
      init("qbs", np.linspace(0.01, 0.05, 5).astype(np.float32)),
      init("qbz", np.zeros(5, np.int8)), init("qc", np.arange(5, dtype=np.int32)),
      init("qc0", np.int32(3)), init("qys", np.float32(0.2)), init("qyz", np.int8(-1)),
      init("qcf", np.ones(5, np.float32))]
model("qgemm.onnx", [
    helper.make_node("QGemm", ["a", "qs", "qz", "qb", "qbs", "qbz", "qc", "qys", "qyz"],
                     ["y"], domain=MS, alpha=0.5, transA=1, transB=1),
    helper.make_node("QGemm", ["a2", "qs", "qz", "qb", "qbs", "qbz", "qc0"], ["yf"],
                     domain=MS, transB=1),
], [vi("a", [4, 3], U8), vi("a2", [3, 4], U8)], ["y", "yf"], qg)
model("qgemm_c.onnx", [
    helper.make_node("QGemm", ["a2", "qs", "qz", "qb", "qbs", "qbz", "qcf"], ["yf"],
                     name="qg", domain=MS, transB=1),
], [vi("a2", [3, 4], U8)], ["yf"], qg)

for name, opset in (("qsoftmax.onnx", 13), ("qsoftmax_old.onnx", 11)):
    model(name, [helper.make_node("QLinearSoftmax", ["a", "s", "z", "s2", "z"], ["y"],
                                  name="sm", domain=MS, axis=1, opset=opset)],
          [vi("a", [2, 3, 4], U8)], ["y"], params)
