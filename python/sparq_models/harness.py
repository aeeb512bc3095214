"""harness.py - Shared plumbing for sparq's test and benchmark scripts.

Used by test/e2e/*.py, test/python/*.py and benchmarks/*.py under the pip
python3 (onnx, onnxruntime, numpy). It never imports torch: torch exports
run in a separate /usr/bin/python3 process (see ensure_models).

  - where things are: repo_root(), bin_dir(), tool()
  - running a tool with a hard timeout: run()
  - the generated-model cache: ensure_models()
  - seeded, never-all-zero model inputs: make_feeds()
  - the case loop of the e2e suites: tools_missing(), run_suite()
"""

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS_PKG = os.path.join(REPO, "python", "sparq_models")
SYSTEM_PYTHON = os.environ.get("SPARQ_TORCH_PYTHON", "/usr/bin/python3")

# Generator script -> the model names it writes (file stem = name).
TORCH_MODELS = ["resnet18", "mobilenet_v2", "bert_encoder", "bert_encoder_op17",
                "gpt2_block", "mlp"]
HELPER_MODELS = ["onnx_gemm_mlp", "onnx_small_cnn", "onnx_external_data",
                 "onnx_dynamic_batch"]
try:
    from sparq_models import prune_onnx
except ImportError:  # run as a script from python/sparq_models
    import prune_onnx

# Pruned variants of the models above (prune_onnx.py), named <base>_<pattern>.
PRUNED_MODELS = prune_onnx.PRUNED_MODELS


def repo_root():
    return REPO


def bin_dir():
    """build/bin of this checkout, or $SPARQ_BIN_DIR."""
    return os.environ.get("SPARQ_BIN_DIR") or os.path.join(REPO, "build", "bin")


def tool(name):
    return os.path.join(bin_dir(), name)


def missing_tools(*names):
    """The named tools that are not executable files, as full paths."""
    return [tool(n) for n in names if not os.access(tool(n), os.X_OK)]


def tools_missing(label, case_count, *names):
    """True (after printing a FAIL line and '<label>: 0 passed, N failed')
    when one of the named tools is not built."""
    missing = missing_tools(*names)
    if missing:
        print("FAIL tools not built: %s (set SPARQ_BIN_DIR?)" % ", ".join(missing))
        print("%s: 0 passed, %d failed" % (label, max(1, case_count)))
    return bool(missing)


def models_or_fail(label, case_count, ensure, names, out_dir):
    """ensure(names, out_dir) -> {name: path}, or None after printing a
    FAIL line and '<label>: 0 passed, N failed' when generation fails."""
    try:
        return ensure(names, out_dir)
    except RuntimeError as exc:
        print("FAIL model-generation %s" % exc)
        print("%s: 0 passed, %d failed" % (label, max(1, case_count)))
        return None


def harness_error(exc):
    return "harness error: %s: %s" % (type(exc).__name__, exc)


