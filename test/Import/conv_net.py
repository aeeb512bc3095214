# A small conv net: auto_pad SAME_UPPER/SAME_LOWER/VALID become explicit
# pads, grouped conv keeps `group`, kernel_shape is optional, pooling and Gemm.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/model.onnx | FileCheck %s

# CHECK-LABEL: func.func @main(%{{.*}}: tensor<1x4x9x9xf32> {onnx.name = "x"}) -> (tensor<1x10xf32> {onnx.name = "y"})
# CHECK: %[[C0:.+]] = sparq.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : {{.*}} -> tensor<1x8x5x5xf32>
# CHECK: %[[C1:.+]] = sparq.conv %[[C0]], %{{.*}} {dilations = array<i64: 1, 1>, group = 4 : i64, pads = array<i64: 1, 0, 0, 0>, strides = array<i64: 1, 1>} : {{.*}} -> tensor<1x8x5x5xf32>
# CHECK: %[[C2:.+]] = sparq.conv %[[C1]], %{{.*}} {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : {{.*}} -> tensor<1x8x3x3xf32>
# CHECK: %[[R:.+]] = sparq.relu %[[C2]]
# CHECK: %[[P:.+]] = sparq.max_pool %[[R]] {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x8x3x3xf32> -> tensor<1x8x2x2xf32>
# CHECK: %[[G:.+]] = sparq.global_average_pool %[[P]] : tensor<1x8x2x2xf32> -> tensor<1x8x1x1xf32>
# CHECK: %[[F:.+]] = sparq.reshape %[[G]] : tensor<1x8x1x1xf32> -> tensor<1x8xf32>
# CHECK: sparq.gemm %[[F]], %{{.*}}, %{{.*}} {trans_b = true} : (tensor<1x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x10xf32>

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

rng = np.random.default_rng(0)
def init(name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

nodes = [
    helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], name="conv0",
                     auto_pad="SAME_UPPER", strides=[2, 2], kernel_shape=[3, 3]),
    helper.make_node("Conv", ["c0", "w1"], ["c1"], name="conv1",
                     auto_pad="SAME_LOWER", group=4, kernel_shape=[2, 1]),
    helper.make_node("Conv", ["c1", "w2"], ["c2"], name="conv2", auto_pad="VALID"),
    helper.make_node("Relu", ["c2"], ["r"]),
    helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2],
                     auto_pad="SAME_UPPER"),
    helper.make_node("GlobalAveragePool", ["p"], ["g"]),
    helper.make_node("Flatten", ["g"], ["f"]),
    helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], transB=1),
]
graph = helper.make_graph(
    nodes, "conv_net",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 9, 9])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    [init("w0", 8, 4, 3, 3), init("b0", 8), init("w1", 8, 2, 2, 1),
     init("w2", 8, 8, 3, 3), init("fc_w", 10, 8), init("fc_b", 10)])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     sys.argv[1] + "/model.onnx")
