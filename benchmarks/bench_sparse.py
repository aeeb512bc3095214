#!/usr/bin/env python3
"""bench_sparse.py - Pruned models: sparq sparse vs sparq dense vs onnxruntime.

For each pruned model (python/sparq_models/prune_onnx.py) it compiles the
model twice with sparq -- with sparse kernels chosen by the cost model
(--sparsity=auto) and with sparse kernels off (--sparsity=off, the dense
twin) -- and, interleaved round by round in one run, times onnxruntime
(dense kernels on the same zero-filled weights), sparq dense and sparq
sparse with the same thread count. It prints median latencies and the
ratios dense/sparse and ort/sparse, then the kernel-level table of
sparq-sparse-bench (each sparse kernel against sparq's own dense kernel at
the same shape, densities 50..5%, 1/16/128 rows) unless --no-kernels.

Speed is measured here, never asserted in tests. Runs under pip python3.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
from sparq_models import harness, prune_onnx  # noqa: E402

import numpy as np  # noqa: E402


def sparq_median(so, args, feeds_args):
    res = subprocess.run(
        [harness.tool("sparq-run"), so, "--threads", str(args.threads),
         "--bench", "--runs", str(args.runs), "--warmup", "2", "--json"]
        + feeds_args, check=True, capture_output=True, text=True)
    return float(json.loads(res.stdout.strip().splitlines()[-1])["median_ms"])


def compile_model(path, so, flags, timeout):
    res = harness.run([harness.tool("sparq-compile"), "-q", path, "-o", so,
                       "--report=" + so + ".json"] + flags, timeout)
    if res.rc != 0:
        raise RuntimeError("sparq-compile %s: %s" % (res.describe(), res.message()))
    with open(so + ".json") as f:
        layers = json.load(f)["layers"]
    return sum(l["format"] != "dense" for l in layers), len(layers)


def bench(name, path, args, work):
    sess = harness.ort_session(path, args.threads, optimize=True)
    feeds = harness.make_feeds(path, sess, seed=0)
    feeds_args = []
    for i, (n, arr) in enumerate(feeds.items()):
        p = os.path.join(work, "%s_in%d.npy" % (name, i))
        np.save(p, arr)
        feeds_args += ["--input", "%s=%s" % (n, p)]
    sparse_so = os.path.join(work, name + "_sparse.so")
    dense_so = os.path.join(work, name + "_dense.so")
    nsparse, nlayers = compile_model(path, sparse_so, ["--sparsity=auto"],
                                     args.compile_timeout)
    compile_model(path, dense_so, ["--sparsity=off"], args.compile_timeout)
    feeds_npz = os.path.join(work, name + "_feeds.npz")
    np.savez(feeds_npz, **feeds)
    del sess  # timed in fresh processes, like sparq-run
    ort_script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "ort_bench.py")
    ort, dense, sparse = [], [], []
    for _ in range(args.rounds):
        res = subprocess.run([sys.executable, ort_script, path, feeds_npz,
                              str(args.threads), str(args.runs), "2"],
                             check=True, capture_output=True, text=True)
        ort.append(float(json.loads(res.stdout.strip().splitlines()[-1])["median_ms"]))
        dense.append(sparq_median(dense_so, args, feeds_args))
        sparse.append(sparq_median(sparse_so, args, feeds_args))
    return {"model": name, "layers": "%d/%d" % (nsparse, nlayers),
            "ort_ms": statistics.median(ort), "dense_ms": statistics.median(dense),
            "sparse_ms": statistics.median(sparse)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(prune_onnx.PRUNED_MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--compile-timeout", type=float, default=900)
    parser.add_argument("--models-dir", default=harness.default_models_dir())
    parser.add_argument("--no-kernels", action="store_true",
                        help="skip the kernel-level sparq-sparse-bench table")
    args = parser.parse_args(argv)
    names = [m for m in args.models.split(",") if m]
    paths = harness.ensure_models(names, args.models_dir)
    rows = []
    with tempfile.TemporaryDirectory(prefix="sparq-bench-sparse-") as work:
        for name in names:
            print("benchmarking %s ..." % name, file=sys.stderr)
            rows.append(bench(name, paths[name], args, work))
    print("\nthreads: %d, rounds: %d x %d runs (medians; each engine's round in "
          "a fresh process: sparq-run --bench, ort_bench.py)\n" % (
              args.threads, args.rounds, args.runs))
    print("| model | sparse layers | onnxruntime ms | sparq dense ms | sparq sparse ms "
          "| dense/sparse | ort/sparse |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %s | %.3f | %.3f | %.3f | %.2fx | %.2fx |" % (
            r["model"], r["layers"], r["ort_ms"], r["dense_ms"], r["sparse_ms"],
            r["dense_ms"] / r["sparse_ms"], r["ort_ms"] / r["sparse_ms"]))
    if not args.no_kernels:
        bench_bin = harness.tool("sparq-sparse-bench")
        if os.path.exists(bench_bin):
            print("\nkernel level (sparq-sparse-bench %d):" % args.threads)
            sys.stdout.flush()
            subprocess.run([bench_bin, str(args.threads)], check=False)
        else:
            print("\n(sparq-sparse-bench not built; kernel table skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
