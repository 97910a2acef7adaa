"""Benchmark: a cached image set loads in under a second.

Target (issue: course skeleton): the second ``load_images("cifar10-jpeg", "train")`` takes
< 1 s. Writes ``results/bench/data_cache.json``. Needs the data under ``RELIABLE_ML_DATA``.

    python benchmarks/data_cache.py [--name cifar10-jpeg] [--split train] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time

from reliable_ml import device_name
from reliable_ml.course.results import results_root
from reliable_ml.data import load_images

TARGET_S = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="cifar10-jpeg")
    parser.add_argument("--split", default="train")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    x, _, info = load_images(args.name, args.split)
    first = time.perf_counter() - t0
    cached = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        x, _, info = load_images(args.name, args.split)
        float(x[-1].float().mean())  # touch the data so a lazy load is paid for
        cached.append(time.perf_counter() - t0)
    best = min(cached)
    record = {
        "benchmark": "data_cache",
        "dataset": info.source,
        "split": args.split,
        "n": info.n,
        "first_load_s": round(first, 3),
        "cached_load_s": [round(c, 3) for c in cached],
        "target_s": TARGET_S,
        "meets_target": best < TARGET_S,
        "device": device_name(),
    }
    out = results_root() / "bench" / "data_cache.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0 if record["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
