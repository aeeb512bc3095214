# Softmax before opset 13 coerces the input to 2-D at `axis` (emulated with
# reshapes); from opset 13 it is a plain softmax along `axis`.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/opset11.onnx | FileCheck %s --check-prefix=OLD
# RUN: sparq-translate --import-onnx %t/opset13.onnx | FileCheck %s --check-prefix=NEW
# RUN: sparq-translate --import-onnx %t/opset11_last.onnx | FileCheck %s --check-prefix=LAST

# OLD-LABEL: func.func @main
# OLD: %[[F:.+]] = sparq.reshape %{{.*}} : tensor<2x3x4xf32> -> tensor<2x12xf32>
# OLD: %[[S:.+]] = sparq.softmax %[[F]] {axis = 1 : i64} : tensor<2x12xf32> -> tensor<2x12xf32>
# OLD: %[[B:.+]] = sparq.reshape %[[S]] : tensor<2x12xf32> -> tensor<2x3x4xf32>
# OLD: sparq.log_softmax %{{.*}} {axis = 1 : i64} : tensor<2x12xf32> -> tensor<2x12xf32>
# OLD: return %[[B]], %{{.*}}
# NEW-LABEL: func.func @main
# NEW-NOT: sparq.reshape
# NEW: sparq.softmax %{{.*}} {axis = 1 : i64} : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
# NEW: sparq.log_softmax %{{.*}} {axis = 2 : i64} : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
# LAST-NOT: sparq.reshape
# LAST: sparq.softmax %{{.*}} {axis = 2 : i64} : tensor<2x3x4xf32>

import sys
from onnx import TensorProto, helper, save

def build(name, opset, axis):
    graph = helper.make_graph(
        [helper.make_node("Softmax", ["x"], ["y"], axis=axis),
         helper.make_node("LogSoftmax", ["x"], ["z"])], "softmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
         sys.argv[1] + "/" + name)

build("opset11.onnx", 11, 1)
build("opset13.onnx", 13, 1)
build("opset11_last.onnx", 11, -1)
