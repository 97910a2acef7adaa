"""Benchmark: PGD-10 adversarial training throughput, our trainer vs the usual way.

Ours: :func:`reliable_ml.robust.train.train` (uint8 data resident on the device, random crop +
flip as tensor ops there, bf16 autocast + channels_last on CUDA, input-only gradients in the
attack). Baseline, written the usual way: fp32, a ``torch.utils.data.DataLoader`` with
per-image torchvision transforms, and ``torchattacks.PGD`` inside the loop. Same model
(PreActResNet-18), data, batch size, eps = 8/255, 10 steps of 2/255, same device.

Prints both throughputs (training images per second, counting each image once per epoch),
the time per epoch and the ratio; writes ``results/bench/pgd_training.json``.

    python benchmarks/pgd_training.py            # full: 10,000 CIFAR-10 images, width 64
    python benchmarks/pgd_training.py --tiny     # under a minute on a CPU: 128 images, width 8
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from reliable_ml import device, device_name
from reliable_ml.course.results import results_root
from reliable_ml.data import DataUnavailable, load_images
from reliable_ml.models import nets as models
from reliable_ml.robust import train as rt

EPS, ALPHA, STEPS = 8 / 255, 2 / 255, 10


def load(n: int):
    try:
        x, y, info = load_images("cifar10", "train", download=False)
    except DataUnavailable:
        try:
            x, y, info = load_images("cifar10-jpeg", "train")
        except DataUnavailable:
            g = torch.Generator().manual_seed(0)
            return (
                torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8),
                torch.randint(0, 10, (n,), generator=g),
                "synthetic uint8 noise (CIFAR-10 unavailable)",
            )
    return x[:n], y[:n], info.source


def ours(model, x, y, batch_size: int, epochs: int) -> list[float]:
    cfg = rt.TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        method="pgd",
        eps=EPS,
        step_size=ALPHA,
        attack_steps=STEPS,
        augment=True,
        lr_max=0.1,
        val_size=0,
    )
    hist = rt.train(model, x, y, cfg, progress=False).history
    secs = [h["seconds"] for h in hist]
    return [b - a for a, b in zip([0.0] + secs, secs)]


def baseline(model, x, y, batch_size: int, epochs: int, workers: int) -> list[float]:
    import torchattacks
    from torchvision.transforms import v2

    dev = next(model.parameters()).device
    tf = v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()])

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            return tf(x[i]), y[i]

    loader = torch.utils.data.DataLoader(
        Images(),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        pin_memory=dev.type == "cuda",
        drop_last=False,
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    attack = torchattacks.PGD(model, eps=EPS, alpha=ALPHA, steps=STEPS, random_start=True)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for xb, yb in loader:
            xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
            x_adv = attack(xb, yb)
            model.train()
            loss = F.cross_entropy(model(x_adv), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="128 images, width-8 network, CPU-friendly")
    ap.add_argument("--n", type=int, default=None, help="training images (default 10,000; tiny 128)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs per trainer; the first is warm-up")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument(
        "--workers", type=int, default=None, help="baseline DataLoader workers (default 0 on CPU, 8 on GPU)"
    )
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = device()
    n = args.n or (128 if args.tiny else 10_000)
    width = 8 if args.tiny else 64
    bs = args.batch_size or (64 if args.tiny else 512)
    workers = args.workers if args.workers is not None else (8 if dev.type == "cuda" else 0)
    x, y, source = load(n)

    def fresh():
        torch.manual_seed(0)
        return models.preact_resnet18(width=width).to(dev)

    t_base = baseline(fresh(), x, y, bs, args.epochs, workers)
    t_ours = ours(fresh(), x, y, bs, args.epochs)
    epoch_base, epoch_ours = t_base[-1], t_ours[-1]  # the first epoch is warm-up (cudnn autotune, caches)
    record = {
        "benchmark": "pgd_training",
        "device": device_name(dev),
        "data": source,
        "n_train": len(y),
        "model": f"PreActResNet-18 (width {width}, {models.count_parameters(fresh()):,} parameters)",
        "attack": f"PGD-{STEPS}, eps 8/255, step 2/255, random start",
        "batch_size": bs,
        "epochs_timed": 1,
        "baseline": "fp32, DataLoader with per-image torchvision v2 transforms "
        f"({workers} workers), torchattacks.PGD in the loop",
        "ours": "reliable_ml.robust.train.train: data on device, device-side crop+flip"
        + (", bf16 autocast, channels_last" if dev.type == "cuda" else " (fp32 on CPU)"),
        "baseline_images_per_s": round(len(y) / epoch_base, 2),
        "ours_images_per_s": round(len(y) / epoch_ours, 2),
        "baseline_epoch_s": round(epoch_base, 3),
        "ours_epoch_s": round(epoch_ours, 3),
        "speedup_vs_baseline": round(epoch_base / epoch_ours, 3),
        "tiny": args.tiny,
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
    }
    out = results_root() / "bench" / "pgd_training.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    print(
        f"ours {record['ours_images_per_s']:.1f} img/s vs baseline {record['baseline_images_per_s']:.1f} img/s: "
        f"x{record['speedup_vs_baseline']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
