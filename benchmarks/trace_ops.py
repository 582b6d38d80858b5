"""Sums each op's own time (its duration less that of the ops it called) in a Chrome trace
written by LibTorch's profiler (`train_step --trace FILE`), per thread, largest first.

usage: /usr/bin/python3 benchmarks/trace_ops.py FILE [TOP] [STEPS]
  STEPS: the number of steps traced, to print milliseconds per step (default 1).
"""
import collections
import json
import sys


def events(path):
    with open(path) as f:
        data = json.load(f)
    items = data["traceEvents"] if isinstance(data, dict) else data
    return [e for e in items if e.get("ph") == "X" and "dur" in e]


def own_times(items):
    """{(tid, name): [own microseconds, calls]} from nested complete events."""
    totals = collections.defaultdict(lambda: [0.0, 0])
    by_thread = collections.defaultdict(list)
    for e in items:
        by_thread[e.get("tid")].append(e)
    for tid, evs in by_thread.items():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, event, children's time]
        def close(entry):
            end, ev, children = entry
            slot = totals[(tid, ev["name"])]
            slot[0] += float(ev["dur"]) - children
            slot[1] += 1
            if stack:
                stack[-1][2] += float(ev["dur"])
        for e in evs:
            start = float(e["ts"])
            while stack and stack[-1][0] <= start:
                close(stack.pop())
            stack.append([start + float(e["dur"]), e, 0.0])
        while stack:
            close(stack.pop())
    return totals


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    steps = max(int(sys.argv[3]) if len(sys.argv) > 3 else 1, 1)
    totals = own_times(events(sys.argv[1]))
    per_thread = collections.defaultdict(float)
    for (tid, _), (us, _) in totals.items():
        per_thread[tid] += us
    for tid, us in sorted(per_thread.items(), key=lambda x: -x[1]):
        print(f"thread {tid}: {us / 1000 / steps:.1f} ms per step in profiled ops")
    print(f"{'ms/step':>8} {'calls/step':>10}  op (own time)")
    for (tid, name), (us, calls) in sorted(totals.items(), key=lambda x: -x[1][0])[:top]:
        print(f"{us / 1000 / steps:8.2f} {calls / steps:10.1f}  {name} [thread {tid}]")


if __name__ == "__main__":
    main()
