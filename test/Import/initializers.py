# Initializers in every embedded storage form: raw_data and the typed fields
# (float_data, int32_data for narrow ints/float16/bool, int64_data,
# double_data, uint64_data). Large tensors become dense resources.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/model.onnx | FileCheck %s

# CHECK-LABEL: func.func @main
# CHECK-DAG: sparq.constant dense<[1.500000e+00, -2.000000e+00]> : tensor<2xf32>
# CHECK-DAG: sparq.constant dense<[-3, 4, 127]> : tensor<3xi8>
# CHECK-DAG: sparq.constant dense<[1.000000e+00, -2.000000e+00]> : tensor<2xf16>
# CHECK-DAG: sparq.constant dense<[true, false, true]> : tensor<3xi1>
# CHECK-DAG: sparq.constant dense<[9000000000, -1]> : tensor<2xi64>
# CHECK-DAG: sparq.constant dense<2.500000e-01> : tensor<1xf64>
# CHECK-DAG: sparq.constant dense<[7, 4000000000]> : tensor<2xui32>
# CHECK-DAG: sparq.constant dense<[200, 7]> : tensor<2xui8>
# CHECK-DAG: sparq.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
# CHECK-DAG: sparq.constant dense_resource<big> : tensor<64x32xf32>
# CHECK: dialect_resources

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

def typed(name, dtype, dims, **fields):
    t = TensorProto(name=name, data_type=dtype, dims=dims)
    for key, vals in fields.items():
        getattr(t, key).extend(vals)
    return t

inits = [
    typed("f", TensorProto.FLOAT, [2], float_data=[1.5, -2.0]),
    typed("i8", TensorProto.INT8, [3], int32_data=[-3, 4, 127]),
    typed("h", TensorProto.FLOAT16, [2], int32_data=[0x3C00, 0xC000]),
    typed("b", TensorProto.BOOL, [3], int32_data=[1, 0, 1]),
    typed("l", TensorProto.INT64, [2], int64_data=[9000000000, -1]),
    typed("d", TensorProto.DOUBLE, [1], double_data=[0.25]),
    typed("u32", TensorProto.UINT32, [2], uint64_data=[7, 4000000000]),
    typed("u8", TensorProto.UINT8, [2], int32_data=[200, 7]),
    numpy_helper.from_array(np.array([[1, 2], [3, 4]], np.float32), "raw"),
    numpy_helper.from_array(np.ones((64, 32), np.float32), "big"),
]
outs = [i.name for i in inits]
nodes = [helper.make_node("Identity", [n], [n + "_out"]) for n in outs]
graph = helper.make_graph(
    nodes, "inits", [],
    [helper.make_tensor_value_info(n + "_out", TensorProto.FLOAT, None)
     for n in outs], inits)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     sys.argv[1] + "/model.onnx")
