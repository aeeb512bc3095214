# The quantized ops: absent zero points become constant zeros of the right
# type (uint8 by default, opset 21's output_dtype), per-axis and blocked
# parameters get a normalized axis, 2/4-bit and float8 forms import, and
# unsupported forms fail with an error naming the node.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/quant.onnx | FileCheck %s
# RUN: sparq-translate --import-onnx %t/integer.onnx | FileCheck %s --check-prefix=INT
# RUN: sparq-translate --import-onnx %t/blocked.onnx | FileCheck %s --check-prefix=BLOCKED
# RUN: sparq-translate --import-onnx %t/narrow.onnx | FileCheck %s --check-prefix=NARROW
# RUN: not sparq-translate --import-onnx %t/fnuz.onnx 2>&1 | FileCheck %s --check-prefix=FNUZ
# RUN: not sparq-translate --import-onnx %t/precision.onnx 2>&1 | FileCheck %s --check-prefix=PRECISION
# RUN: not sparq-translate --import-onnx %t/badblock.onnx 2>&1 | FileCheck %s --check-prefix=BADBLOCK
# RUN: not sparq-translate --import-onnx %t/axis10.onnx 2>&1 | FileCheck %s --check-prefix=AXIS10
# RUN: not sparq-translate --import-onnx %t/int32zp.onnx 2>&1 | FileCheck %s --check-prefix=INT32ZP
# RUN: sparq-translate --import-onnx %t/float8.onnx | FileCheck %s --check-prefix=FLOAT8
# RUN: not sparq-translate --import-onnx %t/rowzp.onnx 2>&1 | FileCheck %s --check-prefix=ROWZP

# CHECK-LABEL: func.func @main
# CHECK: %[[Z:.+]] = sparq.constant dense<0> : tensor<ui8>
# CHECK: sparq.quantize_linear %{{.+}}, %{{.+}}, %[[Z]] : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
# CHECK: sparq.quantize_linear %{{.+}} {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xi8>
# CHECK: %[[Z16:.+]] = sparq.constant dense<0> : tensor<3xi16>
# CHECK: sparq.quantize_linear %{{.+}}, %{{.+}}, %[[Z16]] : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi16>) -> tensor<2x3xi16>
# CHECK: %[[Z32:.+]] = sparq.constant dense<0> : tensor<i32>
# CHECK: sparq.dequantize_linear %{{.+}}, %{{.+}}, %[[Z32]] : (tensor<4xi32>, tensor<f32>, tensor<i32>) -> tensor<4xf32>
# CHECK: sparq.dynamic_quantize_linear %{{.+}} : (tensor<2x3xf32>) -> (tensor<2x3xui8>, tensor<f32>, tensor<ui8>)

# INT-LABEL: func.func @main
# INT: %[[ZA:.+]] = sparq.constant dense<0> : tensor<ui8>
# INT: %[[ZB:.+]] = sparq.constant dense<0> : tensor<i8>
# INT: sparq.matmul_integer %{{.+}}, %{{.+}}, %[[ZA]], %[[ZB]] : (tensor<4x3xui8>, tensor<3x5xi8>, tensor<ui8>, tensor<i8>) -> tensor<4x5xi32>
# INT: sparq.conv_integer {{.+}} {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : {{.+}} -> tensor<1x2x4x4xi32>
# INT: sparq.qlinear_matmul {{.+}} -> tensor<4x5xui8>
# INT: sparq.qlinear_conv {{.+}} bias %{{.+}} {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : {{.+}} -> tensor<1x2x2x2xi8>

# BLOCKED-LABEL: func.func @main
# BLOCKED: sparq.quantize_linear %{{.+}}, %{{.+}}, %{{.+}} {block_size = 2 : i64} : (tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2xui8>) -> tensor<2x4xui8>
# BLOCKED: sparq.dequantize_linear %{{.+}}, %{{.+}}, %{{.+}} {axis = 0 : i64, block_size = 3 : i64} : (tensor<4x2xi4>, tensor<2x2xf32>, tensor<2x2xi4>) -> tensor<4x2xf32>

