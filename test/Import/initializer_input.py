# An initializer that is also a graph input is a graph input (its default is
# ignored); graph outputs may be graph inputs or initializers directly.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/model.onnx | FileCheck %s

# CHECK-LABEL: func.func @main
# CHECK-SAME: (%[[X:.+]]: tensor<2xf32> {onnx.name = "x"}, %[[B:.+]]: tensor<2xf32> {onnx.name = "bias"})
# CHECK-NOT: dense<[5.000000e+00, 6.000000e+00]>
# CHECK: %[[K:.+]] = sparq.constant dense<[1.000000e+00, 2.000000e+00]>
# CHECK: %[[S:.+]] = sparq.add %[[X]], %[[B]]
# CHECK: return %[[S]], %[[X]], %[[K]]

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

graph = helper.make_graph(
    [helper.make_node("Add", ["x", "bias"], ["y"])], "init_input",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("bias", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("k", TensorProto.FLOAT, [2])],
    [numpy_helper.from_array(np.array([5, 6], np.float32), "bias"),
     numpy_helper.from_array(np.array([1, 2], np.float32), "k")])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     sys.argv[1] + "/model.onnx")
