#!/usr/bin/env python3
"""make_quant_models.py - Quantize the fp32 test models with onnxruntime's tools.

Runs under the pip python3 (onnxruntime with onnxruntime.quantization). The
fp32 sources are the models of the shared cache (build/test-models, made by
export_torch.py through harness.ensure_models); the quantized models land in
build/quant-models, named <base>_<variant>:

  qdq_pc / qdq_pt   quantize_static, QuantFormat.QDQ, activations QUInt8,
                    weights QInt8, per-channel / per-tensor weights
  qop_pc / qop_pt   quantize_static, QuantFormat.QOperator (QLinearConv,
                    QLinearAdd, QGemm, QLinearSoftmax, ... whatever
                    onnxruntime writes)
  dyn               quantize_dynamic, MatMul/Gemm, weights QInt8
  nb4_b<B>_<sym|asym>  MatMulNBitsQuantizer, 4 bits, block B

and, for benchmarks/bench_quant.py only (large, never made by default), a
single fp32 MatMul [1,K]x[K,N] with seeded random weights, gemv_k<K>_n<N>,
and its MatMulNBits form gemv_k<K>_n<N>_nb4_b<B>_asym.

Static calibration uses MinMax over CALIB_SAMPLES seeded random inputs
(harness.make_feeds), so a model is the same file on every run. The CNNs go
through onnxruntime's quant_pre_process first (their torch export shares
bias tensors through Identity nodes, which the QOperator quantizer cannot
follow); the transformers are quantized as exported (pre-processing would
turn their MatMul+Add into Reshape/Gemm/Reshape, hiding the MatMuls from
quantize_dynamic and MatMulNBits).

  python3 python/sparq_models/make_quant_models.py [--out DIR] [--models a,b]
"""

import argparse
import logging
import os
import sys
import tempfile
import time

try:
    from sparq_models import harness
except ImportError:  # run as a script from python/sparq_models
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from sparq_models import harness

CALIB_SAMPLES = 4
CALIB_SEED = 1000          # calibration inputs use seeds 1000.., tests 0..
PREPROCESSED_BASES = {"resnet18", "mobilenet_v2"}

# name -> (fp32 base model, kind, options)
QUANT_MODELS = {}
# Single-MatMul fp32 models generated here: name -> (K, N)
GEMV_MODELS = {"gemv_k%d_n%d" % (k, n): (k, n) for k, n in [(4096, 4096),
                                                           (4096, 11008)]}


def _add(base, variant, kind, **options):
    QUANT_MODELS["%s_%s" % (base, variant)] = (base, kind, options)


for _base in ["resnet18", "mobilenet_v2", "mlp", "bert_encoder"]:
    _add(_base, "qdq_pc", "static", fmt="QDQ", per_channel=True)
    _add(_base, "qdq_pt", "static", fmt="QDQ", per_channel=False)
_add("resnet18", "qop_pc", "static", fmt="QOperator", per_channel=True)
_add("mlp", "qop_pt", "static", fmt="QOperator", per_channel=False)
for _base in ["bert_encoder", "gpt2_block"]:
    _add(_base, "dyn", "dynamic")
for _base in ["bert_encoder", "gpt2_block"]:
    for _block in (32, 128):
        for _sym in (True, False):
            _add(_base, "nb4_b%d_%s" % (_block, "sym" if _sym else "asym"),
                 "nbits", block_size=_block, is_symmetric=_sym)
# QOperator transformers (QLinearMatMul, QLinearAdd/Mul, QLinearSoftmax).
# onnxruntime's QOperator quantizer fails on the GPT block's Mul of the
# attention scores ("unknown initializers/tensors"), so there Mul and Where
# stay float (exclude_ops).
_add("bert_encoder", "qop_pt", "static", fmt="QOperator", per_channel=False)
_add("bert_encoder", "qop_pc", "static", fmt="QOperator", per_channel=True)
for _pc in (False, True):
    _add("gpt2_block", "qop_pc" if _pc else "qop_pt", "static",
         fmt="QOperator", per_channel=_pc, exclude_ops=("Mul", "Where"))
# What the tests use; the GEMV models are made only when asked for by name.
TEST_MODELS = list(QUANT_MODELS)
for _base in GEMV_MODELS:
    for _block in (32, 128):
        _add(_base, "nb4_b%d_asym" % _block, "nbits", block_size=_block,
             is_symmetric=False)
for _base in GEMV_MODELS:
    QUANT_MODELS[_base] = (None, "fp32", {})


def default_out_dir():
    return os.path.join(harness.repo_root(), "build", "quant-models")


def kind_of(name):
    return QUANT_MODELS[name][1]


