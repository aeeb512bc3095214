# Malformed models fail cleanly: parse failures, a missing graph, opsets out
# of range (or newer than 21 with an op redefined since), unknown domains, undefined inputs, cycles and duplicate outputs.
# Nodes out of topological order are sorted.
# RUN: rm -rf %t && mkdir -p %t && %python %s %t
# RUN: not sparq-translate --import-onnx %t/empty.onnx 2>&1 | FileCheck %s --check-prefix=PARSE
# RUN: not sparq-translate --import-onnx %t/random.onnx 2>&1 | FileCheck %s --check-prefix=PARSE
# RUN: not sparq-translate --import-onnx %t/truncated.onnx 2>&1 | FileCheck %s --check-prefix=PARSE
# RUN: not sparq-translate --import-onnx %t/nograph.onnx 2>&1 | FileCheck %s --check-prefix=NOGRAPH
# RUN: not sparq-translate --import-onnx %t/opset29.onnx 2>&1 | FileCheck %s --check-prefix=NEWOPSET
# RUN: not sparq-translate --import-onnx %t/opset22.onnx 2>&1 | FileCheck %s --check-prefix=REDEFINED
# RUN: sparq-translate --import-onnx %t/opset28.onnx | FileCheck %s --check-prefix=UNCHANGED
# RUN: not sparq-translate --import-onnx %t/opset6.onnx 2>&1 | FileCheck %s --check-prefix=OLDOPSET
# RUN: not sparq-translate --import-onnx %t/domain.onnx 2>&1 | FileCheck %s --check-prefix=DOMAIN
# RUN: not sparq-translate --import-onnx %t/undefined.onnx 2>&1 | FileCheck %s --check-prefix=UNDEF
# RUN: not sparq-translate --import-onnx %t/cycle.onnx 2>&1 | FileCheck %s --check-prefix=CYCLE
# RUN: not sparq-translate --import-onnx %t/duplicate.onnx 2>&1 | FileCheck %s --check-prefix=DUP
# RUN: not sparq-translate --import-onnx %t/baddim.onnx 2>&1 | FileCheck %s --check-prefix=BADDIM
# RUN: not sparq-translate --import-onnx %t/overflow.onnx 2>&1 | FileCheck %s --check-prefix=OVERFLOW
# RUN: sparq-translate --import-onnx %t/unordered.onnx | FileCheck %s --check-prefix=SORTED

# PARSE: error: {{.*}}.onnx: failed to parse ONNX model
# NOGRAPH: error: {{.*}}nograph.onnx: ONNX model has no graph
# NEWOPSET: error: {{.*}}opset29.onnx: ai.onnx opset 29 is newer than sparq knows
# REDEFINED: error: {{.*}}opset22.onnx: node '#1' (Elu): ai.onnx opset 22 redefines Elu (in opset 22); sparq knows its definitions up to opset 21
# UNCHANGED-LABEL: func.func @main
# UNCHANGED: sparq.relu
# OLDOPSET: error: {{.*}}opset6.onnx: ai.onnx opset 6 is unsupported
# DOMAIN: error: {{.*}}domain.onnx: node 'custom' (Foo): unsupported op domain 'com.example'
# UNDEF: error: {{.*}}undefined.onnx: node '#1' (Relu): input 'ghost' is not defined by any node, initializer or graph input
# CYCLE: error: {{.*}}cycle.onnx: node '{{a|b}}' (Relu): the graph has a cycle through this node
# DUP: error: {{.*}}duplicate.onnx: node '#1' (Relu): output 'y' is already defined
# BADDIM: error: {{.*}}baddim.onnx: initializer 'w': dim -2 is negative
# OVERFLOW: error: {{.*}}overflow.onnx: graph input 'x' has more elements than int64 holds
# SORTED-LABEL: func.func @main
# SORTED: sparq.relu
# SORTED: sparq.neg

import os
import sys
from onnx import ModelProto, TensorProto, helper, save

root = sys.argv[1]
open(f"{root}/empty.onnx", "wb").close()
with open(f"{root}/random.onnx", "wb") as f:
    f.write(bytes((i * 7919 + 13) % 251 for i in range(4096)))

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
def model(name, nodes, opset=13, inputs=(x,), inits=(), domains=()):
    graph = helper.make_graph(nodes, "g", list(inputs), [y], list(inits))
    opsets = [helper.make_opsetid("", opset)] + [
        helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(graph, opset_imports=opsets)
    save(m, f"{root}/{name}")
    return m

good = model("good.onnx", [helper.make_node("Relu", ["x"], ["y"])])
with open(f"{root}/truncated.onnx", "wb") as f:
    f.write(good.SerializeToString()[:-7])
nograph = ModelProto(ir_version=8)
nograph.opset_import.add().version = 13
save(nograph, f"{root}/nograph.onnx")
model("opset29.onnx", [helper.make_node("Relu", ["x"], ["y"])], opset=29)
# Past opset 21, ops ONNX has not redefined since (Relu) import; redefined
# ones (Elu, opset 22) do not.
model("opset22.onnx", [helper.make_node("Relu", ["x"], ["t"]),
                       helper.make_node("Elu", ["t"], ["y"])], opset=22)
model("opset28.onnx", [helper.make_node("Relu", ["x"], ["y"])], opset=28)
model("opset6.onnx", [helper.make_node("Relu", ["x"], ["y"])], opset=6)
model("domain.onnx", [helper.make_node("Foo", ["x"], ["y"], name="custom",
                                       domain="com.example")],
      domains=["com.example"])
model("undefined.onnx", [helper.make_node("Relu", ["x"], ["t"]),
                         helper.make_node("Relu", ["ghost"], ["y"])])
model("cycle.onnx", [helper.make_node("Relu", ["t2"], ["t1"], name="a"),
                     helper.make_node("Relu", ["t1"], ["t2"], name="b"),
                     helper.make_node("Add", ["x", "t2"], ["y"], name="c")])
model("duplicate.onnx", [helper.make_node("Relu", ["x"], ["y"]),
                         helper.make_node("Relu", ["x"], ["y"])])
model("baddim.onnx", [helper.make_node("Add", ["x", "w"], ["y"])],
      inits=[TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-2])])
model("overflow.onnx", [helper.make_node("Relu", ["x"], ["y"])],
      inputs=[helper.make_tensor_value_info(
          "x", TensorProto.FLOAT, [2**40, 2**40])])
model("unordered.onnx", [helper.make_node("Neg", ["t"], ["y"]),
                         helper.make_node("Relu", ["x"], ["t"])])
