#!/usr/bin/env python3
"""ptq.py - Compile-time post-training quantization end to end.

For an MLP (Gemm; once more with its node names removed), a small conv net
(Conv + BatchNorm + pools + Gemm head) and a MatMul model whose K = 100 is
not a multiple of the w4 group, every
mode of `sparq-compile --quantize` is compiled with --calibrate (8 random
inputs in the ONNX test-data layout) and --report, then run through the
Python API. Each case checks, against references computed here:

  1. accuracy vs fp32: the outputs' rel L2 against onnxruntime running the
     original fp32 model stays under the mode's bound. The models have
     Gaussian weights; a rounding step s gives an rms error s/sqrt(12) per
     weight, and a layer's weight rel L2 is that over the weights' rms.
     Independent per-layer errors add in quadrature through a chain of
     layers, so the output error is about sqrt(L) x the per-layer error
     (L <= 3 here) and never more than the sum of the per-layer errors,
     which is checked too for the weight-only modes:
       w8     < 2.5e-2  s = max|w|/127 ~ 3.5 sigma/127: 0.8% per layer
       w4:g32 < 0.2     s = range/15 over 32 values ~ 4.1 sigma/15: 7.9%
       w4     < 0.25    (g128: range ~ 5.2 sigma: ~10% per layer)
       w8a8   < 4e-2    w8's weights plus u8 activations: a step of
                        range/255 on each kernel's input and output
  2. for the weight-only modes, exactness of the packing: the outputs match
     onnxruntime running the model with weights replaced by a numpy
     fake-quantization (same rounding rules) to rel L2 < 1e-5;
  3. the report agrees with this script: per output rel L2 and max abs
     error within 2% (the report compares against sparq's own fp32, this
     script against onnxruntime), top-1 agreement within one row; every
     fused_matmul's weight_rel_l2 equals the numpy fake-quantization's; the
     weight-only modes leave convolutions f32 with a reason;
  4. bad options (mode strings, missing or empty --calibrate, wrong input
     shape, stray --calibrate) exit non-zero with a message naming the
     option or file and leave no output behind.

Prints PASS/FAIL per case and, last, `ptq: N passed, M failed`.
Runs under the pip python3 (onnx, onnxruntime, numpy).
"""

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from sparq_models import harness, make_onnx_models  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import sparq  # noqa: E402

SAMPLES = 8
BOUNDS = {"w8": 2.5e-2, "w4:g32": 0.2, "w4": 0.25, "w8a8": 4e-2}


def odd_k_model():
    """MatMul + Add + Relu with K = 100 (w4:g32 pads the last group)."""
    rng = np.random.default_rng(7)
    w0 = (rng.standard_normal((100, 48)) * 0.1).astype(np.float32)
    b0 = (rng.standard_normal(48) * 0.1).astype(np.float32)
    w1 = (rng.standard_normal((48, 10)) * 0.2).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w0"], ["h"], name="mm0"),
             helper.make_node("Add", ["h", "b0"], ["hb"], name="add0"),
             helper.make_node("Relu", ["hb"], ["r"], name="relu0"),
             helper.make_node("MatMul", ["r", "w1"], ["y"], name="mm1")]
    graph = helper.make_graph(
        nodes, "odd_k",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 100])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 10])],
        [numpy_helper.from_array(a, n)
         for a, n in [(w0, "w0"), (b0, "b0"), (w1, "w1")]])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


# ----------------------------------------------------------------------------
# numpy fake quantization (the reference for the weight-only packing)
# ----------------------------------------------------------------------------
def fake_quant_rows(w_nk, bits, group):
    """Dequantized W[n][k] for w8 (symmetric per row) or w4 (asymmetric
    per group of `group` along k, range widened to include 0)."""
    w = w_nk.astype(np.float32)
    out = np.empty_like(w)
    n, k = w.shape
    if bits == 8:
        amax = np.abs(w).max(axis=1)
        scale = np.where(amax > 0, amax / np.float32(127), 1).astype(np.float32)
        q = np.clip(np.rint(w / scale[:, None]), -127, 127)
        return (q * scale[:, None]).astype(np.float32)
    for g in range(0, k, group):
        blk = w[:, g:g + group]
        lo = np.minimum(blk.min(axis=1), 0)
        hi = np.maximum(blk.max(axis=1), 0)
        scale = np.where(hi > lo, (hi - lo) / np.float32(15), 1).astype(np.float32)
        zero = np.clip(np.rint(-lo / scale), 0, 15)
        q = np.clip(np.rint(blk / scale[:, None]) + zero[:, None], 0, 15)
        out[:, g:g + group] = ((q - zero[:, None]) * scale[:, None])
    return out


