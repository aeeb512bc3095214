#!/usr/bin/env python3
"""quant_models.py - Models quantized by onnxruntime's tools: sparq vs onnxruntime.

The models come from python/sparq_models/make_quant_models.py (cached in
build/quant-models): quantize_static in QDQ and QOperator formats,
quantize_dynamic, and MatMulNBits int4. For each case: seeded random inputs
(harness.make_feeds), onnxruntime running the same quantized model (CPU,
--threads intra-op threads, ORT_ENABLE_ALL: nothing disabled), sparq
(sparq-compile, then sparq-run with the same inputs and threads), and per
output:

  rel_l2     ||sparq - ort|| / ||ort||
  max_abs    max |sparq - ort|
  steps      max |sparq - ort| in quantization steps of the model's final
             quantized tensor: the integer difference for an integer output,
             else the difference divided by the scale of the
             DequantizeLinear that produces the output (through shape-only
             ops), per axis where the scale is
  differ     the fraction of elements that are not bit-identical
  ort_spread steps between onnxruntime's own ORT_ENABLE_BASIC and
             ORT_ENABLE_ALL runs (context: how far onnxruntime's float-
             simulated QDQ path is from its integer kernels)

Pass criteria (per output):
  static (QDQ, QOperator)  integer output: bit-exact where onnxruntime's
                           math is exact, none of these models is (they
                           requantize with float scales), so steps <= 1;
                           float output of a DequantizeLinear: steps <= 1
  nbits (weight-only int4) rel_l2 <= 1e-4
  dynamic                  rel_l2 <= 1e-3: the output is float after float
                           ops (LayerNorm), so there is no final static
                           step; onnxruntime's own BASIC-vs-ALL spread on
                           these models is ~1e-4 and their quantization
                           error against fp32 is ~4e-3..5e-3
A compile or run failure fails the case with the tool's error line.

Prints a table (one row per case, as each finishes) and, last,
`quant-models: N passed, M failed`. Runs under the pip python3.
"""

import argparse
import dataclasses
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from sparq_models import harness  # noqa: E402
from sparq_models import make_quant_models as qm  # noqa: E402

import numpy as np  # noqa: E402

STEP_TOL = 1.0 + 1e-3      # a step, plus float noise of the dequantized output
NBITS_TOL = 1e-4
DYNAMIC_TOL = 1e-3


@dataclasses.dataclass
class Case:
    name: str
    model: str          # a make_quant_models name
    kind: str           # static | dynamic | nbits
    seed: int = 0


CASES = [Case(n, n, qm.kind_of(n)) for n in qm.TEST_MODELS]


# --------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------
@dataclasses.dataclass
class Row:
    name: str
    kind: str
    ok: bool = False
    rel_l2: float = None
    max_abs: float = None
    steps: float = None
    differ: float = None
    ort_spread: float = None
    detail: str = ""


FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-fA-F]+ (.+?)(?: \(/| \(build| [\w./-]+\.cpp:|$)")


def tool_error(tool, res, model_path):
    """One line: the tool's error, or for a crash the innermost frames of
    sparq's own code from the stack dump (the crash banner says nothing)."""
    if res.rc is not None and res.rc < 0:
        frames = [m.group(1) for m in map(FRAME.match, res.stderr.splitlines()) if m]
        ours = [f for f in frames if "sparq" in f or "anonymous namespace" in f]
        if ours:
            where = " <- ".join(re.sub(r"\(.*", "", f) for f in ours[:3])
            return "%s %s in %s" % (tool, res.describe(), where)
    message = res.message().replace(model_path, os.path.basename(model_path))
    return "%s %s: %s" % (tool, res.describe(), message)


def run_sparq(model_path, feeds, work, args):
    """Compile and run; returns (outputs list, None) or (None, error line)."""
    so = os.path.join(work, "model.so")
    res = harness.run([harness.tool("sparq-compile"), model_path, "-o", so],
                      args.compile_timeout)
    if res.rc != 0:
        return None, tool_error("sparq-compile", res, model_path)
    if not os.path.exists(so):
        return None, "sparq-compile exited 0 but wrote no model.so"
    cmd = [harness.tool("sparq-run"), so, "--threads", str(args.threads)]
    for i, (name, arr) in enumerate(feeds.items()):
        path = os.path.join(work, "input_%d.npy" % i)
        np.save(path, arr)
        cmd += ["--input", "%s=%s" % (name, path)]
    out_dir = os.path.join(work, "outputs")
    os.makedirs(out_dir, exist_ok=True)
    res = harness.run(cmd + ["--save-outputs", out_dir], args.run_timeout)
    if res.rc != 0:
        return None, tool_error("sparq-run", res, model_path)
    outs = []
    for i in range(len(os.listdir(out_dir))):
        path = os.path.join(out_dir, "output_%d.npy" % i)
        if not os.path.exists(path):
            break
        outs.append(np.load(path))
    return outs, None


def check_case(case, model_path, work, args):
    row = Row(case.name, case.kind)
    sess = harness.ort_session(model_path, args.threads, optimize=True)
    feeds = harness.make_feeds(model_path, sess, case.seed)
    ref = sess.run(None, feeds)
    names = [o.name for o in sess.get_outputs()]
    scales = qm.output_scales(model_path) if case.kind == "static" else {}
    if case.kind == "static" and args.ort_spread:
        basic = harness.ort_session(model_path, args.threads, optimize=False)
        spread = [qm.step_error(b, r, scales.get(n))
                  for n, b, r in zip(names, basic.run(None, feeds), ref)]
        if all(s is not None for s in spread):
            row.ort_spread = max(spread)

    got, error = run_sparq(model_path, feeds, work, args)
    if error:
        row.detail = error
        return row
    if len(got) != len(ref):
        row.detail = "sparq wrote %d outputs, expected %d" % (len(got), len(ref))
        return row

    problems = []
    row.rel_l2 = row.max_abs = row.differ = 0.0
    for i, (name, g, r) in enumerate(zip(names, got, ref)):
        if g.shape != r.shape or g.dtype != r.dtype:
            row.rel_l2 = row.max_abs = row.differ = None
            row.detail = "output %d (%s): %s %s, expected %s %s" % (
                i, name, g.dtype, list(g.shape), r.dtype, list(r.shape))
            return row
        if g.dtype.kind == "f" and not np.all(np.isfinite(g)):
            problems.append("output %d (%s): non-finite values" % (i, name))
            continue
        err = harness.rel_l2(g, r)
        row.rel_l2 = max(row.rel_l2, err)
        row.max_abs = max(row.max_abs, float(np.max(np.abs(
            g.astype(np.float64) - r.astype(np.float64)), initial=0.0)))
        row.differ = max(row.differ, float(np.mean(g != r)) if g.size else 0.0)
        if case.kind == "static":
            steps = qm.step_error(g, r, scales.get(name))
            if steps is None:
                problems.append("output %d (%s): no final quantized tensor "
                                "found to measure steps" % (i, name))
                continue
            row.steps = max(row.steps or 0.0, steps)
            if not steps <= STEP_TOL:
                problems.append("output %d (%s): %.2f steps > 1" % (i, name, steps))
        else:
            tol = NBITS_TOL if case.kind == "nbits" else DYNAMIC_TOL
            if not err <= tol:
                problems.append("output %d (%s): rel_l2 %.2e > %.0e" % (
                    i, name, err, tol))
    row.ok = not problems
    row.detail = "; ".join(problems)
    return row


# --------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------
HEADER = "%-28s %-7s %-4s %9s %9s %6s %7s %6s  %s" % (
    "case", "kind", "", "rel_l2", "max_abs", "steps", "differ", "ort+-", "detail")


def fmt(value, spec):
    return "-" if value is None else spec % value


def format_row(r):
    return "%-28s %-7s %-4s %9s %9s %6s %7s %6s  %s" % (
        r.name, r.kind, "PASS" if r.ok else "FAIL", fmt(r.rel_l2, "%.2e"),
        fmt(r.max_abs, "%.2e"), fmt(r.steps, "%.2f"),
        fmt(None if r.differ is None else 100 * r.differ, "%.2f%%"),
        fmt(r.ort_spread, "%.0f"), r.detail)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="",
                        help="regex selecting cases (default: all); --list shows them")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--models-dir", default=qm.default_out_dir())
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile-timeout", type=float, default=300)
    parser.add_argument("--run-timeout", type=float, default=120)
    parser.add_argument("--no-ort-spread", dest="ort_spread", action="store_false",
                        help="skip the onnxruntime BASIC-vs-ALL context column")
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    args = parser.parse_args(argv)

    cases = [c for c in CASES if re.search(args.cases, c.name)]
    if args.list:
        for c in cases:
            print("%-28s %s" % (c.name, c.kind))
        return 0
    if harness.tools_missing("quant-models", len(cases), "sparq-compile", "sparq-run"):
        return 1
    paths = harness.models_or_fail("quant-models", len(cases), qm.ensure_quant_models,
                                   sorted({c.model for c in cases}), args.models_dir)
    if paths is None:
        return 1

    def check(case, work):
        row = check_case(case, paths[case.model], work, args)
        return row.ok, format_row(row)

    print(HEADER, flush=True)
    return harness.run_suite(
        "quant-models", cases, check,
        lambda case, exc: format_row(Row(case.name, case.kind,
                                         detail=harness.harness_error(exc))),
        "sparq-quant-e2e-", args.keep)


if __name__ == "__main__":
    sys.exit(main())
