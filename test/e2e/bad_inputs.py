#!/usr/bin/env python3
"""bad_inputs.py - Malformed models must be refused cleanly by sparq-compile.

Each case writes a broken model into its own temp folder and requires that
sparq-compile
  - exits with a code in 1..123 (no signal, no abort, no timeout),
  - prints a message containing one of the case's expected substrings
    (the node name, the file name, or the reason; case-insensitive),
  - writes no output file.
Two sparq-run cases feed a wrongly shaped and a wrongly typed .npy input to
a valid compiled model and require a non-zero exit naming the input.

Prints PASS/FAIL per case and, last, `bad-inputs: N passed, M failed`.
Runs under the pip python3.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from sparq_models import harness  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

F = TensorProto.FLOAT


def vinfo(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def model_of(nodes, inputs, outputs, inits=(), opset=13, domains=()):
    graph = helper.make_graph(nodes, "bad", inputs, outputs, list(inits))
    imports = [helper.make_opsetid("", opset)] + [
        helper.make_opsetid(d, v) for d, v in domains]
    model = helper.make_model(graph, opset_imports=imports)
    model.ir_version = 8
    return model  # deliberately not checked: most of these are invalid


def weight(name, shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return numpy_helper.from_array(data, name)


def valid_model():
    """x[2,4] @ w[4,3] + b -> relu: the seed for several broken variants."""
    return model_of(
        [helper.make_node("MatMul", ["x", "w"], ["mm"], name="mm"),
         helper.make_node("Add", ["mm", "b"], ["sum"], name="add"),
         helper.make_node("Relu", ["sum"], ["y"], name="relu")],
        [vinfo("x", [2, 4])], [vinfo("y", [2, 3])],
        [weight("w", [4, 3]), weight("b", [3], 1)])


def unary(op, name, in_shape, out_shape, inits=(), extra_inputs=(), **attrs):
    node = helper.make_node(op, ["x"] + list(extra_inputs), ["y"], name=name, **attrs)
    return model_of([node], [vinfo("x", in_shape)], [vinfo("y", out_shape)], inits)


def external_model(location):
    """One initializer stored externally at `location` (16 floats)."""
    w = TensorProto(name="ext_weight", data_type=F, dims=[4, 4])
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "64")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    return model_of([helper.make_node("MatMul", ["x", "ext_weight"], ["y"], name="ext_mm")],
                    [vinfo("x", [1, 4])], [vinfo("y", [1, 4])], [w])


# Each builder takes the case folder and returns the model path to compile.
def write(folder, name, data):
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.SerializeToString())
    return path


def case_empty(d):
    return write(d, "empty.onnx", b"")


def case_truncated(d):
    model = valid_model()
    model.graph.initializer.append(weight("padding_weight", [1000], 2))
    data = model.SerializeToString()
    return write(d, "truncated.onnx", data[: len(data) * 3 // 5])


def case_random(d):
    return write(d, "random.onnx", np.random.default_rng(7).bytes(4096))


def case_missing_file(d):
    return os.path.join(d, "does_not_exist.onnx")


def case_undefined_input(d):
    m = valid_model()
    m.graph.node[1].input[1] = "ghost_tensor"
    m.graph.node[1].name = "uses_ghost"
    return write(d, "m.onnx", m)


def case_cycle(d):
    m = model_of([helper.make_node("Add", ["x", "loop_b_out"], ["loop_a_out"], name="loop_a"),
                  helper.make_node("Relu", ["loop_a_out"], ["loop_b_out"], name="loop_b"),
                  helper.make_node("Identity", ["loop_b_out"], ["y"], name="out")],
                 [vinfo("x", [2])], [vinfo("y", [2])])
    return write(d, "m.onnx", m)


def case_matmul_mismatch(d):
    return write(d, "m.onnx", unary("MatMul", "mm_mismatch", [2, 3], [2, 5],
                                    [weight("w", [4, 5])], ["w"]))


def case_add_mismatch(d):
    return write(d, "m.onnx", unary("Add", "add_mismatch", [2, 3], [2, 3],
                                    [weight("b", [4])], ["b"]))


def case_conv_negative_stride(d):
    return write(d, "m.onnx", unary("Conv", "conv_neg_stride", [1, 2, 8, 8], [1, 4, 6, 6],
                                    [weight("k", [4, 2, 3, 3])], ["k"],
                                    kernel_shape=[3, 3], strides=[-1, 1]))


def case_conv_bad_pads(d):
    return write(d, "m.onnx", unary("Conv", "conv_bad_pads", [1, 2, 8, 8], [1, 4, 8, 8],
                                    [weight("k", [4, 2, 3, 3])], ["k"],
                                    kernel_shape=[3, 3], pads=[1, 1, 1]))


def case_transpose_perm(d):
    return write(d, "m.onnx", unary("Transpose", "transpose_bad_perm", [2, 3, 4],
                                    [2, 3, 4], perm=[0, 0, 2]))


def case_huge_dim(d):
    return write(d, "m.onnx", unary("Relu", "relu_huge", [2 ** 62, 4], [2 ** 62, 4]))


def case_huge_product(d):
    # each dim fits in int64, their product does not
    return write(d, "m.onnx", unary("Relu", "relu_overflow", [2 ** 40, 2 ** 40],
                                    [2 ** 40, 2 ** 40]))


def case_negative_dim(d):
    return write(d, "m.onnx", unary("Relu", "relu_negative", [-3, 4], [-3, 4]))


def case_initializer_size(d):
    w = TensorProto(name="short_weight", data_type=F, dims=[1000], raw_data=b"\0" * 16)
    m = model_of([helper.make_node("Add", ["x", "short_weight"], ["y"], name="add_short")],
                 [vinfo("x", [1000])], [vinfo("y", [1000])], [w])
    return write(d, "m.onnx", m)


def case_unknown_opset(d):
    m = unary("Relu", "relu_opset99", [2, 2], [2, 2])
    m.opset_import[0].version = 99
    return write(d, "m.onnx", m)


def case_unknown_domain(d):
    node = helper.make_node("Frobnicate", ["x"], ["y"], name="frob_node",
                            domain="com.example.nowhere")
    m = model_of([node], [vinfo("x", [2])], [vinfo("y", [2])],
                 domains=[("com.example.nowhere", 1)])
    return write(d, "m.onnx", m)


def case_unsupported_op(d):
    return write(d, "m.onnx", unary("FooBar", "foobar_node", [2, 2], [2, 2]))


def case_missing_external(d):
    return write(d, "m.onnx", external_model("missing_weights.bin"))


def _escape_setup(d, location, target):
    """Put a real 64-byte file at target, so only the path check can refuse."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as f:
        f.write(np.ones(16, np.float32).tobytes())
    model_dir = os.path.join(d, "models", "inner")
    os.makedirs(model_dir, exist_ok=True)
    return write(model_dir, "m.onnx", external_model(location))


