#!/usr/bin/env python3
"""sparse_quant.py - Pruned, then quantized models: sparq's sparse int8 kernel vs onnxruntime.

Each case takes an fp32 test model (harness.ensure_models), prunes every
MatMul/Gemm weight to 1x4 blocks along the input dim (prune_onnx, pattern
block1x4_80: 80 % of the blocks removed; block1x4_40 for the cases on the
dense side of the cost rule), quantizes it with onnxruntime's quantize_static (QDQ,
per-channel symmetric int8 weights, MinMax over seeded random calibration
inputs; u8 or s8 activations), and caches the result in
build/sparse-quant-models. Then, with seeded random inputs
(harness.make_feeds):

  - onnxruntime runs the quantized model (ORT_ENABLE_ALL, --threads);
  - sparq compiles it with --sparsity=<mode> and --report, and runs it;
  - sparq compiles it again with --sparsity=off (every matmul on the dense
    int8 kernel) and runs it.

Pass criteria per case:
  - the report lists exactly `sparse_layers` layers of kind sparse_qmatmul
    (the cost rule's choice: 80 % pruned layers go sparse, 40 % pruned ones
    stay dense unless --sparsity=force), or for MobileNetV2 one sparse_qconv
    per 1x1 ungrouped convolution of the ONNX graph that the conv rule
    (input channels, block density measured with numpy) takes, each with format
    "block 1x4 int8", a density and packed bytes;
  - every output is within one quantization step (the outputs are
    DequantizeLinear results; steps as quant_models.py measures them) of
    onnxruntime's, either with ORT_ENABLE_ALL (its fused integer kernels) or
    with ORT_ENABLE_BASIC (the QDQ graph as written): the two onnxruntime
    runs themselves differ by up to 2 steps on the pruned encoder, and
    sparq sits within a step of one of them (measured: bit-identical to
    BASIC on the encoder, identical to ALL on the MLPs);
  - the sparse and the --sparsity=off outputs are bit-identical (both are
    exact integer sums with the same output stage).

Prints one line per case and, last, `sparse-quant: N passed, M failed`.
With --bench R it instead times every case's model compiled with its
--sparsity mode and with --sparsity=off (sparq-run --bench --json, R
rounds interleaved, each a fresh process) and prints the medians and the
off/sparse ratio (a benchmark, not a test). Runs under the pip python3.
"""

import argparse
import dataclasses
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from sparq_models import harness  # noqa: E402
from sparq_models import make_quant_models as qm  # noqa: E402
from sparq_models import prune_onnx  # noqa: E402

import numpy as np  # noqa: E402

STEP_TOL = 1.0 + 1e-3
ALL_1X1 = -1  # sparse_layers: the 1x1 convs the conv rule makes sparse


@dataclasses.dataclass
class Case:
    name: str
    base: str            # fp32 model of the shared cache
    pattern: str         # prune_onnx pattern
    activations: str     # QUInt8 or QInt8
    sparse_layers: int   # sparse_qmatmul layers the report must list
    mode: str = "auto"   # --sparsity
    seed: int = 0


CASES = [
    Case("mlp_b1x4_80_qdq_pc_u8", "mlp", "block1x4_80", "QUInt8", 3),
    Case("mlp_b1x4_80_qdq_pc_s8", "mlp", "block1x4_80", "QInt8", 3),
    # The encoder's 12 weight matmuls (Q, K, V, O, FFN x 2 layers); its
    # activation x activation matmuls stay on the dense int8 kernel.
    Case("bert_encoder_b1x4_80_qdq_pc_u8", "bert_encoder", "block1x4_80",
         "QUInt8", 12),
    Case("mlp_b1x4_40_qdq_pc_u8", "mlp", "block1x4_40", "QUInt8", 0),
    Case("mlp_b1x4_40_qdq_pc_u8_force", "mlp", "block1x4_40", "QUInt8", 3,
         mode="force"),
    # The 1x1 convolutions with enough input channels go sparse (ALL_1X1:
    # counted from the ONNX graph with the pass's rule); the 3x3 depthwise,
    # the 1x1 ones with few input channels and the batch-1 classifier
    # (20 % > the 7 % break-even at one row) stay dense.
    Case("mobilenet_v2_b1x4_80_qdq_pc_u8", "mobilenet_v2", "block1x4_80",
         "QUInt8", ALL_1X1),
]


def models_dir():
    return os.path.join(harness.repo_root(), "build", "sparse-quant-models")


def model_file(case):
    return "%s_%s_qdq_pc_%s.onnx" % (case.base, case.pattern,
                                     "s8" if case.activations == "QInt8" else "u8")


