# External data: location/offset/length resolved inside the model's folder,
# large tensors become dense resources over the mapped file, and every way
# of pointing outside the folder or past the file is a clean error.
# RUN: rm -rf %t && mkdir -p %t/m %t/outside && %python %s %t
# RUN: sparq-translate --import-onnx %t/m/good.onnx | FileCheck %s
# RUN: not sparq-translate --import-onnx %t/m/escape.onnx 2>&1 | FileCheck %s --check-prefix=ESCAPE
# RUN: not sparq-translate --import-onnx %t/m/absolute.onnx 2>&1 | FileCheck %s --check-prefix=ABS
# RUN: not sparq-translate --import-onnx %t/m/symlink.onnx 2>&1 | FileCheck %s --check-prefix=SYMLINK
# RUN: not sparq-translate --import-onnx %t/m/missing.onnx 2>&1 | FileCheck %s --check-prefix=MISSING
# RUN: not sparq-translate --import-onnx %t/m/range.onnx 2>&1 | FileCheck %s --check-prefix=RANGE
# RUN: not sparq-translate --import-onnx %t/m/size.onnx 2>&1 | FileCheck %s --check-prefix=SIZE

# CHECK-LABEL: func.func @main
# CHECK-DAG: sparq.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
# CHECK-DAG: sparq.constant dense_resource<w> : tensor<40x40xf32>
# ESCAPE: error: {{.*}}escape.onnx: initializer 'w': external data path '../outside/w.bin' escapes the model's folder
# ABS: error: {{.*}}absolute.onnx: initializer 'w': external data path '{{.*}}' is absolute
# SYMLINK: error: {{.*}}symlink.onnx: initializer 'w': external data path 'link.bin' escapes the model's folder
# MISSING: error: {{.*}}missing.onnx: initializer 'w': external data file 'nope.bin' does not exist
# RANGE: error: {{.*}}range.onnx: initializer 'w': external data range {{.*}} is past the end of 'data.bin'
# SIZE: error: {{.*}}size.onnx: initializer 'w': holds 8 bytes but 1600 elements of f32 need 6400

import os
import sys
import numpy as np
from onnx import TensorProto, helper, save

root = sys.argv[1]
small = np.array([1, 2, 3], np.float32).tobytes()
big = np.arange(1600, dtype=np.float32).tobytes()
with open(f"{root}/m/data.bin", "wb") as f:
    f.write(b"\0" * 16 + small + big)
with open(f"{root}/outside/w.bin", "wb") as f:
    f.write(big)
os.symlink(f"{root}/outside/w.bin", f"{root}/m/link.bin")

def ext(name, dims, location, offset=None, length=None):
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims,
                    data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", offset),
                       ("length", length)):
        if value is not None:
            entry = t.external_data.add()
            entry.key, entry.value = key, str(value)
    return t

def model(fname, inits):
    nodes = [helper.make_node("Identity", [i.name], [i.name + "_out"])
             for i in inits]
    graph = helper.make_graph(
        nodes, "ext", [],
        [helper.make_tensor_value_info(i.name + "_out", TensorProto.FLOAT,
                                       None) for i in inits], inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
         f"{root}/m/{fname}")

model("good.onnx", [ext("s", [3], "data.bin", 16, 12),
                    ext("w", [40, 40], "data.bin", 28, 6400)])
model("escape.onnx", [ext("w", [40, 40], "../outside/w.bin")])
model("absolute.onnx", [ext("w", [40, 40], f"{root}/outside/w.bin")])
model("symlink.onnx", [ext("w", [40, 40], "link.bin")])
model("missing.onnx", [ext("w", [40, 40], "nope.bin")])
model("range.onnx", [ext("w", [40, 40], "data.bin", 28, 64000)])
model("size.onnx", [ext("w", [40, 40], "data.bin", 0, 8)])
