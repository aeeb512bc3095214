"""Writes small ONNX models for the compiler's lit tests.

Usage: make_model.py KIND OUT.onnx
  (KIND: mlp, sparse, dynamic, unsupported, qdq_add)
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

kind, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)


def model(nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(nodes, kind, inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    save(m, out)


if kind == "mlp":
    w = numpy_helper.from_array(rng.standard_normal((8, 16)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "b")
    model([helper.make_node("MatMul", ["x", "w"], ["mm"], name="fc"),
           helper.make_node("Add", ["mm", "b"], ["biased"], name="fc_bias"),
           helper.make_node("Relu", ["biased"], ["y"], name="fc_relu")],
          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])],
          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 16])],
          [w, b])
elif kind == "sparse":
    # 90% of a 256x128 weight zero, 16 rows per call.
    wv = rng.standard_normal((256, 128)).astype(np.float32)
    wv[rng.random(wv.shape) < 0.9] = 0.0
    w = numpy_helper.from_array(wv, "w")
    model([helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")],
          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [16, 256])],
          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [16, 128])],
          [w])
elif kind == "dynamic":
    w = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w")
    model([helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")],
          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])],
          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
          [w])
elif kind == "unsupported":
    model([helper.make_node("Relu", ["x"], ["r"], name="ok_relu"),
           helper.make_node("LSTM", ["r"], ["y"], name="the_lstm")],
          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3])],
          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3])])
elif kind == "qdq_add":
    # A QDQ residual add: two dequantized u8 inputs, Add, quantize.
    def scalar(name, value, dtype):
        return numpy_helper.from_array(np.array(value, dtype=dtype), name)
    model([helper.make_node("DequantizeLinear", ["a", "sa", "za"], ["fa"]),
           helper.make_node("DequantizeLinear", ["b", "sb", "zb"], ["fb"]),
           helper.make_node("Add", ["fa", "fb"], ["s"], name="skip_add"),
           helper.make_node("QuantizeLinear", ["s", "sy", "zy"], ["y"])],
          [helper.make_tensor_value_info("a", TensorProto.UINT8, [1, 4, 8, 8]),
           helper.make_tensor_value_info("b", TensorProto.UINT8, [1, 4, 8, 8])],
          [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 4, 8, 8])],
          [scalar("sa", 0.05, np.float32), scalar("za", 128, np.uint8),
           scalar("sb", 0.02, np.float32), scalar("zb", 0, np.uint8),
           scalar("sy", 0.06, np.float32), scalar("zy", 10, np.uint8)])
else:
    sys.exit("unknown model kind " + kind)
