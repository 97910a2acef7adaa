"""Benchmark: the pooling network's forward pass without autograd, nn.MaxPool2d vs the course's.

Chapter 11's pooling network (:func:`reliable_ml.models.nets.pool_cnn`) spends most of its
gradient-free time (Square's 5,000 queries, the rotation/translation grids, the box curves, the
EOT draws) in forward passes. :class:`reliable_ml.models.pooling.MaxPool2d` pools a channels-last
copy there (same values, bit for bit, checked here too). For each shape this times the forward
pass of the same network with ``torch.nn.MaxPool2d`` and with the course's pooling, on one thread
(the book's ``JOBS=2`` setting), best of ``--repeats``. Writes ``results/bench/pooling.json``.

Targets: at least 1.5x faster on the no-data book's 8x8 digits, where pooling is a large share of
the forward pass, and not slower (at least 0.9x, within timing noise) at 28x28, where the 5x5
convolutions dominate and the gain is small.

    python benchmarks/pooling.py [--repeats 10] [--batch 500]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from reliable_ml.course.results import write_bench
from reliable_ml.models import nets
from reliable_ml.models.pooling import MaxPool2d
from reliable_ml.settings import spatial_and_physical_robustness as spatial_settings

TARGETS = {"mnist 28x28 (cpu row)": 0.9, "digits 8x8 (no-data fallback)": 1.5}


def reference(model: nn.Sequential) -> nn.Sequential:
    """The same network (shared weights) with ``torch.nn.MaxPool2d`` in place of the course's."""
    return nn.Sequential(*[nn.MaxPool2d(m.kernel_size) if isinstance(m, MaxPool2d) else m for m in model])


def best_seconds(model: nn.Module, x: torch.Tensor, repeats: int) -> float:
    with torch.no_grad():
        model(x)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    if args.repeats < 1 or args.batch < 1:
        raise SystemExit(f"--repeats and --batch must be >= 1; got {args.repeats} and {args.batch}")
    torch.set_num_threads(1)
    cpu = spatial_settings.TABLE["cpu"]
    rows = []
    for label, size in (("mnist 28x28 (cpu row)", 28), ("digits 8x8 (no-data fallback)", 8)):
        torch.manual_seed(0)
        model = nets.pool_cnn(image_size=size, channels=(cpu.conv1, cpu.conv2), hidden=cpu.hidden).eval()
        base = reference(model).eval()
        x = torch.rand(args.batch, 1, size, size)
        with torch.no_grad():
            same = torch.equal(model(x), base(x))
        t_ref, t_ours = best_seconds(base, x, args.repeats), best_seconds(model, x, args.repeats)
        rows.append(
            {
                "shape": label,
                "batch": args.batch,
                "torch_maxpool_ms": round(1e3 * t_ref, 2),
                "course_maxpool_ms": round(1e3 * t_ours, 2),
                "speedup": round(t_ref / t_ours, 2),
                "logits_identical": same,
            }
        )
        print(rows[-1], flush=True)
    record = {
        "device": "cpu (1 thread)",
        "network": f"pool_cnn conv {cpu.conv1}/{cpu.conv2}, hidden {cpu.hidden} (chapter 11, cpu row)",
        "target_speedups": TARGETS,
        "rows": rows,
        "target_met": all(r["speedup"] >= TARGETS[r["shape"]] and r["logits_identical"] for r in rows),
    }
    out = write_bench("pooling", record)
    print(f"wrote {out}: target {'met' if record['target_met'] else 'NOT met'}")


if __name__ == "__main__":
    main()