# 4- and 2-bit initializers are unpacked (low bits first, sign-extended);
# 4-bit graph inputs/outputs travel as i8/ui8 with a cast; float8 ones as
# f32 through a scale-1 quantize/dequantize.
# NARROW-LABEL: func.func @main
# NARROW-SAME: (%[[X:.+]]: tensor<5xi8> {onnx.name = "x"}, %[[F:.+]]: tensor<3xf32> {onnx.name = "f"}, %{{.+}}: tensor<2xf32> {onnx.name = "h"}) -> (tensor<5xui8> {onnx.name = "q"}, tensor<3xf32> {onnx.name = "qf"}, tensor<5xf32> {onnx.name = "d2"}, tensor<2xf32> {onnx.name = "q4"})
# NARROW: %[[X4:.+]] = sparq.cast %[[X]] {to = i4} : tensor<5xi8> -> tensor<5xi4>
# NARROW: %[[F8:.+]] = sparq.quantize_linear %[[F]], %{{.+}}, %{{.+}} {saturate = false} : (tensor<3xf32>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<3xf8E4M3FN>
# NARROW: sparq.constant dense<[1, -2, -1, 0, 1]> : tensor<5xi2>
# NARROW: sparq.dequantize_linear %[[X4]]
# NARROW: sparq.dequantize_linear %[[F8]]
# NARROW: %[[Q:.+]] = sparq.quantize_linear %{{.+}} : (tensor<5xf32>, tensor<f32>, tensor<ui4>) -> tensor<5xui4>
# NARROW: sparq.cast %[[Q]] {to = ui8} : tensor<5xui4> -> tensor<5xui8>
# NARROW: sparq.dequantize_linear %{{.+}}, %{{.+}}, %{{.+}} : (tensor<3xf8E4M3FN>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<3xf32>
# NARROW: sparq.dequantize_linear %{{.+}}, %{{.+}}, %{{.+}} : (tensor<2xf4E2M1FN>, tensor<f32>, tensor<f4E2M1FN>) -> tensor<2xf32>
# FNUZ: error: {{.*}}fnuz.onnx: node 'q' (QuantizeLinear): output_dtype FLOAT8E4M3FNUZ is unsupported
# PRECISION: error: {{.*}}precision.onnx: node 'q' (QuantizeLinear): precision FLOAT16 differs from the scale's type, which is unsupported
# BADBLOCK: error: {{.*}}badblock.onnx: node 'dq' (DequantizeLinear): blocked scale must have shape [3,4] (the input's, with ceil(d / 2) along axis 0), got [2,4]
# AXIS10: error: {{.*}}axis10.onnx: node 'q' (QuantizeLinear): per-axis quantization needs opset 13 or newer
# INT32ZP: error: {{.*}}int32zp.onnx: node 'dq' (DequantizeLinear): an int32 input needs an absent or constant zero x_zero_point
# FLOAT8-LABEL: func.func @main
# FLOAT8: %[[Z:.+]] = sparq.constant dense<0.000000e+00> : tensor<f8E4M3FN>
# FLOAT8: %[[Q:.+]] = sparq.quantize_linear %{{.+}}, %{{.+}}, %[[Z]] : (tensor<3xf32>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<3xf8E4M3FN>
# FLOAT8: sparq.dequantize_linear %[[Q]], %{{.+}}, %{{.+}} : (tensor<3xf8E4M3FN>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<3xf32>
# ROWZP: error: {{.*}}rowzp.onnx: node 'mm' (MatMulInteger): a per-row a_zero_point is unsupported

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

root = sys.argv[1]
F, U8, I8, I32 = TensorProto.FLOAT, TensorProto.UINT8, TensorProto.INT8, TensorProto.INT32

def vi(name, shape, dtype=F):
    return helper.make_tensor_value_info(name, dtype, shape)

def init(name, array):
    return numpy_helper.from_array(np.array(array), name)

def model(name, nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, [vi(o, None) for o in outputs],
                              list(inits))
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
         f"{root}/{name}")

model("quant.onnx", [
    helper.make_node("QuantizeLinear", ["x", "s"], ["q0"]),
    helper.make_node("QuantizeLinear", ["x", "s2", "z2"], ["q1"], axis=-2),
    helper.make_node("QuantizeLinear", ["x", "s3"], ["q2"],
                     output_dtype=TensorProto.INT16),
    helper.make_node("DequantizeLinear", ["i", "s"], ["d0"]),
    helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "ys", "yz"]),
], [vi("x", [2, 3]), vi("i", [4], I32)], ["q0", "q1", "q2", "d0", "y", "ys", "yz"],
    [init("s", np.float32(0.5)), init("s2", np.array([0.5, 2], np.float32)),
     init("z2", np.array([1, -1], np.int8)),
     init("s3", np.array([1, 2, 3], np.float32))], opset=21)

