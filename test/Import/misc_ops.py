# Per-opset attribute handling of Clip, Pad, Mean, Gelu and the constant
# producers (ConstantOfShape, Range).
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/opset11.onnx | FileCheck %s --check-prefix=OLD
# RUN: sparq-translate --import-onnx %t/opset20.onnx | FileCheck %s --check-prefix=NEW

# OLD-LABEL: func.func @main
# OLD: sparq.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
# OLD: sparq.pad %{{.*}} {pads = array<i64: 0, 1, 0, 2>, value = 1.500000e+00 : f64} : tensor<2x3xf32> -> tensor<2x6xf32>
# NEW-LABEL: func.func @main
# NEW-SAME: (%[[X:.+]]: tensor<2x3xf32> {onnx.name = "x"}, %[[LO:.+]]: tensor<f32>
# NEW: %[[C:.+]] = sparq.max %[[X]], %[[LO]]
# NEW: sparq.clip %[[C]] {max = 6.000000e+00 : f64} : tensor<2x3xf32>
# NEW: sparq.pad %{{.*}} {mode = "reflect", pads = array<i64: 0, 1, 0, 1>} : tensor<2x3xf32> -> tensor<2x5xf32>
# NEW: %[[S:.+]] = sparq.add %[[X]], %[[X]]
# NEW: sparq.div %[[S]], %{{.*}} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
# NEW: sparq.gelu %[[X]] {tanh_approximation = true}
# NEW-DAG: sparq.constant dense<7> : tensor<2x2xi32>
# NEW-DAG: sparq.constant dense<[1, 3, 5]> : tensor<3xi64>

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

root = sys.argv[1]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
def outs(*names):
    return [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names]
def i64(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)

graph = helper.make_graph(
    [helper.make_node("Clip", ["x"], ["c"], min=0.0, max=6.0),
     helper.make_node("Pad", ["x"], ["p"], pads=[0, 1, 0, 2], value=1.5)],
    "old", [x], outs("c", "p"))
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 10)]),
     f"{root}/opset11.onnx")

graph = helper.make_graph(
    [helper.make_node("Clip", ["x", "lo", "hi"], ["c"]),
     helper.make_node("Pad", ["x", "pads", "", "axes"], ["p"], mode="reflect"),
     helper.make_node("Mean", ["x", "x"], ["m"]),
     helper.make_node("Gelu", ["x"], ["g"], approximate="tanh"),
     helper.make_node("ConstantOfShape", ["shape"], ["k"],
                      value=numpy_helper.from_array(np.array([7], np.int32))),
     helper.make_node("Range", ["start", "limit", "delta"], ["r"])],
    "new", [x, helper.make_tensor_value_info("lo", TensorProto.FLOAT, [])],
    outs("c", "p", "m", "g", "k", "r"),
    [numpy_helper.from_array(np.array(6.0, np.float32), "hi"),
     i64("pads", [1, 1]), i64("axes", [-1]), i64("shape", [2, 2]),
     i64("start", 1), i64("limit", 6), i64("delta", 2)])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]),
     f"{root}/opset20.onnx")