def ensure_model(case, out_dir):
    """The pruned, quantized model of a case (made when missing or older
    than this script or its fp32 source)."""
    os.makedirs(out_dir, exist_ok=True)
    src = harness.ensure_models([case.base])[case.base]
    dst = os.path.join(out_dir, model_file(case))
    deps = [os.path.abspath(__file__), src]
    if os.path.exists(dst) and all(os.path.getmtime(dst) >= os.path.getmtime(d)
                                   for d in deps):
        return dst
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    logging.getLogger().setLevel(logging.ERROR)
    pruned = dst + ".pruned.onnx"
    prune_onnx.prune_model(src, pruned, case.pattern)
    if case.base in qm.PREPROCESSED_BASES:
        # As make_quant_models.py does for the CNNs (shared bias tensors).
        from onnxruntime.quantization.shape_inference import quant_pre_process
        quant_pre_process(pruned, pruned + ".pre.onnx")
        os.replace(pruned + ".pre.onnx", pruned)
    tmp = dst + ".tmp.onnx"
    quantize_static(pruned, tmp, qm._calibration_reader(pruned),
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=getattr(QuantType, case.activations),
                    weight_type=QuantType.QInt8)
    os.replace(tmp, dst)
    os.remove(pruned)
    return dst


def conv_break_even(channels):
    """sparq-sparse-int8's conv rule (sparseInt8ConvBreakEven)."""
    return 0.0 if channels < 128 else (0.20 if channels < 256 else 0.40)


