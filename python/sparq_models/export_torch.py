#!/usr/bin/python3
"""export_torch.py - Export reference architectures from torch to ONNX.

Runs under the system interpreter (/usr/bin/python3), which has Debian's
torch 1.13 and torchvision 0.14. Every model gets random weights from
torch.manual_seed, so the files are reproducible for a given seed. The
exporter does not need the onnx package.

  /usr/bin/python3 python/sparq_models/export_torch.py --out build/test-models
"""

import argparse
import math
import os
import sys
import time

import torch
from torch import nn


# --------------------------------------------------------------------------
# BERT-style encoder
# --------------------------------------------------------------------------
class SelfAttention(nn.Module):
    """Multi-head self-attention with explicit Q/K/V projections."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def split_heads(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, additive_mask):
        b, s, h = x.shape
        q = self.split_heads(self.query(x))
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + additive_mask
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, h)
        return self.out(ctx)


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.attn = SelfAttention(hidden, heads)
        self.attn_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.act = nn.GELU()  # erf form
        self.ffn_out = nn.Linear(ffn, hidden)
        self.ffn_norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, additive_mask):
        x = self.attn_norm(x + self.attn(x, additive_mask))
        return self.ffn_norm(x + self.ffn_out(self.act(self.ffn_in(x))))


class BertEncoder(nn.Module):
    def __init__(self, vocab=1000, max_pos=512, hidden=256, heads=4, ffn=1024,
                 layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(max_pos, hidden)
        self.emb_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(
            [EncoderLayer(hidden, heads, ffn) for _ in range(layers)])

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, dtype=torch.int64).unsqueeze(0)
        x = self.emb_norm(self.tok(input_ids) + self.pos(positions))
        # [B,S] int64 -> [B,1,1,S] float additive mask.
        mask = attention_mask[:, None, None, :].to(torch.float32)
        additive = (1.0 - mask) * -10000.0
        for layer in self.layers:
            x = layer(x, additive)
        return x


# --------------------------------------------------------------------------
# GPT-2 style decoder blocks
# --------------------------------------------------------------------------
class CausalSelfAttention(nn.Module):
    def __init__(self, hidden, heads, max_seq):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        causal = torch.tril(torch.ones(max_seq, max_seq, dtype=torch.bool))
        self.register_buffer("causal", causal.view(1, 1, max_seq, max_seq))

    def forward(self, x):
        b, s, h = x.shape
        q, k, v = self.qkv(x).split(h, dim=2)
        q = q.view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(b, s, self.heads, self.head_dim).transpose(1, 2)
        v = v.view(b, s, self.heads, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
        keep = self.causal[:, :, :s, :s]
        scores = scores.masked_fill(~keep, -1e4)
        probs = torch.softmax(scores, dim=-1)
        y = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, h)
        return self.proj(y)


class Gpt2Block(nn.Module):
    def __init__(self, hidden, heads, max_seq):
        super().__init__()
        self.ln1 = nn.LayerNorm(hidden)
        self.attn = CausalSelfAttention(hidden, heads, max_seq)
        self.ln2 = nn.LayerNorm(hidden)
        self.fc = nn.Linear(hidden, 4 * hidden)
        self.act = nn.GELU(approximate="tanh")
        self.fc_out = nn.Linear(4 * hidden, hidden)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc_out(self.act(self.fc(self.ln2(x))))


class Gpt2Stack(nn.Module):
    def __init__(self, hidden=256, heads=4, blocks=2, max_seq=64):
        super().__init__()
        self.blocks = nn.ModuleList(
            [Gpt2Block(hidden, heads, max_seq) for _ in range(blocks)])
        self.ln_f = nn.LayerNorm(hidden)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)


# --------------------------------------------------------------------------
# Plain MLP
# --------------------------------------------------------------------------
def make_mlp():
    return nn.Sequential(
        nn.Linear(256, 1024), nn.ReLU(),
        nn.Linear(1024, 1024), nn.ReLU(),
        nn.Linear(1024, 256))


# --------------------------------------------------------------------------
# Registry: name -> (builder, example inputs, input names, output names, opset)
# --------------------------------------------------------------------------
def _image():
    return (torch.randn(1, 3, 224, 224),)


def _bert_inputs():
    ids = torch.randint(0, 1000, (1, 128), dtype=torch.int64)
    mask = torch.ones(1, 128, dtype=torch.int64)
    mask[:, 100:] = 0
    return (ids, mask)


def _torchvision(name):
    import torchvision
    return getattr(torchvision.models, name)(weights=None)


MODELS = {
    "resnet18": (lambda: _torchvision("resnet18"), _image, ["input"], ["logits"], 14),
    "mobilenet_v2": (lambda: _torchvision("mobilenet_v2"), _image, ["input"], ["logits"], 14),
    "bert_encoder": (BertEncoder, _bert_inputs, ["input_ids", "attention_mask"],
                     ["last_hidden_state"], 14),
    "bert_encoder_op17": (BertEncoder, _bert_inputs, ["input_ids", "attention_mask"],
                          ["last_hidden_state"], 17),
    "gpt2_block": (Gpt2Stack, lambda: (torch.randn(1, 64, 256),), ["hidden_in"],
                   ["hidden_out"], 14),
    "mlp": (make_mlp, lambda: (torch.randn(16, 256),), ["x"], ["y"], 13),
}


def export_one(name, out_dir, seed, opset_override):
    build, example, in_names, out_names, opset = MODELS[name]
    if opset_override is not None and not name.endswith("_op17"):
        opset = opset_override
    torch.manual_seed(seed)
    model = build().eval()
    path = os.path.join(out_dir, name + ".onnx")
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, example(), tmp, input_names=in_names,
                          output_names=out_names, opset_version=opset,
                          do_constant_folding=True)
    os.replace(tmp, path)  # never leave a half-written model behind
    return path, opset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--opset", type=int, default=None,
                        help="override each model's default opset "
                             "(bert_encoder_op17 always uses 17)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated subset of: " + ",".join(MODELS))
    args = parser.parse_args(argv)

    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error("unknown model(s): " + ",".join(unknown))
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in names:
        start = time.time()
        path, opset = export_one(name, args.out, args.seed, args.opset)
        print("exported %-18s opset %d  %.1fs  %s" % (name, opset,
              time.time() - start, path), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
