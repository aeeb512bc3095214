# Compile, run through sparq-run and compare with numpy; wrong shapes are
# rejected with a message naming the input.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %S/Inputs/make_model.py mlp %t/m.onnx
# RUN: sparq-compile -q %t/m.onnx -o %t/m.so
# RUN: %python %s %t
# RUN: sparq-run %t/m.so --input x=%t/x.npy --save-outputs %t/out
# RUN: %python %s %t check | FileCheck %s
# RUN: not sparq-run %t/m.so --input x=%t/bad.npy 2>&1 | FileCheck %s --check-prefix=SHAPE

# CHECK: max abs error below 1e-5
# SHAPE: input 'x' ({{.*}}bad.npy): expected shape [4,8] but got [3,8]

import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

work = sys.argv[1]
if len(sys.argv) == 2:
    rng = np.random.default_rng(3)
    np.save(os.path.join(work, "x.npy"), rng.standard_normal((4, 8)).astype(np.float32))
    np.save(os.path.join(work, "bad.npy"), np.ones((3, 8), np.float32))
    sys.exit(0)
m = onnx.load(os.path.join(work, "m.onnx"))
w = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
x = np.load(os.path.join(work, "x.npy"))
expected = np.maximum(x @ w["w"] + w["b"], 0)
got = np.load(os.path.join(work, "out", "output_0.npy"))
err = float(np.abs(got - expected).max())
print("max abs error below 1e-5" if err < 1e-5 else "max abs error %g" % err)