def count_1x1_convs(model_path):
    """Conv nodes with a 1x1 [K, C, 1, 1] int8 weight, C % 4 == 0, one
    group and no padding whose 1x4 block density (measured here with numpy)
    is within the conv rule: what sparq-sparse-int8 should turn into
    sparse_qconv."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(model_path)
    inits = {t.name: t for t in model.graph.initializer}
    producers = {o: n for n in model.graph.node for o in n.output}
    count = 0
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        weight = node.input[1]
        dq = producers.get(weight)
        if dq is not None and dq.op_type == "DequantizeLinear":
            weight = dq.input[0]
        if weight not in inits:
            continue
        w = numpy_helper.to_array(inits[weight])
        if (w.ndim != 4 or w.shape[2:] != (1, 1) or w.shape[1] % 4 or
                attrs.get("group", 1) != 1 or any(attrs.get("pads", []))):
            continue
        blocks = w.reshape(w.shape[0], w.shape[1] // 4, 4)
        density = float(np.mean(np.any(blocks != 0, axis=2)))
        if density <= conv_break_even(w.shape[1]):
            count += 1
    return count


def compile_and_run(model_path, feeds, work, tag, mode, threads, report=None):
    so = os.path.join(work, tag + ".so")
    cmd = [harness.tool("sparq-compile"), model_path, "-o", so,
           "--sparsity=" + mode]
    if report:
        cmd.append("--report=" + report)
    res = harness.run(cmd, 600)
    if res.rc != 0 or not os.path.exists(so):
        return None, "sparq-compile %s: %s" % (res.describe(), res.message())
    cmd = [harness.tool("sparq-run"), so, "--threads", str(threads)]
    for i, (name, arr) in enumerate(feeds.items()):
        path = os.path.join(work, "input_%d.npy" % i)
        np.save(path, arr)
        cmd += ["--input", "%s=%s" % (name, path)]
    out_dir = os.path.join(work, tag + "-outputs")
    os.makedirs(out_dir, exist_ok=True)
    res = harness.run(cmd + ["--save-outputs", out_dir], 600)
    if res.rc != 0:
        return None, "sparq-run %s: %s" % (res.describe(), res.message())
    outs = []
    i = 0
    while os.path.exists(os.path.join(out_dir, "output_%d.npy" % i)):
        outs.append(np.load(os.path.join(out_dir, "output_%d.npy" % i)))
        i += 1
    return outs, None


def check_case(case, work, args):
    model_path = ensure_model(case, args.models_dir)
    sess = harness.ort_session(model_path, args.threads, optimize=True)
    feeds = harness.make_feeds(model_path, sess, case.seed)
    ref = sess.run(None, feeds)
    basic = harness.ort_session(model_path, args.threads,
                                optimize=False).run(None, feeds)
    names = [o.name for o in sess.get_outputs()]
    scales = qm.output_scales(model_path)

    report_path = os.path.join(work, "report.json")
    got, error = compile_and_run(model_path, feeds, work, "sparse", case.mode,
                                 args.threads, report_path)
    if error:
        return False, "FAIL %-40s %s" % (case.name, error)
    dense, error = compile_and_run(model_path, feeds, work, "dense", "off",
                                   args.threads)
    if error:
        return False, "FAIL %-40s (--sparsity=off) %s" % (case.name, error)

    with open(report_path) as f:
        layers = json.load(f)["layers"]
    sparse = [l for l in layers if l["kind"] == "sparse_qmatmul"]
    problems = []
    expected = case.sparse_layers
    if expected == ALL_1X1:
        expected = count_1x1_convs(model_path)
        sparse = [l for l in layers if l["kind"] == "sparse_qconv"]
        if expected == 0:
            problems.append("the model has no 1x1 convolution")
    if len(sparse) != expected:
        problems.append("%d sparse layers, expected %d" % (len(sparse), expected))
    for l in sparse:
        if (l["format"] != "block 1x4 int8" or not l["weight_bytes"] or
                not l["kernel"].startswith("sparq_uk_sparse_q") or
                not 0 < l["density"] < 1):
            problems.append("report layer %s: %s" % (l["name"], l))
            break
    densities = [l["density"] for l in sparse]

    if len(got) != len(ref) or len(dense) != len(ref):
        problems.append("output count %d/%d, expected %d" %
                        (len(got), len(dense), len(ref)))
    worst_steps = 0.0
    for name, g, d, r, rb in zip(names, got, dense, ref, basic):
        if g.shape != r.shape:
            problems.append("%s: shape %s, expected %s" % (name, g.shape, r.shape))
            continue
        steps = qm.step_error(g, r, scales.get(name))
        steps_basic = qm.step_error(g, rb, scales.get(name))
        if steps is None or steps_basic is None:
            problems.append("%s: no quantization step known" % name)
            continue
        worst_steps = max(worst_steps, min(steps, steps_basic))
        if min(steps, steps_basic) > STEP_TOL:
            problems.append("%s: %.3f steps from onnxruntime (ALL), %.3f "
                            "(BASIC)" % (name, steps, steps_basic))
        if not np.array_equal(g, d):
            problems.append("%s: sparse and --sparsity=off outputs differ "
                            "(max %.3g)" % (name, float(np.max(np.abs(
                                g.astype(np.float64) - d.astype(np.float64))))))
    line = "%-40s sparse_layers=%d density=%s steps=%.3f" % (
        case.name, len(sparse),
        "%.2f..%.2f" % (min(densities), max(densities)) if densities else "-",
        worst_steps)
    if problems:
        return False, "FAIL %s: %s" % (line, "; ".join(problems))
    return True, "ok   %s" % line


def median_ms(so, feeds_args, threads, runs):
    res = harness.run([harness.tool("sparq-run"), so, "--threads", str(threads),
                       "--bench", "--runs", str(runs), "--json"] + feeds_args,
                      600)
    if res.rc != 0:
        raise RuntimeError("sparq-run %s: %s" % (res.describe(), res.message()))
    return json.loads(res.stdout.strip().splitlines()[-1])["median_ms"]


def bench(cases, args):
    import tempfile
    print("%-32s %8s %10s %10s %8s" % ("case", "mode", "sparse_ms", "off_ms",
                                       "off/sp"))
    with tempfile.TemporaryDirectory(prefix="sparq-sparse-quant-bench-") as work:
        for case in cases:
            model_path = ensure_model(case, args.models_dir)
            sess = harness.ort_session(model_path, 1, optimize=False)
            feeds = harness.make_feeds(model_path, sess, case.seed)
            feeds_args = []
            for i, (name, arr) in enumerate(feeds.items()):
                path = os.path.join(work, "%s_input_%d.npy" % (case.name, i))
                np.save(path, arr)
                feeds_args += ["--input", "%s=%s" % (name, path)]
            sos = {}
            for mode in (case.mode, "off"):
                so = os.path.join(work, "%s_%s.so" % (case.name, mode))
                res = harness.run([harness.tool("sparq-compile"), model_path,
                                   "-o", so, "--sparsity=" + mode], 600)
                if res.rc != 0:
                    raise RuntimeError(res.message())
                sos[mode] = so
            times = {case.mode: [], "off": []}
            for _ in range(args.bench):
                for mode in (case.mode, "off"):
                    times[mode].append(median_ms(sos[mode], feeds_args,
                                                 args.threads, args.runs))
            sp = float(np.median(times[case.mode]))
            off = float(np.median(times["off"]))
            print("%-32s %8s %10.3f %10.3f %8.2f" % (case.name, case.mode, sp,
                                                     off, off / sp), flush=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models-dir", default=models_dir())
    parser.add_argument("--cases", default="",
                        help="comma-separated subset of: " +
                        ",".join(c.name for c in CASES))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--bench", type=int, default=0, metavar="ROUNDS",
                        help="time sparse vs --sparsity=off instead of testing")
    parser.add_argument("--runs", type=int, default=50,
                        help="sparq-run --runs per round with --bench")
    args = parser.parse_args(argv)
    cases = CASES
    if args.cases:
        wanted = args.cases.split(",")
        cases = [c for c in CASES if c.name in wanted]
    if harness.tools_missing("sparse-quant", len(cases), "sparq-compile",
                             "sparq-run"):
        return 1
    if args.bench:
        return bench(cases, args)
    start = time.monotonic()
    rc = harness.run_suite(
        "sparse-quant", cases, lambda case, work: check_case(case, work, args),
        lambda case, exc: "FAIL %-40s %s" % (case.name, harness.harness_error(exc)),
        "sparq-sparse-quant-", keep=args.keep)
    print("(%.0fs)" % (time.monotonic() - start), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
