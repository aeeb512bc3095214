#!/usr/bin/env python3
"""ort_bench.py - One onnxruntime timing round in a fresh process.

Usage: ort_bench.py MODEL.onnx FEEDS.npz THREADS RUNS WARMUP

Prints one JSON line {"median_ms": ...}. The benchmarks run onnxruntime
this way, like sparq-run --bench, so that neither engine's idle worker
threads (onnxruntime's spin-waiting pool, sparq's pool) share the machine
with the other's timed runs: every round starts and ends both engines
cleanly, and the two stay interleaved round by round.
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
from sparq_models import harness  # noqa: E402

import numpy as np  # noqa: E402


def main():
    model, feeds_path, threads, runs, warmup = sys.argv[1:6]
    sess = harness.ort_session(model, int(threads), optimize=True)
    with np.load(feeds_path) as data:
        feeds = {k: data[k] for k in data.files}
    for _ in range(int(warmup)):
        sess.run(None, feeds)
    samples = []
    for _ in range(int(runs)):
        start = time.perf_counter()
        sess.run(None, feeds)
        samples.append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"median_ms": statistics.median(samples)}))


if __name__ == "__main__":
    main()
