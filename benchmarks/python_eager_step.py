#!/usr/bin/python3
"""The same training step in eager PyTorch, written the straightforward way (as the
reference): the ASA model of spec 1.1 with the bonding mask recomputed in every layer
(spec 2.11), full [B*T, V] logits and F.cross_entropy, AdamW, grad clipping.
Run with Debian's python3-torch (same LibTorch 1.13, /usr/bin/python3) and the same thread
count as asaflow's benchmarks/train_step, on synthetic batches of the same shapes.

On a GPU (--device cuda) it is the same-machine eager baseline for the CUDA figures; it
runs under any torch >= 1.13 (the GPU machine's Python torch 2.x too).

usage: /usr/bin/python3 python_eager_step.py [--batch 4] [--seq 256] [--steps 10]
       [--warmup 3] [--threads N] [--modes none,full] [--device cpu|cuda] [--tf32 0|1]
"""
import argparse
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The POS matrix is built once, by the golden reference's code.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "model"))
from golden_reference import pos_matrix  # noqa: E402


class PositionalEncoding(nn.Module):
    def __init__(self, d, max_len=512, dropout=0.1):
        super().__init__()
        pos = torch.arange(max_len).unsqueeze(1).float()
        rate = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, d)
        pe[:, 0::2] = torch.sin(pos * rate)
        pe[:, 1::2] = torch.cos(pos * rate)
        self.register_buffer("pe", pe)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(x + self.pe[: x.size(1)])


class AsaAttention(nn.Module):
    def __init__(self, d, heads, mode, p):
        super().__init__()
        self.h, self.dh, self.mode = heads, d // heads, mode
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.drop = nn.Dropout(0.1)
        self.register_buffer("p", p)

    def bonding(self, pos, feat, req):
        # recomputed in every layer, [B,n,n,15] intermediates, as the reference does
        allowed = self.p[pos.unsqueeze(2), pos.unsqueeze(1)]
        sat = (req.unsqueeze(2) * feat.unsqueeze(1)).sum(-1)
        r = req.sum(-1, keepdim=True)
        compat = sat / (r + 1e-6)
        sat2 = (req.unsqueeze(2) * feat.unsqueeze(1)).sum(-1)
        block = (pos == 4).unsqueeze(2) & ((pos == 0) | (pos == 5)).unsqueeze(1) & (r > 0) & (sat2 < r)
        n = pos.size(1)
        mask = (allowed & ~block) | torch.eye(n, dtype=torch.bool, device=pos.device)
        return mask, compat * mask

    def forward(self, x, pos, feat, req, key_valid):
        B, T, C = x.shape
        q = self.q(x).view(B, T, self.h, self.dh).transpose(1, 2)
        k = self.k(x).view(B, T, self.h, self.dh).transpose(1, 2)
        v = self.v(x).view(B, T, self.h, self.dh).transpose(1, 2)
        s = q @ k.transpose(-2, -1) / math.sqrt(self.dh)
        if self.mode == "full":
            mask, scores = self.bonding(pos, feat, req)
            s = s + scores.unsqueeze(1)
            s = s.masked_fill(~mask.unsqueeze(1), float("-inf"))
        s = s.masked_fill(~key_valid[:, None, None, :], float("-inf"))
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        s = s.masked_fill(causal, float("-inf"))
        a = torch.nan_to_num(F.softmax(s, -1), 0.0)
        out = (self.drop(a) @ v).transpose(1, 2).reshape(B, T, C)
        return self.o(out)


class Block(nn.Module):
    def __init__(self, d, heads, dff, mode, p):
        super().__init__()
        self.attn = AsaAttention(d, heads, mode, p)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, dff), nn.GELU(), nn.Dropout(0.1), nn.Linear(dff, d), nn.Dropout(0.1))

    def forward(self, x, *ann):
        x = self.ln1(x + self.attn(x, *ann))
        return self.ln2(x + self.ff(x))


class AsaLM(nn.Module):
    def __init__(self, mode, vocab=50257, d=128, heads=2, layers=2, dff=512, pad=50256):
        super().__init__()
        self.emb = nn.Embedding(vocab, d, padding_idx=pad)
        self.pe = PositionalEncoding(d)
        p = pos_matrix()
        self.blocks = nn.ModuleList(Block(d, heads, dff, mode, p) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.out = nn.Linear(d, vocab, bias=False)
        self.out.weight = self.emb.weight
        for prm in self.parameters():
            if prm.dim() >= 2:
                nn.init.xavier_uniform_(prm)

    def forward(self, ids, pos, feat, req, key_valid, bf16_output=False):
        x = self.pe(self.emb(ids))
        for b in self.blocks:
            x = b(x, pos, feat, req, key_valid)
        if not bf16_output:
            return self.out(self.ln(x))
        # the output layer under CPU autocast: bfloat16 operands (its logits come back in
        # bfloat16; asaflow's come back in float32), the loss in float32
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.out(self.ln(x)).float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--modes", default="none,full")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--tf32", type=int, default=0, choices=[0, 1],
                    help="let CUDA matrix products use TF32 (as train_step --tf32 1)")
    ap.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                    help="the output layer's product: bfloat16 under CPU autocast (as train_step --precision)")
    args = ap.parse_args()
    if args.tf32:
        torch.set_float32_matmul_precision("high")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    B, T = args.batch, args.seq
    n = args.steps + args.warmup
    ids = torch.randint(0, 50256, (n, B, T))
    pos = torch.randint(0, 17, (n, B, T))
    feat = (torch.rand(n, B, T, 15) < 0.05).float()
    req = (torch.rand(n, B, T, 15) < 0.02).float()
    key_valid = torch.ones(B, T, dtype=torch.bool)
    dev = torch.device(args.device)
    ids, pos, feat, req, key_valid = (t.to(dev) for t in (ids, pos, feat, req, key_valid))

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()
    result = {}
    for mode in args.modes.split(","):
        model = AsaLM(mode).to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
        times = []
        for s in range(n):
            sync()
            t0 = time.perf_counter()
            opt.zero_grad()
            logits = model(ids[s], pos[s], feat[s], req[s], key_valid, args.precision == "bfloat16")
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), ids[s][:, 1:].reshape(-1),
                                   ignore_index=50256)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sync()
            if s >= args.warmup:
                times.append((time.perf_counter() - t0) * 1000)
        med = statistics.median(times)
        result[mode] = med
        print(f"train_step: python eager tiny {mode} batch {B} seq {T}, {args.threads} threads, {args.device}{', tf32' if args.tf32 else ''}"
              f"{', bfloat16 output layer' if args.precision == 'bfloat16' else ''}: "
              f"median {med:.1f} ms/step (min {min(times):.1f}, max {max(times):.1f}), {B * T / (med / 1000):.0f} tokens/s")
    if "none" in result and "full" in result:
        print(f"train_step: python eager full/none = {result['full'] / result['none']:.3f}")


if __name__ == "__main__":
    main()