def case_external_parent(d):
    # d/models/inner/../../etc/passwd == d/etc/passwd, which exists
    return _escape_setup(d, "../../etc/passwd", os.path.join(d, "etc", "passwd"))


def case_external_absolute(d):
    target = os.path.join(d, "outside", "weights.bin")
    return _escape_setup(d, target, target)


def case_external_symlink(d):
    target = os.path.join(d, "outside", "weights.bin")
    path = _escape_setup(d, "link.bin", target)
    os.symlink(target, os.path.join(os.path.dirname(path), "link.bin"))
    return path


# (name, builder, any-of substrings, all-of substrings)
CASES = [
    ("empty-file", case_empty, ["empty.onnx", "empty"], []),
    ("truncated-model", case_truncated, ["truncated.onnx", "parse", "truncat"], []),
    ("random-bytes", case_random, ["random.onnx", "parse"], []),
    ("missing-model-file", case_missing_file, ["does_not_exist.onnx"], []),
    ("undefined-input", case_undefined_input, ["ghost_tensor", "uses_ghost"], []),
    ("cycle", case_cycle, ["cycle", "cyclic", "loop_a", "loop_b", "topolog"], []),
    ("matmul-shape-mismatch", case_matmul_mismatch, ["mm_mismatch"], []),
    ("add-shape-mismatch", case_add_mismatch, ["add_mismatch"], []),
    ("conv-negative-stride", case_conv_negative_stride, ["conv_neg_stride"], []),
    ("conv-wrong-pads-length", case_conv_bad_pads, ["conv_bad_pads"], []),
    ("transpose-bad-perm", case_transpose_perm, ["transpose_bad_perm"], []),
    ("dim-2^62", case_huge_dim, ["relu_huge", "overflow", "too large", "'x'", '"x"'], []),
    ("dims-product-overflow", case_huge_product,
     ["relu_overflow", "overflow", "too large", "'x'", '"x"'], []),
    ("negative-dim", case_negative_dim, ["relu_negative", "negative", "'x'", '"x"'], []),
    ("initializer-size-mismatch", case_initializer_size, ["short_weight"], []),
    ("unknown-opset-99", case_unknown_opset, ["99"], []),
    ("unknown-domain", case_unknown_domain, ["com.example.nowhere", "frob_node"], []),
    ("unsupported-op", case_unsupported_op, [], ["foobar_node", "FooBar"]),
    ("missing-external-data", case_missing_external, ["missing_weights.bin"], []),
    ("external-data-parent-escape", case_external_parent,
     ["../../etc/passwd", "outside", "escape"], []),
    ("external-data-absolute-path", case_external_absolute,
     ["weights.bin", "outside", "absolute"], []),
    ("external-data-symlink-escape", case_external_symlink,
     ["link.bin", "outside", "escape"], []),
]


