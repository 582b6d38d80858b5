#!/usr/bin/env bash
# Benchmark: float32 against bfloat16 output-layer products in training
# (pipelines/precision-check.yaml: the tiny model on Brown with GPT-2 BPE, the same seeds and
# data order both ways), then per seed the final validation PPL (evaluated in float32) and
# the train loop's tokens/s of each, the paired differences (bfloat16 - float32) with their
# mean, sd and 95% t-interval, and the n-gram floors on the same validation tokens. The cells
# run one after another in this one run, so the tokens/s ratio is side by side; the CPU
# model is printed with it.
# usage: benchmarks/precision_check.sh [BUILD_DIR] [asaflow run options, e.g. --set steps=200]
# env: CACHE (a cache directory to keep; default a temporary one, removed at the end)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
shift || true
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${CACHE:-} ]]; then
  cache=$CACHE
else
  cache=$(mktemp -d /tmp/asaflow-precision.XXXXXX)
  trap 'rm -rf "$cache"' EXIT
fi
pipeline=$here/pipelines/precision-check.yaml
echo "precision_check: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; cache $cache"
"$build/asaflow" run "$pipeline" --cache-dir "$cache" -q "$@"
cells=()
for seed in 1 2 3; do cells+=("float32[seed=$seed]" "bfloat16[seed=$seed]"); done
for cell in "${cells[@]}" floors; do
  "$build/asaflow" show "$pipeline" "$cell" --cache-dir "$cache" --json > "$cache/$cell.json"
done
/usr/bin/python3 - "$cache" <<'PY'
import json, math, pathlib, statistics, sys
cache = pathlib.Path(sys.argv[1])
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
def metric(cell, name):
    record = json.load(open(cache / f"{cell}.json"))
    values = [m["value"] for m in record["metrics"] if m["metric"] == name]
    if not values:
        sys.exit(f"precision_check: {cell} has no {name}")
    return values[-1]
rows = []
for seed in (1, 2, 3):
    f, b = f"float32[seed={seed}]", f"bfloat16[seed={seed}]"
    rows.append((seed, metric(f, "final_val_ppl"), metric(b, "final_val_ppl"),
                 metric(f, "train_tokens_per_s"), metric(b, "train_tokens_per_s")))
print(f"{'seed':>4} {'PPL f32':>10} {'PPL bf16':>10} {'diff':>8} {'tok/s f32':>10} {'tok/s bf16':>10} {'ratio':>6}")
for s, pf, pb, tf, tb in rows:
    print(f"{s:>4} {pf:>10.2f} {pb:>10.2f} {pb - pf:>+8.2f} {tf:>10.0f} {tb:>10.0f} {tb / tf:>6.2f}")
def paired(name, diffs, null=0.0):
    n = len(diffs)
    mean, sd = statistics.mean(diffs), statistics.stdev(diffs)
    half = T975[n - 1] * sd / math.sqrt(n)
    t = (mean - null) / (sd / math.sqrt(n)) if sd > 0 else float("inf")
    print(f"{name}: mean {mean:+.3f}, sd {sd:.3f}, n {n}, 95% t-interval [{mean - half:+.3f}, {mean + half:+.3f}], "
          f"t = {t:.2f} against {null:g} (df {n - 1})")
floors = {m["labels"]["order"]: m["value"] for m in json.load(open(cache / "floors.json"))["metrics"]
          if m["metric"] == "floor_ppl"}
print("n-gram floors on the same tokens: " + ", ".join(f"{o}-gram {floors[o]:.1f}" for o in sorted(floors)))
beaten = all(max(pf, pb) < floors["3"] for _, pf, pb, _, _ in rows)
print(f"every run below the trigram floor: {'yes' if beaten else 'no'}")
paired("val PPL, bfloat16 - float32", [pb - pf for _, pf, pb, _, _ in rows])
paired("val PPL, relative (bfloat16 / float32 - 1, %)", [100 * (pb / pf - 1) for _, pf, pb, _, _ in rows])
paired("tokens/s ratio (bfloat16 / float32)", [tb / tf for *_, tf, tb in rows], null=1.0)
PY
