#!/usr/bin/python3
"""Which seed pairs of a pipeline's comparisons started from the same initial weights.

Reads the cached train cells of PIPELINE in the store STORE (a pipeline's `.asaflow`
folder), loads each cell's model_init.pt and compares the two arms of every seed on the
parameters they share (a POS-embedding arm has one more), then gives the paired difference
of final validation PPL (ARM - BASE) over all pairs, the pairs that shared their initial
weights and those that did not: mean, 95% CI (Student t), sd, n.

  /usr/bin/python3 scripts/audit_initial_weights.py pipelines/.asaflow cpu-study-rates none:full none_arms:pos_only

Written for the cells trained before 2026-12-03, when cells trained side by side in one
process could draw each other's initial weights (README, "Same seed, same initial weights").
"""
import glob
import json
import math
import os
import sys

import torch


def cells(store, pipeline):
    """(stage, seed) -> the cell's output folder, for every cached cell with a seed."""
    folders = glob.glob(os.path.join(store, "state", pipeline + ".*"))
    if not folders:
        sys.exit(f"error: no state of pipeline '{pipeline}' in {store}")
    out = {}
    for state in glob.glob(os.path.join(folders[0], "*.json")):
        key = json.load(open(state))["key"]
        folder = os.path.join(store, "objects", key[:2], key, "out")
        if not all(os.path.exists(os.path.join(folder, f)) for f in ("config.json", "model_init.pt", "results.json")):
            continue
        stage = os.path.basename(state).split(".")[0].split("_seed=")[0]
        out[(stage, json.load(open(os.path.join(folder, "config.json")))["seed"])] = folder
    return out


def initial_weights(folder):
    model = torch.jit.load(os.path.join(folder, "model_init.pt"))
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def final_ppl(folder):
    records = json.load(open(os.path.join(folder, "results.json")))["records"]
    return next(r["value"] for r in records if r["metric"] == "final_val_ppl" and "step" not in r["labels"])


def t_quantile(p, df):
    """Student t quantile by bisection on its CDF (Simpson's rule on the density)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def cdf(x, n=2000):
        h = x / n
        f = [c * (1 + (i * h) ** 2 / df) ** (-(df + 1) / 2) for i in range(n + 1)]
        return 0.5 + h / 3 * (f[0] + f[-1] + 4 * sum(f[1:-1:2]) + 2 * sum(f[2:-1:2]))

    lo, hi = 0.0, 100.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def summary(values):
    n = len(values)
    if n < 2:
        return f"n = {n}" + (f": {values[0]:+.2f}" if n else "")
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    return f"{mean:+.2f}, 95% CI [{mean - half:+.2f}, {mean + half:+.2f}], sd {sd:.2f}, n = {n}"


def main(argv):
    if len(argv) < 3 or any(":" not in a for a in argv[2:]):
        sys.exit(__doc__.split("\n\n")[2])
    store, pipeline = argv[0], argv[1]
    found = cells(store, pipeline)
    for comparison in argv[2:]:
        base, arm = comparison.split(":", 1)
        seeds = sorted(s for (stage, s) in found if stage == base and (arm, s) in found)
        if not seeds:
            print(f"{pipeline}: {base} vs {arm}: no cached pairs")
            continue
        apart, difference = [], {}
        for seed in seeds:
            a, b = found[(base, seed)], found[(arm, seed)]
            wa, wb = initial_weights(a), initial_weights(b)
            if not all(torch.equal(wa[k], wb[k]) for k in wa if k in wb):
                apart.append(seed)
            difference[seed] = final_ppl(b) - final_ppl(a)
        print(f"{pipeline}: {base} vs {arm}: {len(seeds)} pairs, {len(apart)} not from the same initial weights"
              + (f" (seeds {', '.join(map(str, apart))})" if apart else ""))
        print(f"  final validation PPL, {arm} - {base}: all pairs {summary(list(difference.values()))}")
        if apart:
            print(f"    same initial weights: {summary([d for s, d in difference.items() if s not in apart])}")
            print(f"    different: {summary([d for s, d in difference.items() if s in apart])}")


if __name__ == "__main__":
    main(sys.argv[1:])
