"""Writes N calibration samples DIR/test_data_set_K/input_0.pb of SHAPE.

Usage: quantize_inputs.py DIR N 4x8
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

out, count, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dims = [int(d) for d in shape.split("x")]
rng = np.random.default_rng(3)
for k in range(count):
    d = os.path.join(out, "test_data_set_%d" % k)
    os.makedirs(d, exist_ok=True)
    x = rng.standard_normal(dims).astype(np.float32)
    onnx.save_tensor(numpy_helper.from_array(x), os.path.join(d, "input_0.pb"))
