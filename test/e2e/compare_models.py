#!/usr/bin/env python3
"""compare_models.py - Whole models through sparq vs onnxruntime.

For each case: generate the model into the cache (build/test-models), make
seeded random inputs, run onnxruntime (CPU, 2 intra-op threads) and sparq
(sparq-compile, then sparq-run --input ... --save-outputs), and require
||sparq - ort|| / ||ort|| <= tolerance for every output.

Prints `PASS <case> rel_l2=...` or `FAIL <case> <reason>` per case and, last,
`e2e-models: N passed, M failed`. Runs under the pip python3.
"""

import argparse
import dataclasses
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from sparq_models import harness  # noqa: E402

import numpy as np  # noqa: E402


@dataclasses.dataclass
class Case:
    name: str
    model: str                                  # model name in the cache
    seed: int = 0                               # input seed
    shapes: dict = dataclasses.field(default_factory=dict)  # pinned inputs
    flags: list = dataclasses.field(default_factory=list)   # sparq-compile flags
    # Compile-time pruning changes the weights: the reference then runs the
    # model pruned the same way by prune_onnx.py (this pattern name).
    reference_prune: str = ""


CASES = [
    Case("resnet18", "resnet18", seed=0),
    Case("resnet18_seed1", "resnet18", seed=1),
    Case("mobilenet_v2", "mobilenet_v2", seed=0),
    Case("bert_encoder", "bert_encoder", seed=0),
    Case("bert_encoder_op17", "bert_encoder_op17", seed=2),
    Case("gpt2_block", "gpt2_block", seed=0),
    Case("mlp", "mlp", seed=0),
    Case("onnx_gemm_mlp", "onnx_gemm_mlp", seed=0),
    Case("onnx_small_cnn", "onnx_small_cnn", seed=0),
    Case("onnx_external_data", "onnx_external_data", seed=0),
    Case("onnx_dynamic_batch", "onnx_dynamic_batch", seed=0),        # N -> 1
    Case("onnx_dynamic_batch_n5", "onnx_dynamic_batch", seed=3,
         shapes={"x": [5, 64]}),                                      # pinned
    # Pruned models (prune_onnx.py): sparse kernels chosen by the cost model,
    # and forced, so every sparse format runs against onnxruntime.
    Case("mlp_csr90", "mlp_csr90", seed=0),
    Case("mlp_block4x1_80", "mlp_block4x1_80", seed=0),
    Case("mlp_nm2_4_forced", "mlp_nm2_4", seed=0, flags=["--sparsity=force"]),
    Case("resnet18_csr80", "resnet18_csr80", seed=0),
    Case("resnet18_csr80_forced", "resnet18_csr80", seed=1,
         flags=["--sparsity=force"]),
    Case("bert_encoder_nm2_4_forced", "bert_encoder_nm2_4", seed=0,
         flags=["--sparsity=force"]),
    Case("bert_encoder_csr90", "bert_encoder_csr90", seed=0),
    Case("mlp_pruned_at_compile", "mlp", seed=0,
         flags=["--prune=block:8x1:0.8"], reference_prune="block8x1_80"),
]


def shape_flag(name, shape):
    return "--input-shape=%s:%s" % (name, "x".join(str(d) for d in shape))


def check_case(case, model_path, work, args):
    """Returns (ok, detail)."""
    if case.reference_prune:
        from sparq_models import prune_onnx
        reference = os.path.join(work, "reference.onnx")
        prune_onnx.prune_model(model_path, reference, case.reference_prune)
        sess = harness.ort_session(reference, args.threads, optimize=False)
    else:
        sess = harness.ort_session(model_path, args.threads, optimize=False)
    feeds = harness.make_feeds(model_path, sess, case.seed, shapes=case.shapes)
    ref = sess.run(None, feeds)

    so = os.path.join(work, case.name + ".so")
    cmd = [harness.tool("sparq-compile"), model_path, "-o", so]
    cmd += [shape_flag(n, s) for n, s in case.shapes.items()]
    cmd += case.flags
    res = harness.run(cmd, args.compile_timeout)
    if res.rc != 0:
        return False, "sparq-compile %s: %s" % (res.describe(), res.message())
    if not os.path.exists(so):
        return False, "sparq-compile exited 0 but wrote no %s" % os.path.basename(so)

    cmd = [harness.tool("sparq-run"), so, "--threads", str(args.threads)]
    for i, (name, arr) in enumerate(feeds.items()):
        path = os.path.join(work, "input_%d.npy" % i)
        np.save(path, arr)
        cmd += ["--input", "%s=%s" % (name, path)]
    out_dir = os.path.join(work, "outputs")
    os.makedirs(out_dir, exist_ok=True)
    cmd += ["--save-outputs", out_dir]
    res = harness.run(cmd, args.run_timeout)
    if res.rc != 0:
        return False, "sparq-run %s: %s" % (res.describe(), res.message())

    worst = 0.0
    names = [o.name for o in sess.get_outputs()]
    for i, (name, want) in enumerate(zip(names, ref)):
        path = os.path.join(out_dir, "output_%d.npy" % i)
        if not os.path.exists(path):
            return False, "sparq-run wrote no output_%d.npy (%s)" % (i, name)
        got = np.load(path)
        if got.shape != want.shape:
            return False, "output %d (%s): shape %s, expected %s" % (
                i, name, list(got.shape), list(want.shape))
        if got.dtype != want.dtype:
            return False, "output %d (%s): dtype %s, expected %s" % (
                i, name, got.dtype, want.dtype)
        if not np.all(np.isfinite(got)):
            return False, "output %d (%s): non-finite values" % (i, name)
        err = harness.rel_l2(got, want)
        if not err <= args.tol:
            return False, "output %d (%s): rel_l2=%.3e > %.0e" % (i, name, err, args.tol)
        worst = max(worst, err)
    return True, "rel_l2=%.3e" % worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="",
                        help="regex selecting cases (default: all); --list shows them")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--models-dir", default=harness.default_models_dir())
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile-timeout", type=float, default=600)
    parser.add_argument("--run-timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    args = parser.parse_args(argv)

    cases = [c for c in CASES if re.search(args.cases, c.name)]
    if args.list:
        for c in cases:
            print(c.name)
        return 0
    if harness.tools_missing("e2e-models", len(cases), "sparq-compile", "sparq-run"):
        return 1
    paths = harness.models_or_fail("e2e-models", len(cases), harness.ensure_models,
                                   sorted({c.model for c in cases}), args.models_dir)
    if paths is None:
        return 1

    def check(case, work):
        ok, detail = check_case(case, paths[case.model], work, args)
        return ok, "%s %s %s" % ("PASS" if ok else "FAIL", case.name, detail)

    return harness.run_suite(
        "e2e-models", cases, check,
        lambda case, exc: "FAIL %s %s" % (case.name, harness.harness_error(exc)),
        "sparq-e2e-", args.keep)


if __name__ == "__main__":
    sys.exit(main())
