"""PLACEHOLDER (i26) for the course's one shared L-infinity-robust MNIST model.

The real module comes from another branch (issue: the shared robust model) with the same
interface; this stand-in exists only so that chapter 11 runs before that merge. It trains a
small CNN with FGSM-RS (``reliable_ml.robust_train``), evaluates it with FGSM and PGD on
``n_eval`` test images, and caches both the weights and the card under ``RELIABLE_ML_CACHE``.
"""
from __future__ import annotations

import hashlib
import json

import torch

PROFILES = {  # n_train, epochs, eps, n_eval, pgd steps
    "smoke": dict(n_train=1347, epochs=6, eps=0.1, n_eval=300, steps=10),
    "cpu": dict(n_train=10_000, epochs=3, eps=0.3, n_eval=1000, steps=20),
    "gpu": dict(n_train=60_000, epochs=10, eps=0.3, n_eval=10_000, steps=50),
}


def shared_robust_model(dataset: str = "mnist", profile: str = "cpu", progress: bool = True
                        ) -> tuple[torch.nn.Module, dict]:
    """``(model, card)``: the model in eval mode on the CPU, taking [0, 1] images (N, 1, 28, 28)
    (8x8 on the digits fallback) with normalization as its first layer, and its card."""
    from . import attacks, models
    from . import robust_train as rt
    from .data import cache_dir, load_images

    if dataset not in ("mnist", "digits"):
        raise ValueError(f"unknown dataset {dataset!r}; allowed: mnist, digits")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    s = PROFILES[profile]
    train_set = load_images(dataset, "train", fallback=True)
    test_set = load_images(dataset, "test", fallback=True)
    name = train_set.info.name
    eps = s["eps"] if name == "mnist" else min(s["eps"], 0.1)
    n = min(s["n_train"], len(train_set.y))
    cfg = rt.TrainConfig(epochs=s["epochs"], batch_size=100, method="fgsm_rs", eps=eps, step_size=1.25 * eps,
                         eps_ramp_epochs=1.0, optimizer="adam", lr_max=5e-3, weight_decay=0.0, val_size=0, seed=0)
    fingerprint = hashlib.sha256(repr((name, n, sorted(s.items()), sorted(vars(cfg).items()),
                                       torch.__version__)).encode()).hexdigest()[:16]
    folder = cache_dir() / "models" / "robust_placeholder"
    ckpt, card_path = folder / f"{fingerprint}.pt", folder / f"{fingerprint}.json"
    torch.manual_seed(0)
    model = models.small_cnn(in_channels=1, image_size=train_set.x.shape[-1])
    rt.train(model, train_set.x[:n], train_set.y[:n], cfg, checkpoint=ckpt, resume=True, progress=progress)
    model.eval()
    if card_path.exists():
        return model, json.loads(card_path.read_text())
    m = min(s["n_eval"], len(test_set.y))
    x, y = test_set.x[:m].float() / 255, test_set.y[:m]
    gen = torch.Generator().manual_seed(0)
    attack_acc = {"fgsm": 100 * attacks.robust_accuracy(model, x, y, eps, steps=1, step_size=eps, generator=gen),
                  f"pgd{s['steps']}": 100 * attacks.robust_accuracy(model, x, y, eps, steps=s["steps"], generator=gen)}
    card = {"fingerprint": fingerprint, "worst_case_acc": min(attack_acc.values()), "attack_acc": attack_acc,
            "clean_acc": 100 * attacks.accuracy(model, x, y), "eps": eps, "n_eval": m, "dataset": name,
            "recipe": f"placeholder (i26): FGSM-RS small CNN, {n} images, {s['epochs']} epochs",
            "masking": "not checked (placeholder)"}
    folder.mkdir(parents=True, exist_ok=True)
    card_path.write_text(json.dumps(card, indent=1))
    return model, card
