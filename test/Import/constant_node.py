# Constant nodes in each value form; sparse_value is a clean error.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/model.onnx | FileCheck %s
# RUN: not sparq-translate --import-onnx %t/sparse.onnx 2>&1 | FileCheck %s --check-prefix=SPARSE

# CHECK-LABEL: func.func @main
# CHECK-DAG: sparq.constant dense<[1, 2, 3]> : tensor<3xi32>
# CHECK-DAG: sparq.constant dense<2.500000e+00> : tensor<f32>
# CHECK-DAG: sparq.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
# CHECK-DAG: sparq.constant dense<7> : tensor<i64>
# CHECK-DAG: sparq.constant dense<[4, 5]> : tensor<2xi64>
# SPARSE: error: {{.*}}sparse.onnx: node 'sp' (Constant): sparse_value constants are unsupported

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

nodes = [
    helper.make_node("Constant", [], ["a"], value=numpy_helper.from_array(
        np.array([1, 2, 3], np.int32))),
    helper.make_node("Constant", [], ["b"], value_float=2.5),
    helper.make_node("Constant", [], ["c"], value_floats=[1.0, 2.0]),
    helper.make_node("Constant", [], ["d"], value_int=7),
    helper.make_node("Constant", [], ["e"], value_ints=[4, 5]),
]
outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
        for n in "abcde"]
graph = helper.make_graph(nodes, "consts", [], outs)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     sys.argv[1] + "/model.onnx")

sparse = helper.make_sparse_tensor(
    numpy_helper.from_array(np.array([1.0], np.float32), "v"),
    numpy_helper.from_array(np.array([0], np.int64), "i"), [4])
graph = helper.make_graph(
    [helper.make_node("Constant", [], ["s"], name="sp", sparse_value=sparse)],
    "sparse", [], [helper.make_tensor_value_info("s", TensorProto.FLOAT, None)])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     sys.argv[1] + "/sparse.onnx")
