#!/usr/bin/python3
"""Power and type-I error of a paired t-test over seeds, by simulation (numpy only).

  scripts/paired_power.py --sd 0.98 --effect 0.71 --n 5 15 20 [--first-look 5]

--sd: the sd of the per-seed differences (from a pilot or a first look); --effect: the
difference to detect (same unit); --n: numbers of pairs. Prints, for each n, the two-sided
paired t-test's power at --alpha. With --first-look N0, also the type-I error of the
procedure "test at N0 pairs, claim if it rejects, else extend to n and test again" (each at
--alpha): the price of extending a study after an inconclusive look. Critical values are the
simulated null quantiles of |t| (Debian's python3 has numpy but not scipy); the draws are
seeded, so a rerun prints the same figures.
"""
import argparse
import sys

import numpy as np


def t_abs(x):
    n = x.shape[1]
    return np.abs(x.mean(1) / (x.std(1, ddof=1) / np.sqrt(n)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sd", type=float, required=True, help="sd of the paired differences")
    ap.add_argument("--effect", type=float, required=True, help="the difference to detect")
    ap.add_argument("--n", type=int, nargs="+", required=True, help="numbers of pairs")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--first-look", type=int, default=0, help="pairs at an earlier look (0: none)")
    ap.add_argument("--draws", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=12345)
    a = ap.parse_args()
    if a.sd <= 0 or min(a.n) < 2 or not 0 < a.alpha < 1 or a.draws < 1000:
        sys.exit("error: need --sd > 0, every --n >= 2, 0 < --alpha < 1, --draws >= 1000")
    if a.first_look and not 2 <= a.first_look < min(a.n):
        sys.exit("error: --first-look must be at least 2 and below every --n")
    rng = np.random.default_rng(a.seed)
    top = max(a.n)
    null = rng.standard_normal((a.draws, top))
    crit = {n: np.quantile(t_abs(null[:, :n]), 1 - a.alpha) for n in set(a.n) | {a.first_look or a.n[0]}}
    for n in a.n:
        diffs = rng.normal(a.effect, a.sd, (a.draws, n))
        line = f"n = {n:3d} pairs: power {np.mean(t_abs(diffs) > crit[n]):.3f} (|t| > {crit[n]:.3f})"
        if a.first_look:
            first = t_abs(null[:, : a.first_look]) > crit[a.first_look]
            either = first | (t_abs(null[:, :n]) > crit[n])
            line += f"; type-I after a look at {a.first_look}: {np.mean(either):.4f}"
        print(line)


if __name__ == "__main__":
    main()