model("integer.onnx", [
    helper.make_node("MatMulInteger", ["a", "b"], ["m"]),
    helper.make_node("ConvInteger", ["x", "w", "xz"], ["c"], auto_pad="SAME_UPPER"),
    helper.make_node("QLinearMatMul", ["a", "sa", "za", "a2", "sa", "za", "sa", "za"],
                     ["qm"]),
    helper.make_node("QLinearConv", ["x", "sa", "xz", "w2", "sw", "zw", "sa", "zy", "bias"],
                     ["qc"], group=2, strides=[2, 2]),
], [vi("a", [4, 3], U8), vi("b", [3, 5], I8), vi("a2", [3, 5], U8),
    vi("x", [1, 2, 4, 4], U8), vi("w", [2, 2, 3, 3], I8)],
   ["m", "c", "qm", "qc"],
   [init("xz", np.uint8(3)), init("sa", np.float32(0.1)), init("za", np.uint8(7)),
    init("w2", np.ones((2, 1, 1, 1), np.int8)),
    init("sw", np.array([0.5, 0.25], np.float32)), init("zw", np.array([0, 1], np.int8)),
    init("zy", np.int8(-2)), init("bias", np.array([10, -10], np.int32))], opset=10)

model("blocked.onnx", [
    helper.make_node("QuantizeLinear", ["x", "s"], ["q"], name="q", axis=1,
                     block_size=2),
    helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["d"], axis=0,
                     block_size=3)],
      [vi("x", [2, 4])], ["q", "d"],
      [init("s", np.ones((2, 2), np.float32)),
       helper.make_tensor("w", TensorProto.INT4, [4, 2], [1, -2, 3, -4, 5, -6, 7, -8]),
       init("ws", np.ones((2, 2), np.float32)),
       helper.make_tensor("wz", TensorProto.INT4, [2, 2], [0, 1, -1, 0])], opset=21)
model("narrow.onnx", [
    helper.make_node("DequantizeLinear", ["x", "s"], ["d"]),
    helper.make_node("DequantizeLinear", ["f", "s"], ["df"]),
    helper.make_node("DequantizeLinear", ["c2", "s"], ["d2"]),
    helper.make_node("QuantizeLinear", ["d", "s", "z4"], ["q"]),
    helper.make_node("QuantizeLinear", ["df", "s", "z8"], ["qf"]),
    helper.make_node("QuantizeLinear", ["h", "s", "z4f"], ["q4"])],
      [vi("x", [5], TensorProto.INT4), vi("f", [3], TensorProto.FLOAT8E4M3FN),
       vi("h", [2])],
      ["q", "qf", "d2", "q4"],
      [init("s", np.float32(0.5)),
       helper.make_tensor("z4", TensorProto.UINT4, [], [3]),
       helper.make_tensor("z8", TensorProto.FLOAT8E4M3FN, [], [0.0]),
       helper.make_tensor("c2", TensorProto.INT2, [5], [1, -2, -1, 0, 1]),
       helper.make_tensor("z4f", TensorProto.FLOAT4E2M1, [], [0.0])],
      opset=25)
model("fnuz.onnx", [helper.make_node("QuantizeLinear", ["x", "s"], ["q"], name="q",
                                     output_dtype=TensorProto.FLOAT8E4M3FNUZ)],
      [vi("x", [3])], ["q"], [init("s", np.float32(1))], opset=23)
model("precision.onnx", [helper.make_node("QuantizeLinear", ["x", "s"], ["q"], name="q",
                                          precision=TensorProto.FLOAT16)],
      [vi("x", [3])], ["q"], [init("s", np.float32(1))], opset=23)
model("badblock.onnx", [helper.make_node("DequantizeLinear", ["x", "s"], ["d"],
                                         name="dq", axis=0, block_size=2)],
      [vi("x", [5, 4], I8)], ["d"], [init("s", np.ones((2, 4), np.float32))],
      opset=21)
model("axis10.onnx", [helper.make_node("QuantizeLinear", ["x", "s"], ["q"], name="q")],
      [vi("x", [2, 3])], ["q"], [init("s", np.ones(3, np.float32))], opset=10)
model("int32zp.onnx", [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["d"],
                                        name="dq")],
      [vi("x", [3], I32), vi("z", [], I32)], ["d"], [init("s", np.float32(1))])
model("float8.onnx", [helper.make_node("QuantizeLinear", ["x", "s"], ["q"], name="q",
                                       output_dtype=TensorProto.FLOAT8E4M3FN)],
      [vi("x", [3])], ["q"], [init("s", np.float32(1))], opset=21)
model("rowzp.onnx", [helper.make_node("MatMulInteger", ["a", "b", "z"], ["m"], name="mm")],
      [vi("a", [4, 3], U8), vi("b", [3, 5], U8)], ["m"],
      [init("z", np.arange(4, dtype=np.uint8))], opset=10)
