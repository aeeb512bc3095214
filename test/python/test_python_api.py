#!/usr/bin/env python3
"""test_python_api.py - The sparq Python package against numpy.

Builds a small MatMul+Add+Relu model with onnx.helper, compiles it through
sparq.compile, and checks: numerics vs numpy, the inputs/outputs signature,
ValueError/TypeError (naming the input) for a wrong shape/dtype, and
sparq.load of a library made by sparq-compile. No pytest needed:
  PYTHONPATH=python python3 test/python/test_python_api.py
The package is taken from <repo>/python unless $SPARQ_PYTHON_DIR is set.
Last line: `python: N passed, M failed`.
"""

import os
import shutil
import sys
import tempfile
import traceback

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", ".."))
sys.path.insert(0, os.environ.get("SPARQ_PYTHON_DIR") or os.path.join(REPO, "python"))
sys.path.insert(1, os.path.join(REPO, "python"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from sparq_models import harness  # noqa: E402

IN, OUT = "features", "activations"
RNG = np.random.default_rng(0)
W = RNG.standard_normal((16, 8)).astype(np.float32)
B = RNG.standard_normal(8).astype(np.float32)


def build_model(path):
    graph = helper.make_graph(
        [helper.make_node("MatMul", [IN, "w"], ["mm"], name="mm"),
         helper.make_node("Add", ["mm", "b"], ["sum"], name="add"),
         helper.make_node("Relu", ["sum"], [OUT], name="relu")],
        "mm_add_relu",
        [helper.make_tensor_value_info(IN, TensorProto.FLOAT, [4, 16])],
        [helper.make_tensor_value_info(OUT, TensorProto.FLOAT, [4, 8])],
        [numpy_helper.from_array(W, "w"), numpy_helper.from_array(B, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def reference(x):
    return np.maximum(x @ W + B, 0)


class Context:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sparq-python-")
        self.model_path = os.path.join(self.tmp, "mm_add_relu.onnx")
        build_model(self.model_path)
        self._compiled = None

    def compiled(self):
        import sparq
        if self._compiled is None:
            self._compiled = sparq.compile(self.model_path)
        return self._compiled


def test_import(ctx):
    import sparq
    assert hasattr(sparq, "compile"), "sparq has no compile()"
    assert hasattr(sparq, "load"), "sparq has no load()"


def test_numerics(ctx):
    m = ctx.compiled()
    for seed in range(3):
        x = np.random.default_rng(seed + 10).standard_normal((4, 16)).astype(np.float32)
        outs = m(**{IN: x})
        assert isinstance(outs, list) and len(outs) == 1, "expected a list of 1 array, got %r" % (outs,)
        got = outs[0]
        assert isinstance(got, np.ndarray), type(got)
        assert got.shape == (4, 8) and got.dtype == np.float32, (got.shape, got.dtype)
        np.testing.assert_allclose(got, reference(x), rtol=1e-5, atol=1e-5)
        assert np.count_nonzero(got) > 0, "all-zero output"


def test_signature(ctx):
    m = ctx.compiled()
    assert len(m.inputs) == 1 and len(m.outputs) == 1, (m.inputs, m.outputs)
    name, dtype, shape = m.inputs[0]
    assert name == IN, name
    assert np.dtype(dtype) == np.float32, dtype
    assert list(shape) == [4, 16], shape
    name, dtype, shape = m.outputs[0]
    assert name == OUT and np.dtype(dtype) == np.float32 and list(shape) == [4, 8], m.outputs[0]


def expect_error(kinds, fn, must_name):
    try:
        fn()
    except kinds as exc:
        assert must_name in str(exc), "error does not name %r: %s" % (must_name, exc)
        return
    except Exception as exc:  # wrong kind
        raise AssertionError("expected %s, got %s: %s" % (
            "/".join(k.__name__ for k in kinds), type(exc).__name__, exc))
    raise AssertionError("no error raised")


def test_wrong_shape(ctx):
    m = ctx.compiled()
    bad = np.ones((4, 15), np.float32)
    expect_error((ValueError,), lambda: m(**{IN: bad}), IN)
    bad = np.ones((4, 16, 1), np.float32)
    expect_error((ValueError,), lambda: m(**{IN: bad}), IN)


def test_wrong_dtype(ctx):
    m = ctx.compiled()
    expect_error((TypeError,), lambda: m(**{IN: np.ones((4, 16), np.float64)}), IN)
    expect_error((TypeError,), lambda: m(**{IN: np.ones((4, 16), np.int32)}), IN)


def test_missing_input(ctx):
    m = ctx.compiled()
    expect_error((ValueError, TypeError), lambda: m(), IN)


def test_non_contiguous_input(ctx):
    m = ctx.compiled()
    x = np.random.default_rng(5).standard_normal((16, 4)).astype(np.float32).T
    assert not x.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(m(**{IN: x})[0], reference(x), rtol=1e-5, atol=1e-5)


def test_load(ctx):
    import sparq
    so = os.path.join(ctx.tmp, "loaded.so")
    res = harness.run([harness.tool("sparq-compile"), ctx.model_path, "-o", so], 300)
    assert res.rc == 0, "sparq-compile %s: %s" % (res.describe(), res.message())
    m = sparq.load(so)
    x = np.random.default_rng(3).standard_normal((4, 16)).astype(np.float32)
    np.testing.assert_allclose(m(**{IN: x})[0], reference(x), rtol=1e-5, atol=1e-5)


TESTS = [test_import, test_numerics, test_signature, test_wrong_shape,
         test_wrong_dtype, test_missing_input, test_non_contiguous_input, test_load]


def main():
    passed = failed = 0
    ctx = Context()
    try:
        for test in TESTS:
            try:
                test(ctx)
                print("PASS %s" % test.__name__)
                passed += 1
            except Exception as exc:
                print("FAIL %s: %s: %s" % (test.__name__, type(exc).__name__, exc))
                if os.environ.get("SPARQ_TEST_VERBOSE"):
                    traceback.print_exc()
                failed += 1
    finally:
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    print("python: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
