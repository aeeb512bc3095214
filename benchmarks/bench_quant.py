#!/usr/bin/env python3
"""bench_quant.py - Quantized models: sparq vs onnxruntime, and vs sparq fp32.

In one run, for each row:
  (a) onnxruntime and sparq on the same quantized model (models from
      python/sparq_models/make_quant_models.py: ResNet-18 QDQ per-channel,
      the encoder QDQ per-channel and dynamic);
  (b) sparq on the fp32 model the quantized one was made from;
  (c) weight-only int4 GEMV at batch 1: one MatMulNBits node [1,K]x[K,N]
      (K=4096, N=4096 and 11008, blocks 32 and 128, asymmetric) compiled by
      sparq, against one fp32 MatMul of the same shape compiled by sparq,
      with onnxruntime's MatMulNBits for reference.
Every engine's round runs in a fresh process (ort_bench.py, sparq-run
--bench, as bench_models.py does), with the same thread count (default 2),
and rounds are interleaved ort / sparq quantized / sparq fp32; the table
gives the medians over rounds. Accuracy is checked once per row against
onnxruntime on the same quantized model (rel_l2, and for QDQ models the max
error in steps of the final quantized tensor), so no one benchmarks a wrong
answer. A benchmark, never a test: it asserts nothing about speed.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_models  # noqa: E402  (also puts python/ on sys.path)
from sparq_models import harness  # noqa: E402
from sparq_models import make_quant_models as qm  # noqa: E402

import numpy as np  # noqa: E402

# (row label, quantized model, fp32 model)
ROWS = [
    ("resnet18 QDQ per-channel", "resnet18_qdq_pc", "resnet18"),
    ("bert_encoder QDQ per-channel", "bert_encoder_qdq_pc", "bert_encoder"),
    ("bert_encoder dynamic", "bert_encoder_dyn", "bert_encoder"),
    ("GEMV 4096x4096 int4 b32", "gemv_k4096_n4096_nb4_b32_asym", "gemv_k4096_n4096"),
    ("GEMV 4096x4096 int4 b128", "gemv_k4096_n4096_nb4_b128_asym", "gemv_k4096_n4096"),
    ("GEMV 4096x11008 int4 b32", "gemv_k4096_n11008_nb4_b32_asym", "gemv_k4096_n11008"),
    ("GEMV 4096x11008 int4 b128", "gemv_k4096_n11008_nb4_b128_asym", "gemv_k4096_n11008"),
]


def model_paths(rows):
    quant = sorted({q for _, q, _ in rows} | {f for _, _, f in rows if f in qm.GEMV_MODELS})
    paths = qm.ensure_quant_models(quant)
    paths.update(harness.ensure_models(sorted({f for _, _, f in rows
                                               if f not in qm.GEMV_MODELS})))
    return paths


def compile_model(path, so, args):
    """Returns (SparqCli or None, note)."""
    res = harness.run([harness.tool("sparq-compile"), path, "-o", so],
                      args.compile_timeout)
    if res.rc != 0:
        message = res.message().replace(path, os.path.basename(path))
        return None, "sparq-compile %s: %s" % (res.describe(), message[:160])
    return bench_models.SparqCli(so, args.threads, os.path.dirname(so)), ""


def accuracy(quant_path, names, sparq, feeds, ref):
    got = sparq.outputs(feeds)
    err = max(harness.rel_l2(g, r) for g, r in zip(got, ref))
    text = "rel_l2 %.1e" % err
    if qm.kind_of(os.path.basename(quant_path)[:-5]) == "static":
        scales = qm.output_scales(quant_path)
        steps = [qm.step_error(g, r, scales.get(o)) for o, g, r in
                 zip(names, got, ref)]
        if steps and all(s is not None for s in steps):
            text += ", %.0f step(s)" % max(steps)
    return text


def bench_row(label, quant, fp32, paths, args, work, compiled_fp32):
    row = {"model": label, "ort_ms": None, "sparq_ms": None, "fp32_ms": None,
           "accuracy": "-", "note": ""}
    quant_path = paths[quant]
    sess = harness.ort_session(quant_path, args.threads, optimize=True)
    feeds = harness.make_feeds(quant_path, sess, seed=0)
    ref = sess.run(None, feeds)
    names = [o.name for o in sess.get_outputs()]
    del sess  # its idle pool must not compete with the timed runs
    feeds_npz = os.path.join(work, quant + "_feeds.npz")
    np.savez(feeds_npz, **feeds)

    rowdir = os.path.join(work, quant)
    os.makedirs(rowdir)
    sparq, note = compile_model(quant_path, os.path.join(rowdir, "quant.so"), args)
    notes = [note] if note else []
    if sparq is not None:
        try:
            sparq.set_inputs(feeds)
            row["accuracy"] = accuracy(quant_path, names, sparq, feeds, ref)
        except Exception as exc:
            notes.append("sparq failed: %s: %s" % (type(exc).__name__, str(exc)[:120]))
            sparq = None
    if fp32 not in compiled_fp32:
        fdir = os.path.join(work, "fp32_" + fp32)
        os.makedirs(fdir)
        compiled_fp32[fp32] = compile_model(paths[fp32], os.path.join(fdir, "fp32.so"),
                                            args)
    sparq_fp32, note = compiled_fp32[fp32]
    if note:
        notes.append("fp32 " + note)
    if sparq_fp32 is not None:
        # The fp32 model has the same inputs as its quantized form.
        sparq_fp32.set_inputs(feeds)

    ort, sq, sf = [], [], []
    for _ in range(args.rounds):  # interleave so drift hits all alike
        ort.append(bench_models.ort_cli_median(quant_path, feeds_npz, args))
        if sparq is not None:
            sq += sparq.samples(feeds, args.runs, args.warmup)
        if sparq_fp32 is not None:
            sf += sparq_fp32.samples(feeds, args.runs, args.warmup)
    row["ort_ms"] = statistics.median(ort)
    row["sparq_ms"] = statistics.median(sq) if sq else None
    row["fp32_ms"] = statistics.median(sf) if sf else None
    row["note"] = "; ".join(notes)
    return row


def ratio(num, den):
    return num / den if num and den else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="",
                        help="substring filter on the row labels (default: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10, help="timed calls per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--compile-timeout", type=float, default=900)
    args = parser.parse_args(argv)

    rows = [r for r in ROWS if args.rows.lower() in r[0].lower()]
    missing = harness.missing_tools("sparq-compile", "sparq-run")
    if missing:
        print("error: tools not built: %s" % ", ".join(missing), file=sys.stderr)
        return 1
    try:
        paths = model_paths(rows)
    except RuntimeError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1

    results = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sparq-bench-quant-") as work:
        compiled_fp32 = {}
        for label, quant, fp32 in rows:
            print("benchmarking %s ..." % label, file=sys.stderr, flush=True)
            results.append(bench_row(label, quant, fp32, paths, args, work,
                                     compiled_fp32))

    fmt = bench_models.fmt
    print("\n%s" % bench_models.machine_info())
    print("threads: %d (both engines), %d interleaved rounds x %d runs, each round "
          "in a fresh process; medians; %.0fs\n" % (
              args.threads, args.rounds, args.runs, time.monotonic() - start))
    print("| model | ort ms | sparq ms | ort/sparq | sparq fp32 ms | "
          "sparq fp32/quant | accuracy vs ort | note |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["model"], fmt(r["ort_ms"], "%.3f"), fmt(r["sparq_ms"], "%.3f"),
            fmt(ratio(r["ort_ms"], r["sparq_ms"]), "%.2fx"),
            fmt(r["fp32_ms"], "%.3f"),
            fmt(ratio(r["fp32_ms"], r["sparq_ms"]), "%.2fx"),
            r["accuracy"], r["note"]))
    print("\nort/sparq > 1: sparq's quantized model is faster than onnxruntime's "
          "(same quantized model);\nsparq fp32/quant > 1: sparq's quantized model is "
          "faster than sparq's fp32 model.\nGEMV rows: ort = onnxruntime's "
          "MatMulNBits, fp32 = a plain fp32 MatMul of the same shape.")
    return 0 if all(r["sparq_ms"] is not None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
