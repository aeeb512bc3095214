#!/usr/bin/env python3
"""gen_onnx_node_tests.py - ONNX's quantization backend node tests, offline.

Writes the node test cases of the installed onnx package (pip's onnx 1.23)
whose names start with one of PREFIXES into OUT (default
build/onnx-node-tests-quant) in the backend-test layout that sparq-run
--test-dir reads: OUT/<test>/model.onnx and test_data_set_K/{input,output}_N.pb.
The data comes from onnx's own case generators (its reference
implementation), nothing is downloaded. Runs under the pip python3.
"""

import argparse
import os
import re
import shutil
import sys
import warnings

import numpy as np

PREFIXES = ("quantizelinear", "dequantizelinear", "qlinearmatmul",
            "qlinearconv", "matmulinteger", "convinteger",
            "dynamicquantizelinear")
PATTERN = re.compile(r"^test_(%s)" % "|".join(PREFIXES))


def repo_root():
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def generate(out):
    from onnx import TensorProto, numpy_helper
    from onnx.backend.test.case import node
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = node.collect_testcases(None)
    written = []
    if os.path.isdir(out):
        shutil.rmtree(out)
    for case in cases:
        if not PATTERN.match(case.name):
            continue
        test_dir = os.path.join(out, case.name)
        os.makedirs(test_dir)
        with open(os.path.join(test_dir, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for k, (inputs, outputs) in enumerate(case.data_sets):
            data_dir = os.path.join(test_dir, "test_data_set_%d" % k)
            os.makedirs(data_dir)
            for kind, values, infos in (("input", inputs, case.model.graph.input),
                                        ("output", outputs, case.model.graph.output)):
                for j, value in enumerate(values):
                    if isinstance(value, TensorProto):
                        tensor = TensorProto()
                        tensor.CopyFrom(value)
                        tensor.name = infos[j].name
                    else:
                        tensor = numpy_helper.from_array(np.asarray(value),
                                                         infos[j].name)
                    declared = infos[j].type.tensor_type.elem_type
                    if tensor.data_type != declared:
                        raise SystemExit("%s: %s_%d has data type %d, the "
                                         "graph declares %d" % (
                                             case.name, kind, j,
                                             tensor.data_type, declared))
                    with open(os.path.join(data_dir, "%s_%d.pb" % (kind, j)),
                              "wb") as f:
                        f.write(tensor.SerializeToString())
        written.append(case.name)
    return sorted(written)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", default=os.path.join(
        repo_root(), "build", "onnx-node-tests-quant"))
    args = parser.parse_args(argv)
    names = generate(args.out)
    print("wrote %d quantization node tests to %s" % (len(names), args.out))
    return 0 if names else 1


if __name__ == "__main__":
    sys.exit(main())