def options_of(name):
    return dict(QUANT_MODELS[name][2])


# --------------------------------------------------------------------------
# Quantization (imports onnxruntime.quantization lazily: the test only needs
# it when a model is stale)
# --------------------------------------------------------------------------
def _calibration_reader(path):
    from onnxruntime.quantization import CalibrationDataReader

    class SeededReader(CalibrationDataReader):
        def __init__(self):
            sess = harness.ort_session(path, 1, optimize=False)
            self.feeds = iter([harness.make_feeds(path, sess, CALIB_SEED + i)
                               for i in range(CALIB_SAMPLES)])

        def get_next(self):
            return next(self.feeds, None)

    return SeededReader()


def write_gemv_model(name, dst, seed=0):
    """A single fp32 MatMul y[1,N] = a[1,K] x W[K,N], W ~ N(0, 1/K)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    k, n = GEMV_MODELS[name]
    rng = np.random.default_rng(seed)
    weight = (rng.standard_normal((k, n), dtype=np.float32) / np.sqrt(k))
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "W"], ["y"], name="gemv")], name,
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
        [numpy_helper.from_array(weight.astype(np.float32), "W")])
    # IR 8 (opset 17's): onnxruntime rejects the newest IR versions.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              ir_version=8)
    onnx.save(model, dst)


def quantize_one(name, src, dst, work):
    """Write the quantized model `name` from fp32 model src to dst."""
    import onnx
    from onnxruntime.quantization import (QuantFormat, QuantType,
                                          quantize_dynamic, quantize_static)
    base, kind, opts = QUANT_MODELS[name]
    if base in PREPROCESSED_BASES and kind == "static":
        from onnxruntime.quantization.shape_inference import quant_pre_process
        pre = os.path.join(work, base + "_pre.onnx")
        if not os.path.exists(pre):
            quant_pre_process(src, pre)
        src = pre
    if kind == "static":
        extra = {}
        if opts.get("exclude_ops"):
            from onnxruntime.quantization.registry import (QDQRegistry,
                                                           QLinearOpsRegistry)
            registry = (QLinearOpsRegistry if opts["fmt"] == "QOperator"
                        else QDQRegistry)
            extra["op_types_to_quantize"] = [
                op for op in registry if op not in opts["exclude_ops"]]
        quantize_static(src, dst, _calibration_reader(src),
                        quant_format=getattr(QuantFormat, opts["fmt"]),
                        per_channel=opts["per_channel"],
                        activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, **extra)
    elif kind == "dynamic":
        quantize_dynamic(src, dst, op_types_to_quantize=["MatMul", "Gemm"],
                         weight_type=QuantType.QInt8)
    elif kind == "nbits":
        from onnxruntime.quantization.matmul_nbits_quantizer import \
            MatMulNBitsQuantizer
        quantizer = MatMulNBitsQuantizer(onnx.load(src), bits=4,
                                         block_size=opts["block_size"],
                                         is_symmetric=opts["is_symmetric"])
        quantizer.process()
        quantizer.model.save_model_to_file(dst)
    else:
        raise ValueError("unknown kind %r" % kind)


def _stale(path, sources):
    if not os.path.exists(path):
        return True
    return any(os.path.getmtime(path) < os.path.getmtime(s) for s in sources)


def _with_local_bases(names):
    """names plus the GEMV fp32 models they derive from, bases first."""
    bases = [QUANT_MODELS[n][0] for n in names if QUANT_MODELS[n][0] in GEMV_MODELS]
    return list(dict.fromkeys(bases + list(names)))


def _source_paths(names, out_dir, log):
    """{base: fp32 path} for the bases of names (shared cache or out_dir)."""
    shared = sorted({QUANT_MODELS[n][0] for n in names} - {None} - set(GEMV_MODELS))
    paths = harness.ensure_models(shared, log=log) if shared else {}
    paths.update({g: os.path.join(out_dir, g + ".onnx") for g in GEMV_MODELS})
    return paths


def generate(names, out_dir, log=print):
    """Write the named models (and the GEMV bases they need) into out_dir,
    whatever their age."""
    os.makedirs(out_dir, exist_ok=True)
    names = [n for n in _with_local_bases(names) if n in names or
             not os.path.exists(os.path.join(out_dir, n + ".onnx"))]
    sources = _source_paths(names, out_dir, log)
    logging.getLogger().setLevel(logging.ERROR)  # the quantizers chatter
    with tempfile.TemporaryDirectory(prefix="sparq-quant-") as work:
        for name in names:
            start = time.monotonic()
            dst = os.path.join(out_dir, name + ".onnx")
            tmp = os.path.join(work, name + ".onnx")
            if name in GEMV_MODELS:
                write_gemv_model(name, tmp)
            else:
                quantize_one(name, sources[QUANT_MODELS[name][0]], tmp, work)
            os.replace(tmp, dst)  # never leave a half-written model behind
            log("wrote %-32s %.1fs  %s" % (name, time.monotonic() - start, dst))


def ensure_quant_models(names, out_dir=None, log=print):
    """Generate the named models unless they are already in out_dir and newer
    than this script and their fp32 source. Returns {name: path}; raises
    RuntimeError when generation fails. Generation runs in a child process,
    so the quantizers' logging and temp files stay out of the caller."""
    out_dir = out_dir or default_out_dir()
    unknown = sorted(set(names) - set(QUANT_MODELS))
    if unknown:
        raise RuntimeError("unknown quantized model(s): " + ", ".join(unknown))
    script = os.path.abspath(__file__)
    sources = _source_paths(names, out_dir, log)
    paths = {n: os.path.join(out_dir, n + ".onnx") for n in _with_local_bases(names)}
    stale = set()
    for name in paths:  # bases come first, so a stale base marks its users
        base = QUANT_MODELS[name][0]
        deps = [script] + ([sources[base]] if base else [])
        if base in stale or _stale(paths[name], deps):
            stale.add(name)
    stale = [n for n in paths if n in stale]
    if stale:
        log("generating %s with %s" % (",".join(stale), os.path.basename(script)))
        start = time.monotonic()
        res = harness.run([sys.executable, script, "--out", out_dir,
                           "--models", ",".join(stale)], timeout=1800)
        if res.rc != 0:
            raise RuntimeError("%s failed (%s): %s" % (
                os.path.basename(script), res.describe(),
                (res.stderr.strip() or res.stdout.strip())[-2000:]))
        log("generated in %.1fs" % (time.monotonic() - start))
    return {n: paths[n] for n in names}