def weight_matrices(model):
    """node name -> (initializer name, W[n][k] as stored, transposed flag)
    for Gemm (transB) and MatMul nodes with a constant weight."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out = {}
    for node in model.graph.node:
        if node.op_type not in ("Gemm", "MatMul") or node.input[1] not in inits:
            continue
        w = inits[node.input[1]]
        trans_b = any(a.name == "transB" and a.i for a in node.attribute)
        out[node.name] = (node.input[1], w if trans_b else w.T, trans_b)
    return out


def fake_quantized_model(model, bits, group):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    errors = {}
    by_init = {}
    for name, (init, w_nk, trans_b) in weight_matrices(model).items():
        dq = fake_quant_rows(w_nk, bits, group)
        errors[name] = float(np.linalg.norm(dq - w_nk) / np.linalg.norm(w_nk))
        by_init[init] = dq if trans_b else dq.T
    for i, init in enumerate(m.graph.initializer):
        if init.name in by_init:
            m.graph.initializer[i].CopyFrom(
                numpy_helper.from_array(by_init[init.name], init.name))
    return m, errors


# ----------------------------------------------------------------------------
# Running and measuring
# ----------------------------------------------------------------------------
def write_samples(model, directory, seed):
    rng = np.random.default_rng(seed)
    inp = model.graph.input[0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    samples = []
    for s in range(SAMPLES):
        x = rng.standard_normal(shape).astype(np.float32)
        d = os.path.join(directory, "test_data_set_%d" % s)
        os.makedirs(d)
        onnx.save_tensor(numpy_helper.from_array(x), os.path.join(d, "input_0.pb"))
        samples.append({inp.name: x})
    return samples


def ort_outputs(model, samples):
    sess = harness.ort_session(model.SerializeToString(), 1)
    return [sess.run(None, s) for s in samples]


def sparq_outputs(so_path, samples):
    m = sparq.load(so_path, threads=1)
    try:
        return [[np.array(o) for o in m.run(**s)] for s in samples]
    finally:
        m.close()


def measure(got, ref):
    """Per output: rel L2 over all samples, max abs error, top-1 agreement."""
    results = []
    for o in range(len(ref[0])):
        g = np.concatenate([np.asarray(s[o], np.float64).ravel() for s in got])
        r = np.concatenate([np.asarray(s[o], np.float64).ravel() for s in ref])
        last = ref[0][o].shape[-1] if ref[0][o].ndim else 1
        top1 = None
        if last > 1:
            ga = np.concatenate([np.asarray(s[o]).reshape(-1, last).argmax(1) for s in got])
            ra = np.concatenate([np.asarray(s[o]).reshape(-1, last).argmax(1) for s in ref])
            top1 = (float((ga == ra).mean()), len(ra))
        results.append({"rel_l2": float(np.linalg.norm(g - r) / np.linalg.norm(r)),
                        "max_abs": float(np.abs(g - r).max()), "top1": top1})
    return results


class Suite:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, problems):
        if problems:
            self.failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            self.passed += 1
            print("PASS %s" % name)
        sys.stdout.flush()


def compile_cmd(model_path, out, *extra):
    return [harness.tool("sparq-compile"), model_path, "-o", out, *extra]


def run_mode(suite, work, label, model, model_path, cal_dir, samples, fp32, mode):
    name = "%s %s" % (label, mode)
    problems = []
    so = os.path.join(work, "%s_%s.so" % (label, mode.replace(":", "_")))
    report_path = so[:-3] + ".json"
    res = harness.run(compile_cmd(model_path, so, "--quantize=" + mode,
                                  "--calibrate=" + cal_dir,
                                  "--report=" + report_path), 600)
    if res.rc != 0:
        suite.check(name, ["compile failed (%s): %s" % (res.describe(), res.message())])
        return
    summary = [l for l in res.stderr.splitlines() if "[sparq] quantized" in l]
    if not summary or "calibration input" not in summary[-1]:
        problems.append("no quantization summary line with the output error")
    got = sparq_outputs(so, samples)
    measured = measure(got, fp32)
    bound = BOUNDS[mode]
    for o, m in enumerate(measured):
        if not m["rel_l2"] < bound:
            problems.append("output %d rel L2 %.3g >= bound %g" % (o, m["rel_l2"], bound))
    with open(report_path) as f:
        report = json.load(f)
    q = report.get("quantization", {})
    errs = q.get("output_error", [])
    if len(errs) != len(measured):
        problems.append("report has %d output errors, expected %d" % (len(errs), len(measured)))
    for e, m in zip(errs, measured):
        for key in ("rel_l2", "max_abs"):
            if abs(e[key] - m[key]) > 0.02 * m[key] + 1e-6:
                problems.append("report %s %.5g != measured %.5g" % (key, e[key], m[key]))
        if m["top1"] is not None:
            agree, rows = m["top1"]
            if e["top1_agreement"] is None or abs(e["top1_agreement"] - agree) > 1.0 / rows + 1e-9:
                problems.append("report top-1 %s != measured %.3f" % (e["top1_agreement"], agree))
    if q.get("calibration", {}).get("samples") != SAMPLES:
        problems.append("report calibration samples %s != %d" % (
            q.get("calibration", {}).get("samples"), SAMPLES))

    layers = [l for l in report["layers"] if l.get("quantization")]
    by_name = {l["name"]: l["quantization"] for l in layers}
    matmuls = weight_matrices(model)
    if mode != "w8a8":
        bits = 8 if mode == "w8" else 4
        group = int(mode.split(":g")[1]) if ":g" in mode else 128
        fq_model, weight_errors = fake_quantized_model(model, bits, group)
        # Packing exactness: sparq's weight-only kernels against onnxruntime
        # on numpy-dequantized weights.
        fq = measure(got, ort_outputs(fq_model, samples))
        for o, m in enumerate(fq):
            if not m["rel_l2"] < 1e-5:
                problems.append("output %d vs fake-quant reference rel L2 %.3g" % (o, m["rel_l2"]))
        budget = sum(weight_errors.values())
        for o, m in enumerate(measured):
            if not m["rel_l2"] <= budget:
                problems.append("output %d rel L2 %.3g above the sum of the layers' "
                                "weight errors %.3g" % (o, m["rel_l2"], budget))
        for node, err in weight_errors.items():
            lq = by_name.get(node)
            if not lq or not lq.get("quantized"):
                problems.append("layer %s not quantized in the report" % node)
                continue
            if lq.get("bits") != bits:
                problems.append("layer %s bits %s" % (node, lq.get("bits")))
            if abs(lq["weight_rel_l2"] - err) > 1e-3 * err + 1e-7:
                problems.append("layer %s weight_rel_l2 %.6g != numpy %.6g" % (
                    node, lq["weight_rel_l2"], err))
        for node, lq in by_name.items():
            if node not in matmuls and (lq.get("quantized") or "conv" not in lq.get("reason", "")):
                problems.append("conv %s should stay f32 with a reason" % node)
    else:
        for node, lq in by_name.items():
            if not lq.get("quantized") or lq.get("bits") != 8:
                problems.append("layer %s not quantized to 8 bits" % node)
            elif not (0 <= lq["input_zero_point"] <= 255 and lq["input_scale"] > 0):
                problems.append("layer %s bad activation parameters" % node)
        kernels = sum(n.op_type in ("Conv", "Gemm", "MatMul") for n in model.graph.node)
        if q.get("quantized_layers") != kernels:
            problems.append("report says %s quantized layers, the model has %d kernels" % (
                q.get("quantized_layers"), kernels))
    suite.check(name + " (rel L2 %s)" % ", ".join("%.2e" % m["rel_l2"] for m in measured),
                problems)


def expect_error(suite, name, cmd, needles, outputs):
    res = harness.run(cmd, 300)
    problems = []
    if res.rc is None or res.rc <= 0 or res.rc > 123:
        problems.append("expected a clean non-zero exit, got %s" % res.describe())
    text = (res.stderr + res.stdout).lower()
    if not any(n.lower() in text for n in needles):
        problems.append("message %r names none of %s" % (res.message(), needles))
    for path in outputs:
        if os.path.exists(path):
            problems.append("left %s behind" % os.path.basename(path))
    leftovers = [f for f in os.listdir(os.path.dirname(outputs[0])) if ".tmp-" in f]
    if leftovers:
        problems.append("left temporaries %s" % leftovers)
    suite.check("error: " + name, problems)


def main():
    missing = harness.missing_tools("sparq-compile")
    if missing:
        print("ptq: missing tools %s" % missing)
        print("ptq: 0 passed, 1 failed")
        return 1
    suite = Suite()
    work = tempfile.mkdtemp(prefix="sparq-ptq-")
    try:
        unnamed = make_onnx_models.gemm_mlp(1)
        for node in unnamed.graph.node:
            node.name = ""  # ranges are then keyed by kernel position
        models = [("mlp", make_onnx_models.gemm_mlp(0), ["w8", "w4:g32", "w4", "w8a8"]),
                  ("unnamed", unnamed, ["w8a8"]),
                  ("cnn", make_onnx_models.small_cnn(0), ["w8", "w4:g32", "w8a8"]),
                  ("oddk", odd_k_model(), ["w8", "w4:g32", "w8a8"])]
        for seed, (label, model, modes) in enumerate(models):
            path = os.path.join(work, label + ".onnx")
            onnx.save(model, path)
            cal = os.path.join(work, label + "_cal")
            samples = write_samples(model, cal, 100 + seed)
            fp32 = ort_outputs(model, samples)
            for mode in modes:
                run_mode(suite, work, label, model, path, cal, samples, fp32, mode)

        # Bad options: clean messages, nothing written.
        mlp = os.path.join(work, "mlp.onnx")
        bad = os.path.join(work, "bad")
        os.makedirs(bad)
        out = os.path.join(bad, "m.so")
        rep = os.path.join(bad, "m.json")
        outs = [out, os.path.join(bad, "m.h"), rep]
        cal = os.path.join(work, "mlp_cal")
        empty = os.path.join(work, "empty")
        os.makedirs(empty)
        wrong = os.path.join(work, "wrong_shape")
        os.makedirs(wrong)
        onnx.save_tensor(numpy_helper.from_array(np.ones((3, 128), np.float32)),
                         os.path.join(wrong, "input_0.pb"))
        cases = [
            ("mode w4:g24", ["--quantize=w4:g24"], ["w4:g24"]),
            ("mode w3", ["--quantize=w3"], ["'w3'"]),
            ("w8a8 without --calibrate", ["--quantize=w8a8"], ["--calibrate"]),
            ("missing DIR", ["--quantize=w8a8", "--calibrate=" + os.path.join(work, "nope")],
             ["nope"]),
            ("no inputs in DIR", ["--quantize=w8a8", "--calibrate=" + empty],
             ["no calibration inputs"]),
            ("input shape mismatch", ["--quantize=w8", "--calibrate=" + wrong],
             ["input_0.pb"]),
            ("--calibrate without --quantize", ["--calibrate=" + cal], ["--quantize"]),
            ("bad --calibrate-method", ["--quantize=w8a8", "--calibrate=" + cal,
                                        "--calibrate-method=median"], ["--calibrate-method"]),
        ]
        for name, extra, needles in cases:
            expect_error(suite, name, compile_cmd(mlp, out, "--report=" + rep, *extra),
                         needles, outs)

        # Percentile calibration narrows ranges but must still compile and
        # stay within the w8a8 bound on the MLP.
        res = harness.run(compile_cmd(mlp, os.path.join(work, "pct.so"), "--quantize=w8a8",
                                      "--calibrate=" + cal, "--calibrate-method=percentile",
                                      "--report=" + os.path.join(work, "pct.json")), 600)
        problems = [] if res.rc == 0 else ["compile failed: " + res.message()]
        if not problems:
            with open(os.path.join(work, "pct.json")) as f:
                q = json.load(f)["quantization"]
            if q["calibration"]["method"] != "percentile":
                problems.append("report method %s" % q["calibration"]["method"])
            if not q["output_error"][0]["rel_l2"] < BOUNDS["w8a8"]:
                problems.append("rel L2 %.3g" % q["output_error"][0]["rel_l2"])
        suite.check("mlp w8a8 percentile", problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ptq: %d passed, %d failed" % (suite.passed, suite.failed))
    return 0 if suite.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
