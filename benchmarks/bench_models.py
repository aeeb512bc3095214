#!/usr/bin/env python3
"""bench_models.py - Latency of sparq vs onnxruntime on the same machine, same run.

For each model: compile it with sparq-compile, then for R rounds alternate
  onnxruntime  session.run  (intra_op=T, inter_op=1, sequential, ORT_ENABLE_ALL)
  sparq        the compiled library with T threads
K timed calls each per round after a warmup. By default (--mode cli) each
round of each engine runs in a fresh process (benchmarks/ort_bench.py and
`sparq-run --bench --json`), so neither engine's idle, spin-waiting worker
threads steal cores from the other's timed runs; --mode inproc times both in
this process (sparq through sparq.load), which penalizes whichever runs
right after the other. Prints a markdown table of median latencies and ort_ms/sparq_ms
(> 1 means sparq is faster), plus the machine and thread count. Also checks
once that both produce the same numbers (rel_l2), so no one benchmarks a
wrong answer. A benchmark, never a test: it asserts nothing about speed.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(REPO, "python"))
if os.environ.get("SPARQ_PYTHON_DIR"):  # an installed or out-of-tree package
    sys.path.insert(0, os.environ["SPARQ_PYTHON_DIR"])
from sparq_models import harness  # noqa: E402

import numpy as np  # noqa: E402

MODELS = ["resnet18", "mobilenet_v2", "bert_encoder", "gpt2_block", "mlp"]


def time_calls(fn, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


class SparqInProcess:
    def __init__(self, so, threads):
        import sparq
        try:
            self.model = sparq.load(so, threads=threads)
        except TypeError:  # a load() without a threads option
            self.model = sparq.load(so)
            print("note: sparq.load has no threads= option; using its default",
                  file=sys.stderr)

    def outputs(self, feeds):
        return self.model(**feeds)

    def samples(self, feeds, runs, warmup):
        for _ in range(warmup):
            self.model(**feeds)
        return time_calls(lambda: self.model(**feeds), runs)


class SparqCli:
    def __init__(self, so, threads, work):
        self.so, self.threads, self.work = so, threads, work
        self.args = []

    def set_inputs(self, feeds):
        self.args = []
        for i, (name, arr) in enumerate(feeds.items()):
            path = os.path.join(self.work, "bench_input_%d.npy" % i)
            np.save(path, arr)
            self.args += ["--input", "%s=%s" % (name, path)]

    def outputs(self, feeds):
        self.set_inputs(feeds)
        out = os.path.join(self.work, "bench_outputs")
        os.makedirs(out, exist_ok=True)
        subprocess.run([harness.tool("sparq-run"), self.so, "--threads",
                        str(self.threads), "--save-outputs", out] + self.args,
                       check=True, capture_output=True)
        return [np.load(os.path.join(out, f)) for f in
                sorted(os.listdir(out), key=lambda f: int(f[7:-4]))]

    def samples(self, feeds, runs, warmup):
        res = subprocess.run(
            [harness.tool("sparq-run"), self.so, "--threads", str(self.threads),
             "--bench", "--runs", str(runs), "--warmup", str(warmup), "--json"]
            + self.args, check=True, capture_output=True, text=True)
        stats = json.loads(res.stdout.strip().splitlines()[-1])
        return [float(stats["median_ms"])]  # one median per round


def ort_cli_median(path, feeds_npz, args):
    """One onnxruntime round in a fresh process (benchmarks/ort_bench.py)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "ort_bench.py")
    res = subprocess.run([sys.executable, script, path, feeds_npz,
                          str(args.threads), str(args.runs), str(args.warmup)],
                         check=True, capture_output=True, text=True)
    return float(json.loads(res.stdout.strip().splitlines()[-1])["median_ms"])


def machine_info():
    cpu = platform.processor() or "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import onnxruntime
    return "%s, %d logical cores, %s, Python %s, onnxruntime %s, numpy %s" % (
        cpu, os.cpu_count() or 0, platform.platform(), platform.python_version(),
        onnxruntime.__version__, np.__version__)


