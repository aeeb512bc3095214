# Squeeze/Unsqueeze take axes as attributes before opset 13 and as inputs
# from 13; both become sparq.reshape with the resolved result type.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/opset11.onnx | FileCheck %s
# RUN: sparq-translate --import-onnx %t/opset13.onnx | FileCheck %s
# RUN: not sparq-translate --import-onnx %t/bad.onnx 2>&1 | FileCheck %s --check-prefix=BAD

# CHECK-LABEL: func.func @main
# CHECK: %[[S:.+]] = sparq.reshape %{{.*}} : tensor<1x3x1x4xf32> -> tensor<3x4xf32>
# CHECK: %[[U:.+]] = sparq.reshape %[[S]] : tensor<3x4xf32> -> tensor<3x1x4x1xf32>
# CHECK: %[[A:.+]] = sparq.reshape %{{.*}} : tensor<1x3x1x4xf32> -> tensor<3x4xf32>
# CHECK: return %[[U]], %[[A]]
# BAD: error: {{.*}}bad.onnx: node 'sq' (Squeeze): cannot squeeze dim 1 of size 3

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 1, 4])
outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
        for n in ("u", "a")]

def save_model(nodes, inits, name, opset):
    graph = helper.make_graph(nodes, "sq", [x], outs, inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
         sys.argv[1] + "/" + name)

save_model([helper.make_node("Squeeze", ["x"], ["s"], axes=[0, -2]),
            helper.make_node("Unsqueeze", ["s"], ["u"], axes=[1, -1]),
            helper.make_node("Squeeze", ["x"], ["a"])], [], "opset11.onnx", 11)
save_model([helper.make_node("Squeeze", ["x", "sq_axes"], ["s"]),
            helper.make_node("Unsqueeze", ["s", "unsq_axes"], ["u"]),
            helper.make_node("Squeeze", ["x"], ["a"])],
           [numpy_helper.from_array(np.array([0, -2], np.int64), "sq_axes"),
            numpy_helper.from_array(np.array([1, -1], np.int64), "unsq_axes")],
           "opset13.onnx", 13)
save_model([helper.make_node("Squeeze", ["x"], ["u"], name="sq", axes=[1]),
            helper.make_node("Identity", ["x"], ["a"])], [], "bad.onnx", 11)
