# Symbolic dims (dim_param) import as `?` and propagate through broadcasting
# and MatMul; --input-shape and --default-dim pin them.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/model.onnx | FileCheck %s
# RUN: sparq-translate --import-onnx %t/model.onnx --default-dim=3 | FileCheck %s --check-prefix=PINNED
# RUN: sparq-translate --import-onnx %t/model.onnx --input-shape=a:5x-1x4 --default-dim=2 | FileCheck %s --check-prefix=OVERRIDE
# RUN: not sparq-translate --import-onnx %t/noshape.onnx 2>&1 | FileCheck %s --check-prefix=NOSHAPE

# CHECK-LABEL: func.func @main
# CHECK-SAME: (%[[A:.+]]: tensor<?x?x4xf32> {onnx.name = "a"}, %[[B:.+]]: tensor<1x4xf32> {onnx.name = "b"}, %[[W:.+]]: tensor<4x?xf32> {onnx.name = "w"})
# CHECK: %[[S:.+]] = sparq.add %[[A]], %[[B]] : (tensor<?x?x4xf32>, tensor<1x4xf32>) -> tensor<?x?x4xf32>
# CHECK: sparq.matmul %[[S]], %[[W]] : (tensor<?x?x4xf32>, tensor<4x?xf32>) -> tensor<?x?x?xf32>
# PINNED: sparq.matmul {{.*}} -> tensor<3x3x3xf32>
# OVERRIDE: sparq.matmul {{.*}} : (tensor<5x2x4xf32>, tensor<4x2xf32>) -> tensor<5x2x2xf32>
# NOSHAPE: error: {{.*}}noshape.onnx: graph input 'a' has no shape

import sys
from onnx import TensorProto, helper, save

def build(name, a_shape):
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["s"]),
         helper.make_node("MatMul", ["s", "w"], ["y"])], "sym",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, a_shape),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, "n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
         sys.argv[1] + "/" + name)

build("model.onnx", ["batch", "seq", 4])
build("noshape.onnx", None)
