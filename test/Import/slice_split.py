# Slice normalizes ONNX's axes, negative indices, clamping (INT_MAX ends,
# negative steps) into full-rank starts/ends/steps; opset 9 uses attributes.
# Split becomes one sparq.slice per used output.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/opset13.onnx | FileCheck %s
# RUN: sparq-translate --import-onnx %t/opset9.onnx | FileCheck %s --check-prefix=OLD
# RUN: sparq-translate --import-onnx %t/split18.onnx | FileCheck %s --check-prefix=SPLIT18

# CHECK-LABEL: func.func @main
# CHECK: sparq.slice %{{.*}} {ends = array<i64: 6, 8>, starts = array<i64: 1, 0>, steps = array<i64: 2, 1>} : tensor<6x8xf32> -> tensor<3x8xf32>
# CHECK: sparq.slice %{{.*}} {ends = array<i64: 6, -1>, starts = array<i64: 0, 7>, steps = array<i64: 1, -1>} : tensor<6x8xf32> -> tensor<6x8xf32>
# CHECK: sparq.slice %{{.*}} {ends = array<i64: 2, 8>, starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<6x8xf32> -> tensor<2x8xf32>
# CHECK: sparq.slice %{{.*}} {ends = array<i64: 6, 8>, starts = array<i64: 2, 0>, steps = array<i64: 1, 1>} : tensor<6x8xf32> -> tensor<4x8xf32>
# OLD: sparq.slice %{{.*}} {ends = array<i64: 5, 8>, starts = array<i64: 0, 2>, steps = array<i64: 1, 1>} : tensor<6x8xf32> -> tensor<5x6xf32>
# OLD: sparq.slice %{{.*}} {ends = array<i64: 3, 8>, starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<6x8xf32> -> tensor<3x8xf32>
# SPLIT18-COUNT-2: sparq.slice {{.*}} -> tensor<6x3xf32>
# SPLIT18: sparq.slice {{.*}} -> tensor<6x2xf32>

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [6, 8])
def i64(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)
def save_model(nodes, inits, outs, name, opset):
    graph = helper.make_graph(
        nodes, "slice", [x],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outs],
        inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
         sys.argv[1] + "/" + name)

save_model(
    [helper.make_node("Slice", ["x", "s1", "e1", "a1", "st1"], ["y1"]),
     helper.make_node("Slice", ["x", "s2", "e2", "a2", "st2"], ["y2"]),
     helper.make_node("Split", ["x", "sizes"], ["p0", "p1"], axis=0)],
    [i64("s1", [-5]), i64("e1", [2**63 - 1]), i64("a1", [0]), i64("st1", [2]),
     i64("s2", [-1]), i64("e2", [-(2**63)]), i64("a2", [-1]), i64("st2", [-1]),
     i64("sizes", [2, 4])],
    ["y1", "y2", "p0", "p1"], "opset13.onnx", 13)
save_model(
    [helper.make_node("Slice", ["x"], ["y1"], starts=[2, -100], ends=[100, 5],
                      axes=[1, 0]),
     helper.make_node("Split", ["x"], ["p0", "p1"], axis=0)],
    [], ["y1", "p0", "p1"], "opset9.onnx", 9)
save_model(
    [helper.make_node("Split", ["x"], ["q0", "q1", "q2"], axis=1, num_outputs=3)],
    [], ["q0", "q1", "q2"], "split18.onnx", 18)
