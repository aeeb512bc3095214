#!/usr/bin/env python3
"""run_node_tests.py - ONNX backend node tests through sparq-compile/sparq-run.

Two suites: every test dir under the root (Debian's libonnx-testdata by
default, expected passes in node_tests_expected_pass.txt), and ONNX 1.23's
quantization node tests that gen_onnx_node_tests.py writes into
build/onnx-node-tests-quant (generated when missing; expected passes in
node_tests_quant_expected_pass.txt; --no-quant skips them). For each test:
  sparq-compile DIR/model.onnx -o WORK/model.so     (timeout 60 s)
  sparq-run WORK/model.so --test-dir DIR            (timeout 60 s)
and classify the outcome:
  pass        both exit 0
  clean-fail  exit 1..123 with a message on stderr/stdout
  crash       a signal, exit >= 124, a timeout, or a failure with no message

Failures counted = expected passes that did not pass + crashes anywhere, in
both suites. Passes counted = all passes. Integer outputs compare exactly
(sparq-run compares integer elements bit for bit). The last line is
`node-tests: N passed, M failed` (both suites together); a JSON summary goes
to build/node-tests.json.
Runs under the pip python3.
"""

import argparse
import collections
import concurrent.futures
import dataclasses
import json
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from sparq_models import harness  # noqa: E402

DEFAULT_ROOT = "/usr/share/libonnx-testdata/data/node"
EXPECTED = os.path.join(HERE, "node_tests_expected_pass.txt")
QUANT_ROOT = os.path.join(HERE, "..", "..", "build", "onnx-node-tests-quant")
QUANT_EXPECTED = os.path.join(HERE, "node_tests_quant_expected_pass.txt")

PASS, CLEAN, CRASH, SKIPPED = "pass", "clean-fail", "crash", "skipped"


@dataclasses.dataclass
class Outcome:
    name: str
    status: str
    stage: str = ""        # compile | run | "" for a pass
    detail: str = ""       # exit description
    message: str = ""      # first telling output line
    seconds: float = 0.0


def classify(res):
    """Status of one failed tool run (res.rc != 0)."""
    if res.timed_out or res.rc < 0 or res.rc >= 124:
        return CRASH
    return CLEAN if res.message() else CRASH


