# Node-level errors name the node (or #index when unnamed), the op type and
# the reason; op inference errors surface the same way.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: not sparq-translate --import-onnx %t/kernel.onnx 2>&1 | FileCheck %s --check-prefix=KERNEL
# RUN: not sparq-translate --import-onnx %t/perm.onnx 2>&1 | FileCheck %s --check-prefix=PERM
# RUN: not sparq-translate --import-onnx %t/attrtype.onnx 2>&1 | FileCheck %s --check-prefix=ATTRTYPE
# RUN: not sparq-translate --import-onnx %t/broadcast.onnx 2>&1 | FileCheck %s --check-prefix=BCAST
# RUN: not sparq-translate --import-onnx %t/unsupported.onnx 2>&1 | FileCheck %s --check-prefix=UNSUP
# RUN: not sparq-translate --import-onnx %t/indices.onnx 2>&1 | FileCheck %s --check-prefix=INDICES
# RUN: not sparq-translate --import-onnx %t/reshape.onnx 2>&1 | FileCheck %s --check-prefix=RESHAPE
# RUN: not sparq-translate --import-onnx %t/samepad.onnx 2>&1 | FileCheck %s --check-prefix=SAMEPAD
# RUN: not sparq-translate --import-onnx %t/axis.onnx 2>&1 | FileCheck %s --check-prefix=AXIS

# KERNEL: error: {{.*}}kernel.onnx: node 'conv_3' (Conv): kernel_shape has 3 entries but the weight has 2 spatial dims
# PERM: error: {{.*}}perm.onnx: node 't' (Transpose): perm is not a permutation of [0, 3)
# ATTRTYPE: error: {{.*}}attrtype.onnx: node 'lr' (LeakyRelu): attribute 'alpha' must be a FLOAT, got STRING
# BCAST: error: {{.*}}broadcast.onnx: node 'add' (Add): operand shapes [2,3] and [4] are not broadcast-compatible
# UNSUP: error: {{.*}}unsupported.onnx: node '#0' (NonZero): unsupported op
# INDICES: error: {{.*}}indices.onnx: node 'mp' (MaxPool): output 1 ('idx') is used but MaxPool indices are unsupported
# RESHAPE: error: {{.*}}reshape.onnx: node 'r' (Reshape): cannot reshape 6 elements into 8
# SAMEPAD: error: {{.*}}samepad.onnx: node 'c' (Conv): auto_pad SAME_UPPER needs static spatial dims
# AXIS: error: {{.*}}axis.onnx: node 'cat' (Concat): axis 2 is out of range for rank 2

import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

root = sys.argv[1]
def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)
def model(name, nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(nodes, "g", inputs, [vi(o, None) for o in outputs],
                              list(inits))
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
         f"{root}/{name}")

w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
model("kernel.onnx", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_3",
                                       kernel_shape=[3, 3, 3])],
      [vi("x", [1, 3, 8, 8])], ["y"], [w])
model("perm.onnx", [helper.make_node("Transpose", ["x"], ["y"], name="t",
                                     perm=[0, 0, 1])],
      [vi("x", [1, 2, 3])], ["y"])
model("attrtype.onnx", [helper.make_node("LeakyRelu", ["x"], ["y"], name="lr",
                                         alpha="big")],
      [vi("x", [2])], ["y"])
model("broadcast.onnx", [helper.make_node("Add", ["a", "b"], ["y"], name="add")],
      [vi("a", [2, 3]), vi("b", [4])], ["y"])
model("unsupported.onnx", [helper.make_node("NonZero", ["x"], ["y"])],
      [vi("x", [2])], ["y"])
model("indices.onnx", [helper.make_node("MaxPool", ["x"], ["y", "idx"], name="mp",
                                        kernel_shape=[2, 2])],
      [vi("x", [1, 1, 4, 4])], ["y", "idx"])
model("reshape.onnx", [helper.make_node("Reshape", ["x", "s"], ["y"], name="r")],
      [vi("x", [2, 3])], ["y"],
      [numpy_helper.from_array(np.array([2, 4], np.int64), "s")])
model("samepad.onnx", [helper.make_node("Conv", ["x", "w"], ["y"], name="c",
                                        auto_pad="SAME_UPPER")],
      [vi("x", [1, 3, "h", "w"])], ["y"], [w])
model("axis.onnx", [helper.make_node("Concat", ["x", "x"], ["y"], name="cat",
                                     axis=2)],
      [vi("x", [2, 3])], ["y"])