# --------------------------------------------------------------------------
# The final quantized tensor of an output (for the test and the benchmark)
# --------------------------------------------------------------------------
SHAPE_ONLY_OPS = {"Identity", "Reshape", "Flatten", "Transpose", "Squeeze",
                  "Unsqueeze"}


def _constants(graph):
    from onnx import numpy_helper
    values = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    values[node.output[0]] = attr.t
    return {k: (lambda t=t: numpy_helper.to_array(t)) for k, t in values.items()}


def output_scales(model_path):
    """{output name: (scale array, axis, producer description)} for float
    outputs produced by a DequantizeLinear through shape-only ops. The scale
    is per tensor (axis None) or per axis of the DequantizeLinear input; a
    shape-only op between it and a per-axis scale is not followed."""
    import numpy as np
    import onnx
    model = onnx.load(model_path)
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    consts = _constants(graph)
    scales = {}
    for out in graph.output:
        name, hops = out.name, 0
        node = producer.get(name)
        while node is not None and node.op_type in SHAPE_ONLY_OPS and hops < 8:
            name, hops = node.input[0], hops + 1
            node = producer.get(name)
        if node is None or node.op_type != "DequantizeLinear":
            continue
        if node.input[1] not in consts:
            continue
        scale = np.asarray(consts[node.input[1]](), dtype=np.float64)
        axis = None
        if scale.size > 1:
            if hops:
                continue
            axis = 1
            for attr in node.attribute:
                if attr.name == "axis":
                    axis = attr.i
        scales[out.name] = (scale, axis, "%s '%s'" % (node.op_type, node.name))
    return scales


def step_error(got, ref, scale_info):
    """Max |got - ref| in quantization steps, or None when unknown."""
    import numpy as np
    if got.dtype.kind in "iu":
        return float(np.max(np.abs(got.astype(np.int64) - ref.astype(np.int64)),
                            initial=0))
    if scale_info is None:
        return None
    scale, axis, _ = scale_info
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    if axis is not None:
        shape = [1] * diff.ndim
        shape[axis % diff.ndim] = scale.size
        scale = scale.reshape(shape)
    return float(np.max(diff / scale, initial=0.0))



def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=default_out_dir())
    parser.add_argument("--models", default=",".join(TEST_MODELS),
                        help="comma-separated subset of: " + ",".join(QUANT_MODELS)
                        + " (default: the test models, no GEMV)")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        for name, (base, kind, opts) in QUANT_MODELS.items():
            print("%-28s %-14s %-8s %s" % (name, base, kind, opts))
        return 0
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in QUANT_MODELS]
    if unknown:
        parser.error("unknown model(s): " + ",".join(unknown))
    generate(names, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