def run_test(test_dir, work_root, timeout):
    name = os.path.basename(test_dir)
    work = tempfile.mkdtemp(prefix=name + ".", dir=work_root)
    start = time.monotonic()
    try:
        so = os.path.join(work, "model.so")
        steps = [("compile", [harness.tool("sparq-compile"),
                              os.path.join(test_dir, "model.onnx"), "-o", so]),
                 ("run", [harness.tool("sparq-run"), so, "--test-dir", test_dir])]
        for stage, cmd in steps:
            res = harness.run(cmd, timeout, cwd=work)
            if res.rc != 0:
                status = classify(res)
                msg = res.message() or "(no message)"
                return Outcome(name, status, stage, res.describe(),
                               msg.replace(work, "<work>").replace(test_dir, "<test>"),
                               time.monotonic() - start)
            if stage == "compile" and not os.path.exists(so):
                return Outcome(name, CLEAN, stage, "exit 0",
                               "sparq-compile exited 0 but wrote no model.so",
                               time.monotonic() - start)
        return Outcome(name, PASS, seconds=time.monotonic() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_expected(path):
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {l.strip() for l in f if l.strip() and not l.startswith("#")}


def message_group(msg):
    """Collapse numbers and quoted node names so similar errors group."""
    msg = re.sub(r"(node\s*[:=]?\s*)(['\"]).*?\2", r"\1'*'", msg, flags=re.I)
    msg = re.sub(r"\d+", "N", msg)
    return msg[:200]


def run_suite(root, expected_path, args, budget_start):
    """Runs the tests under `root`, prints their report; returns a dict with
    passes, failed, outcomes and the rest of the JSON summary."""
    names = sorted(n for n in os.listdir(root)
                   if os.path.isfile(os.path.join(root, n, "model.onnx"))
                   and re.search(args.filter, n))
    expected = read_expected(expected_path)
    selected_expected = {n for n in expected if re.search(args.filter, n)}

    start = time.monotonic()
    outcomes = {}
    work_root = tempfile.mkdtemp(prefix="sparq-node-tests-")
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            pending = {}
            queue = list(names)
            while queue or pending:
                while queue and len(pending) < max(1, args.jobs):
                    if args.budget and time.monotonic() - budget_start > args.budget:
                        for n in queue:
                            outcomes[n] = Outcome(n, SKIPPED, detail="time budget")
                        queue = []
                        break
                    n = queue.pop(0)
                    pending[pool.submit(run_test, os.path.join(root, n),
                                        work_root, args.timeout)] = n
                if not pending:
                    break
                done, _ = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for fut in done:
                    n = pending.pop(fut)
                    try:
                        out = fut.result()
                    except Exception as exc:  # harness bug: report, don't die
                        out = Outcome(n, CRASH, "harness", type(exc).__name__, str(exc))
                    outcomes[n] = out
                    if args.verbose:
                        print("%-10s %s %s %s" % (out.status, n, out.stage,
                                                  out.message), flush=True)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    elapsed = time.monotonic() - start

    by_status = collections.defaultdict(list)
    for out in outcomes.values():
        by_status[out.status].append(out.name)
    passes = set(by_status[PASS])
    crashes = sorted(by_status[CRASH])
    absent = sorted(selected_expected - set(names))
    regressions = sorted((selected_expected & set(names)) - passes) + absent
    new_passes = sorted(passes - expected)
    failed = len(regressions) + len([c for c in crashes if c not in regressions])

    print("node tests under %s: %d run in %.0fs with %d job(s)" % (
        root, len(names), elapsed, args.jobs))
    for status in (PASS, CLEAN, CRASH, SKIPPED):
        stages = collections.Counter(outcomes[n].stage for n in by_status[status])
        split = ", ".join("%s %d" % (s, c) for s, c in sorted(stages.items()) if s)
        print("  %-10s %4d%s" % (status, len(by_status[status]),
                                 "  (%s)" % split if split else ""))
    print("  expected passes: %d, new passes not in the list: %d" % (
        len(selected_expected), len(new_passes)))
    if regressions:
        print("\nregressions (expected to pass):")
        for n in regressions:
            o = outcomes.get(n)
            print("  %s: %s" % (n, "%s %s: %s" % (o.status, o.stage, o.message)
                                if o else "test dir not found"))
    if crashes:
        print("\ncrashes/hangs:")
        for n in crashes:
            o = outcomes[n]
            print("  %s: %s %s: %s" % (n, o.stage, o.detail, o.message))

    groups = collections.Counter()
    example = {}
    for out in outcomes.values():
        if out.status in (CLEAN, CRASH):
            key = "%s: %s" % (out.stage, message_group(out.message))
            groups[key] += 1
            example.setdefault(key, out.name)
    if groups:
        print("\nmost common failure messages (stage: first line; N = a number):")
        for key, count in groups.most_common(args.top):
            print("  %4d  %s   [e.g. %s]" % (count, key, example[key]))

    if args.update_expected:
        keep = {n for n in expected if not re.search(args.filter, n)}
        with open(expected_path, "w") as f:
            for n in sorted(keep | passes):
                f.write(n + "\n")
        print("\nwrote %d names to %s" % (len(keep | passes), expected_path))

    return {
        "root": root, "seconds": round(elapsed, 1),
        "counts": {s: len(by_status[s]) for s in (PASS, CLEAN, CRASH, SKIPPED)},
        "passed": len(passes), "failed": failed,
        "regressions": regressions, "crashes": crashes, "new_passes": new_passes,
        "top_messages": groups.most_common(args.top),
        "tests": {n: dataclasses.asdict(o) for n, o in sorted(outcomes.items())},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=DEFAULT_ROOT)
    parser.add_argument("--quant-root", default=os.path.abspath(QUANT_ROOT),
                        help="ONNX 1.23's quantization node tests "
                             "(generated here when missing)")
    parser.add_argument("--no-quant", action="store_true",
                        help="skip the quantization node tests")
    parser.add_argument("--filter", default="", help="regex on test names")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds per tool invocation")
    parser.add_argument("--budget", type=float, default=0,
                        help="stop starting new tests after this many seconds "
                             "(0: no limit); unstarted tests count as skipped")
    parser.add_argument("--expected", default=EXPECTED)
    parser.add_argument("--quant-expected", default=QUANT_EXPECTED)
    parser.add_argument("--update-expected", action="store_true",
                        help="rewrite the expected-pass lists from this run's passes")
    parser.add_argument("--json", default=os.path.join(harness.repo_root(), "build",
                                                      "node-tests.json"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print one line per test")
    args = parser.parse_args(argv)

    if not os.path.isdir(args.root):
        print("error: no test root %s" % args.root)
        print("node-tests: 0 passed, 1 failed")
        return 1
    missing = harness.missing_tools("sparq-compile", "sparq-run")
    if missing:
        print("error: tools not built: %s (set SPARQ_BIN_DIR?)" % ", ".join(missing))
        print("node-tests: 0 passed, 1 failed")
        return 1
    # The quantization suite is small (seconds): it runs first so a time
    # budget never starves it.
    suites = []
    setup_failures = 0
    if not args.no_quant:
        quant_root = os.path.abspath(args.quant_root)
        if not os.path.isdir(quant_root):
            import gen_onnx_node_tests
            try:
                gen_onnx_node_tests.generate(quant_root)
            except Exception as exc:  # a broken onnx install: say so, count it
                print("error: generating the quantization node tests: %s" % exc)
                setup_failures += 1
        if os.path.isdir(quant_root):
            suites.append((quant_root, args.quant_expected))
    suites.append((args.root, args.expected))

    start = time.monotonic()
    summaries = []
    for i, (root, expected) in enumerate(suites):
        if i:
            print()
        summaries.append(run_suite(root, expected, args, start))
    passed = sum(s["passed"] for s in summaries)
    failed = sum(s["failed"] for s in summaries) + setup_failures

    summary = dict(summaries[-1])
    summary.update({"jobs": args.jobs, "passed": passed, "failed": failed,
                    "suites": summaries[:-1]})
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    print("node-tests: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
