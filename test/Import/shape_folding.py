# The exporters' shape arithmetic Shape -> Gather -> Unsqueeze -> Concat ->
# Reshape folds to a static reshape when the input shape is static.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/model.onnx | FileCheck %s
# RUN: not sparq-translate --import-onnx %t/dynamic.onnx 2>&1 | FileCheck %s --check-prefix=DYN

# CHECK-LABEL: func.func @main
# CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>
# CHECK-NOT: sparq.shape
# CHECK-NOT: sparq.gather
# CHECK-NOT: sparq.concat
# CHECK: %[[R:.+]] = sparq.reshape %[[X]] : tensor<2x3x4xf32> -> tensor<2x12xf32>
# CHECK: return %[[R]]
# DYN: error: {{.*}}dynamic.onnx: node 'reshape' (Reshape): input 'shape' must be a constant

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

def build(name, dims):
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["g"], axis=0),
        helper.make_node("Unsqueeze", ["g", "axes"], ["u"]),
        helper.make_node("Concat", ["u", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape"),
    ]
    graph = helper.make_graph(
        nodes, "fold",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array(0, np.int64), "zero"),
         numpy_helper.from_array(np.array([0], np.int64), "axes"),
         numpy_helper.from_array(np.array([-1], np.int64), "minus1")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
         sys.argv[1] + "/" + name)

build("model.onnx", [2, 3, 4])
build("dynamic.onnx", ["n", 3, 4])