def bench_model(name, path, args, work):
    """Returns a table row dict."""
    row = {"model": name, "ort_ms": None, "sparq_ms": None, "note": ""}
    sess = harness.ort_session(path, args.threads, optimize=True)
    feeds = harness.make_feeds(path, sess, seed=0)

    so = os.path.join(work, name + ".so")
    start = time.monotonic()
    res = harness.run([harness.tool("sparq-compile"), path, "-o", so], args.compile_timeout)
    row["compile_s"] = time.monotonic() - start
    sparq = None
    if res.rc != 0:
        row["note"] = "sparq-compile %s: %s" % (res.describe(), res.message()[:120])
    else:
        try:
            if args.mode == "inproc":
                sparq = SparqInProcess(so, args.threads)
            else:
                sparq = SparqCli(so, args.threads, work)
            ref = sess.run(None, feeds)
            got = sparq.outputs(feeds)
            row["rel_l2"] = max(harness.rel_l2(g, r) for g, r in zip(got, ref))
        except Exception as exc:
            row["note"] = "sparq failed: %s: %s" % (type(exc).__name__, str(exc)[:120])
            sparq = None

    for _ in range(args.warmup):
        sess.run(None, feeds)
    ort_samples, sparq_samples = [], []
    feeds_npz = os.path.join(work, name + "_feeds.npz")
    np.savez(feeds_npz, **feeds)
    if args.mode == "cli":
        del sess  # its idle pool must not compete with sparq-run
    for _ in range(args.rounds):  # interleave so drift hits both alike
        if args.mode == "cli":
            ort_samples.append(ort_cli_median(path, feeds_npz, args))
        else:
            ort_samples += time_calls(lambda: sess.run(None, feeds), args.runs)
        if sparq is not None:
            try:
                sparq_samples += sparq.samples(feeds, args.runs, args.warmup)
            except Exception as exc:
                row["note"] = "sparq failed while timing: %s" % exc
                sparq, sparq_samples = None, []
    row["ort_ms"] = statistics.median(ort_samples)
    if sparq_samples:
        row["sparq_ms"] = statistics.median(sparq_samples)
    return row


def fmt(value, spec):
    return spec % value if value is not None else "-"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=10, help="timed calls per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--mode", choices=["inproc", "cli"], default="cli",
                        help="time sparq in this process via sparq.load (default) "
                             "or through sparq-run --bench")
    parser.add_argument("--models-dir", default=harness.default_models_dir())
    parser.add_argument("--compile-timeout", type=float, default=900)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)

    names = [n for n in args.models.split(",") if n]
    try:
        paths = harness.ensure_models(names, args.models_dir)
    except RuntimeError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    if args.mode == "inproc":
        try:
            import sparq
            sparq.load  # noqa: B018  (fail early, with a clear message)
        except (ImportError, AttributeError) as exc:
            print("note: python package unusable (%s); falling back to --mode cli"
                  % exc, file=sys.stderr)
            args.mode = "cli"

    rows = []
    with tempfile.TemporaryDirectory(prefix="sparq-bench-") as work:
        for name in names:
            print("benchmarking %s ..." % name, file=sys.stderr, flush=True)
            rows.append(bench_model(name, paths[name], args, work))

    print("\n%s" % machine_info())
    print("threads: %d, rounds: %d x %d runs, sparq timed %s\n" % (
        args.threads, args.rounds, args.runs,
        "in-process (sparq.load)" if args.mode == "inproc" else "by sparq-run --bench"))
    print("| model | onnxruntime ms | sparq ms | ort/sparq | sparq compile s | rel_l2 | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = (r["ort_ms"] / r["sparq_ms"]) if r["sparq_ms"] else None
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            r["model"], fmt(r["ort_ms"], "%.3f"), fmt(r["sparq_ms"], "%.3f"),
            fmt(ratio, "%.2fx"), fmt(r.get("compile_s"), "%.1f"),
            fmt(r.get("rel_l2"), "%.1e"), r["note"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "machine": machine_info(),
                       "mode": args.mode, "rows": rows}, f, indent=1)
    return 0 if all(r["sparq_ms"] is not None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
