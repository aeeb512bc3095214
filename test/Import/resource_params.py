# Quantization parameters stored as dense resources (initializers of more
# than 1024 values): the constant-operand readers see them (an int32
# DequantizeLinear accepts an all-zero resource zero point, and rejects a
# resource one holding a non-zero value), and per-channel scales and zero
# points are re-created as dense constants for the graph passes, while the
# quantized data itself stays a resource.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: sparq-translate --import-onnx %t/zero.onnx | FileCheck %s
# RUN: not sparq-translate --import-onnx %t/nonzero.onnx 2>&1 | FileCheck %s --check-prefix=NONZERO

# CHECK-LABEL: func.func @main
# CHECK: %[[B:.+]] = sparq.constant dense_resource<bias> : tensor<1280xi32>
# CHECK: %[[W:.+]] = sparq.constant dense_resource<w> : tensor<1280x2xi8>
# CHECK: %[[BS:.+]] = sparq.constant dense<"0x{{[0-9A-F]+}}"> : tensor<1280xf32>
# CHECK: %[[BZ:.+]] = sparq.constant dense<0> : tensor<1280xi32>
# CHECK: sparq.dequantize_linear %[[B]], %[[BS]], %[[BZ]] {axis = 0 : i64} : (tensor<1280xi32>, tensor<1280xf32>, tensor<1280xi32>) -> tensor<1280xf32>
# CHECK: %[[WS:.+]] = sparq.constant dense<"0x{{[0-9A-F]+}}"> : tensor<1280xf32>
# CHECK: %[[WZ:.+]] = sparq.constant dense<"0x{{[0-9A-F]+}}"> : tensor<1280xi8>
# CHECK: sparq.dequantize_linear %[[W]], %[[WS]], %[[WZ]] {axis = 0 : i64} : (tensor<1280x2xi8>, tensor<1280xf32>, tensor<1280xi8>) -> tensor<1280x2xf32>
# CHECK-NOT: dense_resource<bias_scale>
# CHECK-NOT: dense_resource<bias_zp>

# NONZERO: error: {{.*}}nonzero.onnx: node 'dq' (DequantizeLinear): an int32 input needs an absent or constant zero x_zero_point

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

root = sys.argv[1]
N = 1280


def init(name, array):
    return numpy_helper.from_array(array, name)


def model(name, zp):
    rng = np.random.default_rng(0)
    inits = [init("bias", np.arange(N, dtype=np.int32)),
             init("bias_scale", (rng.random(N) * 1e-3 + 1e-4).astype(np.float32)),
             init("bias_zp", zp),
             init("w", rng.integers(-100, 100, (N, 2)).astype(np.int8)),
             init("w_zp", rng.integers(-3, 3, N).astype(np.int8))]
    nodes = [helper.make_node("DequantizeLinear", ["bias", "bias_scale", "bias_zp"],
                              ["b"], name="dq", axis=0),
             helper.make_node("DequantizeLinear", ["w", "bias_scale", "w_zp"],
                              ["wf"], name="dqw", axis=0)]
    graph = helper.make_graph(
        nodes, "g", [],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, [N]),
         helper.make_tensor_value_info("wf", TensorProto.FLOAT, [N, 2])], inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]),
         f"{root}/{name}")


model("zero.onnx", np.zeros(N, np.int32))
nonzero = np.zeros(N, np.int32)
nonzero[N - 1] = 1
model("nonzero.onnx", nonzero)