def run_suite(label, cases, check, on_error, prefix, keep=False, name=None):
    """The case loop of an e2e suite. check(case, work) -> (ok, line) runs one
    case in its own folder (named name(case), default case.name) under a fresh
    temporary directory; a case that raises gets the line on_error(case, exc)
    and fails, without stopping the rest. Each line is printed as it comes,
    then '<label>: P passed, F failed'. Returns the exit status."""
    name = name or (lambda case: case.name)
    passed = failed = 0
    root = tempfile.mkdtemp(prefix=prefix)
    try:
        for case in cases:
            work = os.path.join(root, name(case))
            os.makedirs(work)
            try:
                ok, line = check(case, work)
            except Exception as exc:  # a broken case must not stop the suite
                ok, line = False, on_error(case, exc)
            print(line, flush=True)
            passed += bool(ok)
            failed += not ok
    finally:
        if keep:
            print("work dir kept: %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("%s: %d passed, %d failed" % (label, passed, failed))
    return 1 if failed else 0


def default_models_dir():
    return os.path.join(REPO, "build", "test-models")


@dataclasses.dataclass
class Result:
    cmd: list
    rc: int            # negative: killed by that signal; None: timed out
    stdout: str
    stderr: str
    seconds: float

    @property
    def timed_out(self):
        return self.rc is None

    def message(self):
        """The most telling line the tool printed: its first 'error' line,
        else the first non-empty line of stderr, then of stdout."""
        lines = [l.strip() for l in (self.stderr + "\n" + self.stdout).splitlines()]
        lines = [l for l in lines if l]
        for line in lines:
            if "error" in line.lower():
                return line
        return lines[0] if lines else ""

    def describe(self):
        if self.timed_out:
            return "timed out after %.0fs" % self.seconds
        if self.rc < 0:
            try:
                name = signal.Signals(-self.rc).name
            except ValueError:
                name = "signal %d" % -self.rc
            return "killed by %s" % name
        return "exit %d" % self.rc


def run(cmd, timeout, cwd=None, env=None):
    """Run cmd in its own process group; on timeout kill that group only."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=cwd, env=env,
                                start_new_session=True)
    except OSError as exc:  # missing or non-executable tool
        return Result(list(cmd), 127, "", "error: cannot execute %s: %s" % (
            cmd[0], exc.strerror or exc), time.monotonic() - start)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        rc = None
    return Result(list(cmd), rc, out.decode("utf-8", "replace"),
                  err.decode("utf-8", "replace"), time.monotonic() - start)


# --------------------------------------------------------------------------
# Model cache
# --------------------------------------------------------------------------
def _stale(paths, script):
    script_time = os.path.getmtime(script)
    for path in paths:
        if not os.path.exists(path) or os.path.getmtime(path) < script_time:
            return True
    return False


def ensure_models(names, out_dir=None, log=print):
    """Generate the named models into out_dir unless they are already there
    and newer than their generator script. Returns {name: path}; raises
    RuntimeError when a generator fails."""
    out_dir = out_dir or default_models_dir()
    os.makedirs(out_dir, exist_ok=True)
    pruned = [n for n in names if n in PRUNED_MODELS]
    bases = {prune_onnx.split_name(n)[0] for n in pruned}
    torch_wanted = sorted({n for n in names if n in TORCH_MODELS} | bases)
    jobs = [(os.path.join(MODELS_PKG, "export_torch.py"), SYSTEM_PYTHON,
             torch_wanted),
            (os.path.join(MODELS_PKG, "make_onnx_models.py"), sys.executable,
             [n for n in names if n in HELPER_MODELS]),
            (os.path.join(MODELS_PKG, "prune_onnx.py"), sys.executable,
             pruned)]
    unknown = (set(names) - set(TORCH_MODELS) - set(HELPER_MODELS) -
               set(PRUNED_MODELS))
    if unknown:
        raise RuntimeError("unknown model(s): " + ", ".join(sorted(unknown)))
    for script, python, wanted in jobs:
        paths = [os.path.join(out_dir, n + ".onnx") for n in wanted]
        if not wanted or not _stale(paths, script):
            continue
        log("generating %s with %s" % (",".join(wanted), os.path.basename(script)))
        start = time.monotonic()
        res = run([python, script, "--out", out_dir, "--models", ",".join(wanted)],
                  timeout=900)
        if res.rc != 0:
            raise RuntimeError("%s failed (%s): %s" % (
                os.path.basename(script), res.describe(),
                (res.stderr.strip() or res.stdout.strip())[-2000:]))
        log("generated in %.1fs" % (time.monotonic() - start))
    return {n: os.path.join(out_dir, n + ".onnx") for n in names}


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------
def _gather_table_rows(model):
    """graph input name -> rows of the table a Gather indexes with it."""
    dims = {init.name: list(init.dims) for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    dims[node.output[0]] = list(attr.t.dims)
    rows = {}
    for node in model.graph.node:
        if node.op_type == "Gather" and len(node.input) == 2:
            table = dims.get(node.input[0])
            if table:
                rows[node.input[1]] = table[0]
    return rows


NP_OF_ONNX = {"tensor(float)": "float32", "tensor(double)": "float64",
              "tensor(int64)": "int64", "tensor(int32)": "int32",
              "tensor(bool)": "bool", "tensor(float16)": "float16",
              "tensor(uint8)": "uint8", "tensor(int8)": "int8"}


def make_feeds(model_path, session, seed, dynamic_dim=1, shapes=None):
    """Seeded random inputs for every graph input of session.

    Float inputs are normal(0,1) with zeros nudged away; an int64 input that
    feeds a Gather gets ids inside the table; an input whose name contains
    'mask' gets ones with a run of zeros at the end (at least one 1). Dynamic
    dims take dynamic_dim unless shapes[name] pins them."""
    import numpy as np
    import onnx
    rng = np.random.default_rng(seed)
    model = onnx.load(model_path, load_external_data=False)
    table_rows = _gather_table_rows(model)
    feeds = {}
    for inp in session.get_inputs():
        if shapes and inp.name in shapes:
            shape = list(shapes[inp.name])
        else:
            shape = [d if isinstance(d, int) and d > 0 else dynamic_dim
                     for d in inp.shape]
        dtype = np.dtype(NP_OF_ONNX.get(inp.type, "float32"))
        if "mask" in inp.name.lower() and dtype.kind in "iub":
            arr = np.ones(shape, dtype=dtype)
            seq = shape[-1] if shape else 1
            zeros = int(rng.integers(1, max(2, seq // 4 + 1))) if seq > 1 else 0
            if zeros:
                arr[..., seq - zeros:] = 0
        elif dtype.kind in "iu":
            high = table_rows.get(inp.name, 100)
            arr = rng.integers(0, high, size=shape).astype(dtype)
        elif dtype.kind == "b":
            arr = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            arr = rng.standard_normal(shape)
            arr[np.abs(arr) < 1e-3] = 1e-3
            arr = arr.astype(dtype)
        feeds[inp.name] = arr
    return feeds


def ort_session(path, threads, optimize=True):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
        else ort.GraphOptimizationLevel.ORT_ENABLE_BASIC)
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def rel_l2(got, ref):
    """||got - ref|| / ||ref|| in float64 (absolute norm when ref is zero)."""
    import numpy as np
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    diff = float(np.linalg.norm((got - ref).ravel()))
    norm = float(np.linalg.norm(ref.ravel()))
    return diff / norm if norm > 0 else diff


def main(argv=None):
    """CLI: python3 harness.py [--out DIR] [--models a,b] -> generate models."""
    import argparse
    parser = argparse.ArgumentParser(description="generate the test-model cache")
    parser.add_argument("--out", default=default_models_dir())
    parser.add_argument("--models", default=",".join(TORCH_MODELS + HELPER_MODELS))
    args = parser.parse_args(argv)
    try:
        paths = ensure_models([n for n in args.models.split(",") if n], args.out)
    except RuntimeError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    for name, path in paths.items():
        print("%-20s %s" % (name, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