def check_refusal(res, out_dir, any_of, all_of):
    """Returns (ok, what was seen)."""
    seen = "%s, message: %r" % (res.describe(), res.message()[:300])
    if res.timed_out or res.rc < 0 or res.rc >= 124:
        return False, "crash/hang: " + seen
    if res.rc == 0:
        return False, "accepted the model: " + seen
    text = (res.stdout + res.stderr).lower()
    if not text.strip():
        return False, "no message: " + seen
    if any_of and not any(s.lower() in text for s in any_of):
        return False, "message lacks any of %s: %s" % (any_of, seen)
    missing = [s for s in all_of if s.lower() not in text]
    if missing:
        return False, "message lacks %s: %s" % (missing, seen)
    leftovers = os.listdir(out_dir)
    if leftovers:
        return False, "left output files %s: %s" % (leftovers, seen)
    return True, seen


def run_compile_cases(root, args):
    results = []
    for name, build, any_of, all_of in CASES:
        if not re.search(args.cases, name):
            continue
        folder = os.path.join(root, name)
        out_dir = os.path.join(folder, "out")
        os.makedirs(out_dir)
        try:
            model = build(folder)
            res = harness.run([harness.tool("sparq-compile"), model, "-o",
                               os.path.join(out_dir, "model.so")], args.timeout)
            ok, seen = check_refusal(res, out_dir, any_of, all_of)
        except Exception as exc:
            ok, seen = False, "harness error: %s: %s" % (type(exc).__name__, exc)
        results.append((name, ok, seen))
    return results


def run_runtime_cases(root, args):
    """Wrong-shape and wrong-dtype inputs to a valid model through sparq-run."""
    cases = [("run-wrong-shape", np.ones([3, 3], np.float32)),
             ("run-wrong-dtype", np.ones([2, 4], np.float64))]
    cases = [c for c in cases if re.search(args.cases, c[0])]
    if not cases:
        return []
    folder = os.path.join(root, "runtime")
    os.makedirs(folder)
    m = valid_model()
    m.graph.input[0].name = "x_in"
    m.graph.node[0].input[0] = "x_in"
    model = write(folder, "valid.onnx", m)
    so = os.path.join(folder, "valid.so")
    res = harness.run([harness.tool("sparq-compile"), model, "-o", so], args.timeout)
    if res.rc != 0:
        why = "could not compile the valid model: %s: %s" % (res.describe(), res.message())
        return [(name, False, why) for name, _ in cases]
    results = []
    for name, array in cases:
        npy = os.path.join(folder, name + ".npy")
        np.save(npy, array)
        res = harness.run([harness.tool("sparq-run"), so, "--input", "x_in=" + npy],
                          args.timeout)
        seen = "%s, message: %r" % (res.describe(), res.message()[:300])
        if res.timed_out or res.rc < 0 or res.rc >= 124:
            results.append((name, False, "crash/hang: " + seen))
        elif res.rc == 0:
            results.append((name, False, "accepted the input: " + seen))
        elif "x_in" not in res.stdout + res.stderr:
            results.append((name, False, "message does not name input x_in: " + seen))
        else:
            results.append((name, True, seen))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help="regex selecting cases")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)

    if harness.tools_missing("bad-inputs", 1, "sparq-compile", "sparq-run"):
        return 1
    root = tempfile.mkdtemp(prefix="sparq-bad-inputs-")
    try:
        results = run_compile_cases(root, args) + run_runtime_cases(root, args)
    finally:
        if args.keep:
            print("cases kept in %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    for name, ok, seen in results:
        print("%s %s: %s" % ("PASS" if ok else "FAIL", name, seen))
    passed = sum(ok for _, ok, _ in results)
    failed = len(results) - passed
    print("bad-inputs: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
