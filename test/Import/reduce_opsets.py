# ReduceSum takes axes as an attribute before opset 13 and as an input from
# 13; the other reductions switch at opset 18. Axes are normalized and
# sorted; empty axes reduce everything unless noop_with_empty_axes is set.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/opset11.onnx | FileCheck %s --check-prefix=ATTR
# RUN: sparq-translate --import-onnx %t/opset18.onnx | FileCheck %s --check-prefix=INPUT
# RUN: not sparq-translate --import-onnx %t/runtime_axes.onnx 2>&1 | FileCheck %s --check-prefix=RUNTIME

# ATTR-LABEL: func.func @main
# ATTR: sparq.reduce_sum %{{.*}} {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<1x3x1xf32>
# ATTR: sparq.reduce_mean %{{.*}} {axes = array<i64: 1>, keepdims = false} : tensor<2x3x4xf32> -> tensor<2x4xf32>
# ATTR: sparq.reduce_max %{{.*}} {axes = array<i64: 0, 1, 2>} : tensor<2x3x4xf32> -> tensor<1x1x1xf32>
# INPUT-LABEL: func.func @main
# INPUT: sparq.reduce_sum %{{.*}} {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<1x3x1xf32>
# INPUT: sparq.reduce_mean %{{.*}} {axes = array<i64: 1>, keepdims = false} : tensor<2x3x4xf32> -> tensor<2x4xf32>
# INPUT-NOT: sparq.reduce_max
# INPUT: return %{{.*}}, %{{.*}}, %arg0
# RUNTIME: error: {{.*}}runtime_axes.onnx: node 'rs' (ReduceSum): input 'axes' must be a constant

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])
outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
        for n in ("s", "m", "mx")]

def save_model(graph, name, opset):
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
         sys.argv[1] + "/" + name)

save_model(helper.make_graph(
    [helper.make_node("ReduceSum", ["x"], ["s"], axes=[-1, 0]),
     helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=0),
     helper.make_node("ReduceMax", ["x"], ["mx"])], "attr", [x], outs),
    "opset11.onnx", 11)

save_model(helper.make_graph(
    [helper.make_node("ReduceSum", ["x", "axes_s"], ["s"]),
     helper.make_node("ReduceMean", ["x", "axes_m"], ["m"], keepdims=0),
     helper.make_node("ReduceMax", ["x"], ["mx"], noop_with_empty_axes=1)],
    "input", [x], outs,
    [numpy_helper.from_array(np.array([2, 0], np.int64), "axes_s"),
     numpy_helper.from_array(np.array([-2], np.int64), "axes_m")]),
    "opset18.onnx", 18)

save_model(helper.make_graph(
    [helper.make_node("ReduceSum", ["x", "axes"], ["s"], name="rs")], "rt",
    [x, helper.make_tensor_value_info("axes", TensorProto.INT64, [1])],
    outs[:1]), "runtime_axes.onnx", 13)
