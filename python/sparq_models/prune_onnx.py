#!/usr/bin/env python3
"""prune_onnx.py - Magnitude-prune the weights of an exported ONNX model.

Pruned models reach sparq as ordinary ONNX files whose weights contain
zeros, whatever tool pruned them. This script plays that tool: it zeroes
the smallest-magnitude weights of every MatMul/Gemm/Conv initializer to a
pattern and writes a new model, so the sparsity suites test what users
bring. Runs under the pip python3 (onnx + numpy).

Patterns (the weight is viewed as W[out][reduction]):
  csrS        unstructured, fraction S/100 removed       e.g. csr90
  blockRxC_S  R outputs x C reduction blocks, S% removed e.g. block4x1_80
  nmN_M       N largest of every M along the reduction   e.g. nm2_4

Model names are <base>_<pattern>, e.g. mlp_csr90, resnet18_csr80,
bert_encoder_nm2_4; --models lists them, --base-dir holds the base models.
"""

import argparse
import os
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper

PRUNED_MODELS = ["mlp_csr90", "mlp_block4x1_80", "mlp_nm2_4",
                 "resnet18_csr80", "bert_encoder_nm2_4", "bert_encoder_csr90"]


def split_name(name):
    m = re.match(r"^(.*)_(csr\d+|block\d+x\d+_\d+|nm\d+_\d+)$", name)
    if not m:
        raise ValueError("not a pruned model name: " + name)
    return m.group(1), m.group(2)


def weight_views(model):
    """initializer name -> (to_matrix, from_matrix) for kernel weights."""
    inits = {t.name for t in model.graph.initializer}
    views = {}
    for node in model.graph.node:
        if node.op_type == "Conv" and len(node.input) > 1 and node.input[1] in inits:
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            if group == 1:
                views[node.input[1]] = ("conv", None)
        elif node.op_type == "MatMul" and node.input[1] in inits:
            views[node.input[1]] = ("kn", None)       # B is [K, N]
        elif node.op_type == "Gemm" and len(node.input) > 1 and node.input[1] in inits:
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            views[node.input[1]] = ("nk" if trans_b else "kn", None)
    return views


def to_matrix(arr, layout):
    if layout == "conv":
        return arr.reshape(arr.shape[0], -1)
    if layout == "nk":
        return arr
    return arr.T


def from_matrix(mat, layout, shape):
    if layout == "conv":
        return mat.reshape(shape)
    if layout == "nk":
        return mat
    return np.ascontiguousarray(mat.T)


def prune_matrix(w, pattern):
    w = w.copy()
    if pattern.startswith("csr"):
        frac = int(pattern[3:]) / 100.0
        k = int(round(frac * w.size))
        if k:
            thresh_idx = np.argsort(np.abs(w), axis=None, kind="stable")[:k]
            w.flat[thresh_idx] = 0
        return w
    if pattern.startswith("nm"):
        n, m = (int(x) for x in pattern[2:].split("_"))
        rows, cols = w.shape
        if cols % m:
            return None
        g = w.reshape(rows, cols // m, m)
        order = np.argsort(-np.abs(g), axis=2, kind="stable")
        mask = np.zeros_like(g, dtype=bool)
        np.put_along_axis(mask, order[:, :, :n], True, axis=2)
        return (g * mask).reshape(rows, cols)
    m = re.match(r"block(\d+)x(\d+)_(\d+)", pattern)
    br, bc, pct = int(m.group(1)), int(m.group(2)), int(m.group(3))
    rows, cols = w.shape
    if rows % br or cols % bc:
        return None
    blocks = np.abs(w).reshape(rows // br, br, cols // bc, bc).sum(axis=(1, 3))
    k = int(round(pct / 100.0 * blocks.size))
    drop = np.argsort(blocks, axis=None, kind="stable")[:k]
    mask = np.ones(blocks.size, dtype=bool)
    mask[drop] = False
    mask = mask.reshape(blocks.shape)
    full = np.repeat(np.repeat(mask, br, axis=0), bc, axis=1)
    return w * full


def prune_model(src, dst, pattern):
    model = onnx.load(src)
    views = weight_views(model)
    pruned = 0
    for init in model.graph.initializer:
        if init.name not in views or init.data_type != onnx.TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init)
        if arr.size < 256:
            continue
        layout = views[init.name][0]
        mat = prune_matrix(to_matrix(arr, layout), pattern)
        if mat is None:
            continue
        init.CopyFrom(numpy_helper.from_array(
            from_matrix(mat, layout, arr.shape).astype(np.float32), init.name))
        pruned += 1
    if not pruned:
        raise SystemExit("%s: no weight could be pruned to %s" % (src, pattern))
    tmp = dst + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, dst)
    return pruned


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--base-dir", default=None,
                        help="where the base models are (default: --out)")
    parser.add_argument("--models", default=",".join(PRUNED_MODELS))
    args = parser.parse_args(argv)
    base_dir = args.base_dir or args.out
    for name in [m for m in args.models.split(",") if m]:
        base, pattern = split_name(name)
        src = os.path.join(base_dir, base + ".onnx")
        if not os.path.exists(src):
            sys.exit("base model %s missing (generate it first)" % src)
        n = prune_model(src, os.path.join(args.out, name + ".onnx"), pattern)
        print("%-22s %d weights pruned to %s" % (name, n, pattern))
    return 0


if __name__ == "__main__":
    sys.exit(main())
