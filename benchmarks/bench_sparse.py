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
the same shape, densities 50..5%, 1/16/128 rows) unless --no-kernels,
and, unless --no-layers, a per-layer table: every layer the cost model
made sparse is cut out of its model as a one-node ONNX model (same
weights, same input shape), compiled sparse and dense, and timed back to
back, so that a sparse layer slower than its dense twin shows up by name.

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
import onnx  # noqa: E402
from onnx import helper, numpy_helper, shape_inference  # noqa: E402


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


def _value_shapes(model):
    """name -> static shape list of every value shape inference knows."""
    inferred = shape_inference.infer_shapes(model)
    shapes = {}
    g = inferred.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        dims = [d.dim_value if d.HasField("dim_value") else 1
                for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = dims
    return shapes


def layer_model(model, shapes, node_name):
    """A one-node model computing node `node_name` of `model` on a random
    input of the same shape, with the same constant weight and bias; None
    when the node's operands are not one activation plus initializers."""
    inits = {i.name: i for i in model.graph.initializer}
    for n in model.graph.node:  # Constant nodes count as initializers
        if n.op_type == "Constant" and len(n.attribute) == 1 and \
                n.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(n.attribute[0].t)
            t.name = n.output[0]
            inits[t.name] = t
    for n in model.graph.node:  # exporters alias shared constants by Identity
        if n.op_type == "Identity" and n.input[0] in inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[n.input[0]])
            t.name = n.output[0]
            inits[t.name] = t
    node = next((n for n in model.graph.node if n.name == node_name), None)
    if node is None or node.input[0] not in shapes:
        return None
    consts = [inits.get(n) for n in node.input[1:] if n]
    if any(c is None for c in consts):
        return None
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                      shapes[node.input[0]])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    inputs = ["x"] + [c.name for c in consts]
    one = helper.make_node(node.op_type, inputs, ["y"], name=node.name)
    one.attribute.extend(node.attribute)
    graph = helper.make_graph([one], "layer", [x], [y], list(consts))
    return helper.make_model(graph, opset_imports=model.opset_import)


def bench_layers(name, path, args, work):
    """Rows of (model, layer, format, sparse ms, dense ms) for every layer
    of `path` the cost model makes sparse."""
    with open(os.path.join(work, name + "_sparse.so.json")) as f:
        report = json.load(f)["layers"]
    if args.all_layers:  # every layer with zeros, sparse forced
        layers = [l for l in report if l["density"] < 1.0]
        sparse_flag = "--sparsity=force"
    else:
        layers = [l for l in report if l["format"] != "dense"]
        sparse_flag = "--sparsity=auto"
    model = onnx.load(path)
    shapes = _value_shapes(model)
    rows = []
    for i, layer in enumerate(layers):
        one = layer_model(model, shapes, layer["name"])
        if one is None:
            rows.append({"model": name, "layer": layer["name"],
                         "format": layer["format"], "note": "not extractable"})
            continue
        lp = os.path.join(work, "%s_layer%d.onnx" % (name, i))
        onnx.save(one, lp)
        sso, dso = lp + ".sparse.so", lp + ".dense.so"
        compile_model(lp, sso, [sparse_flag], args.compile_timeout)
        compile_model(lp, dso, ["--sparsity=off"], args.compile_timeout)
        with open(sso + ".json") as f:
            got = json.load(f)["layers"][0]["format"]
        # One layer runs in microseconds: many runs per round, or the median
        # lands on the first runs' page faults and thread wake-ups.
        layer_args = argparse.Namespace(**vars(args))
        layer_args.runs = max(args.runs, args.layer_runs)
        sparse, dense = [], []
        for _ in range(args.rounds):
            dense.append(sparq_median(dso, layer_args, []))
            sparse.append(sparq_median(sso, layer_args, []))
        rows.append({"model": name, "layer": layer["name"],
                     "format": got if args.all_layers else
                     layer["format"] if got == layer["format"]
                     else "%s (alone: %s)" % (layer["format"], got),
                     "chosen": layer["format"],
                     "sparse_ms": statistics.median(sparse),
                     "dense_ms": statistics.median(dense)})
    return rows


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
    parser.add_argument("--no-layers", action="store_true",
                        help="skip the per-layer sparse-vs-dense table")
    parser.add_argument("--layer-runs", type=int, default=300,
                        help="runs per round in the per-layer table")
    parser.add_argument("--all-layers", action="store_true",
                        help="per-layer table over every layer with zeros, "
                        "sparse forced (checks the cost model's choices)")
    args = parser.parse_args(argv)
    names = [m for m in args.models.split(",") if m]
    paths = harness.ensure_models(names, args.models_dir)
    rows, layer_rows = [], []
    with tempfile.TemporaryDirectory(prefix="sparq-bench-sparse-") as work:
        for name in names:
            print("benchmarking %s ..." % name, file=sys.stderr)
            rows.append(bench(name, paths[name], args, work))
            if not args.no_layers:
                layer_rows += bench_layers(name, paths[name], args, work)
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
    if layer_rows:
        print("\nper layer: each %s layer alone, sparse vs dense build "
              "(--sparsity=%s vs off), medians of %d rounds x %d runs\n" % (
                  "pruned" if args.all_layers else "sparse",
                  "force" if args.all_layers else "auto",
                  args.rounds, max(args.runs, args.layer_runs)))
        print("| model | layer | format | cost model chose | sparq dense ms "
              "| sparq sparse ms | dense/sparse |")
        print("|---|---|---|---|---:|---:|---:|")
        slower = 0
        for r in layer_rows:
            if "note" in r:
                print("| %s | %s | %s | - | - | - | %s |" % (
                    r["model"], r["layer"], r["format"], r["note"]))
                continue
            ratio = r["dense_ms"] / r["sparse_ms"]
            chosen_sparse = r["chosen"] != "dense"
            slower += chosen_sparse and ratio < 1.0
            print("| %s | %s | %s | %s | %.4f | %.4f | %.2fx%s |" % (
                r["model"], r["layer"], r["format"], r["chosen"],
                r["dense_ms"], r["sparse_ms"], ratio,
                " SLOWER" if chosen_sparse and ratio < 1.0 else ""))
        print("\nlayers the cost model made sparse that ran slower than "
              "dense: %d of %d" % (slower, sum(
                  "note" not in r and r["chosen"] != "dense"
                  for r in layer_rows)))
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
