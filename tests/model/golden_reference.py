#!/usr/bin/python3
"""Golden values for asaflow's model: the first training losses of the ASA model written
independently in eager PyTorch (Debian's python3-torch, the same torch 1.13), built in the
same parameter order and seeded the same way as asaflow's Trainer, so that initial
weights and dropout masks are identical and the losses must agree to float rounding.

Regenerate: /usr/bin/python3 tests/model/golden_reference.py > tests/model/golden_losses.json
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

UPOS = "NOUN VERB ADJ ADV PRON PROPN DET ADP AUX CCONJ SCONJ NUM PART INTJ PUNCT SYM X".split()
PAIRS = ("NOUN VERB,PROPN VERB,PRON VERB,NOUN ADJ,PROPN ADJ,PRON ADJ,VERB VERB,ADJ NOUN,ADJ PROPN,DET NOUN,"
         "DET PROPN,NUM NOUN,ADP NOUN,ADP PROPN,ADP PRON,NOUN NOUN,PROPN NOUN,NOUN PROPN,PROPN PROPN,ADV VERB,"
         "ADV ADJ,ADV ADV,AUX VERB,SCONJ VERB,AUX ADJ,AUX NOUN,CCONJ NOUN,CCONJ VERB,CCONJ ADJ,CCONJ ADV,"
         "CCONJ PROPN,PRON NOUN,PRON PROPN")


def pos_matrix():
    p = torch.zeros(17, 17, dtype=torch.bool)
    for pair in PAIRS.split(","):
        a, b = (UPOS.index(x) for x in pair.split())
        p[a, b] = p[b, a] = True
    p |= torch.eye(17, dtype=torch.bool)
    p[14, :] = True
    p[:, 14] = True
    return p


class Attention(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h, self.dh = h, d // h
        self.q, self.k, self.v, self.o = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, bonding):
        B, T, C = x.shape
        split = lambda t: t.view(B, T, self.h, self.dh).transpose(1, 2)
        s = split(self.q(x)) @ split(self.k(x)).transpose(-2, -1) / math.sqrt(self.dh)
        if bonding is not None:  # spec 2.11: + alpha * scores, then -inf where not allowed
            allowed, scores = bonding
            s = s + scores.unsqueeze(1)
            s = s.masked_fill(~allowed.unsqueeze(1), float("-inf"))
        s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        a = torch.nan_to_num(F.softmax(s, -1), 0.0)
        return self.o((self.drop(a) @ split(self.v(x))).transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, d, h, dff):
        super().__init__()
        self.attn = Attention(d, h)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff1, self.ff2 = nn.Linear(d, dff), nn.Linear(dff, d)
        self.drop1, self.drop2 = nn.Dropout(0.1), nn.Dropout(0.1)

    def forward(self, x, bonding):
        h = self.ln1(x + self.attn(x, bonding))
        return self.ln2(h + self.drop2(self.ff2(self.drop1(F.gelu(self.ff1(h))))))


class Model(nn.Module):
    def __init__(self, vocab=50257, d=128, h=2, layers=2, dff=512, max_len=512):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d, padding_idx=50256)
        pos = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        rate = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, d)
        pe[:, 0::2] = torch.sin(pos * rate)
        pe[:, 1::2] = torch.cos(pos * rate)
        self.register_buffer("positions", pe)
        self.drop = nn.Dropout(0.1)
        self.blocks = nn.ModuleList(Block(d, h, dff) for _ in range(layers))
        self.final_ln = nn.LayerNorm(d)
        with torch.no_grad():
            for p in self.parameters():
                if p.dim() >= 2:
                    nn.init.xavier_uniform_(p)

    def forward(self, ids, bonding):
        x = self.drop(self.embedding(ids) + self.positions[: ids.size(1)])
        for b in self.blocks:
            x = b(x, bonding)
        return F.linear(self.final_ln(x), self.embedding.weight)  # tied output


def batch():
    # Deterministic, no RNG: 2 examples of 16 tokens, annotations from simple formulas.
    B, T = 2, 16
    ids = torch.tensor([[(37 * (b * T + t) + 11) % 50000 for t in range(T)] for b in range(B)])
    pos = torch.tensor([[(3 * t + b) % 17 for t in range(T)] for b in range(B)])
    bits = lambda f: torch.tensor([[[1.0 if f(b, t) == k else 0.0 for k in range(15)] for t in range(T)] for b in range(B)])
    feat = bits(lambda b, t: (t + b) % 15 if t % 2 == 0 else -1)
    req = bits(lambda b, t: (t * 7) % 15 if t % 3 == 0 else -1)
    return ids, pos, feat, req


def full_bonding(pos, feat, req, p):
    allowed = p[pos.unsqueeze(2), pos.unsqueeze(1)]
    sat = req @ feat.transpose(1, 2)
    r = req.sum(-1, keepdim=True)
    block = (pos == 4).unsqueeze(2) & ((pos == 0) | (pos == 5)).unsqueeze(1) & (r > 0) & (sat < r)
    allowed = (allowed & ~block) | torch.eye(pos.size(1), dtype=torch.bool)
    return allowed, (sat / (r + 1e-6)) * allowed


def losses(mode, seed=11, steps=3):
    torch.manual_seed(seed)
    model = Model()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    ids, pos, feat, req = batch()
    bonding = full_bonding(pos, feat, req, pos_matrix()) if mode == "full" else None
    out = []
    for _ in range(steps):
        opt.zero_grad()
        logits = model(ids, bonding)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
        out.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return out


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(json.dumps({"seed": 11, "torch": torch.__version__, "none": losses("none"), "full": losses("full")}, indent=1))
