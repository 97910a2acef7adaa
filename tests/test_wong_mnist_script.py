"""robust/wong_mnist_script.py: Wong et al.'s MNIST script, transcribed."""

import pytest
import torch

from reliable_ml.robust import collapse
from reliable_ml.robust import train as rt
from reliable_ml.robust import wong_mnist_script as wms


def _linear(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))


def _images(n: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=g)
    x[:, :, :, :4] = 0.0  # half of every image at 0, like an MNIST background
    x[:, :, :2, 4:] = 1.0  # and some pixels at 1
    return x, torch.randint(0, 10, (n,), generator=g)


def test_the_clamped_start_ends_on_the_corner_where_pixels_sit_at_zero():
    model, (x, y), eps = _linear(), _images(), 0.3
    zero = x == 0
    clamped = wms.fgsm_rs_step(model, x, y, eps, 1.25 * eps, torch.Generator().manual_seed(1), clamp_start=True)
    ends = clamped[zero]
    assert torch.isclose(ends, torch.tensor(0.0)).logical_or(torch.isclose(ends, torch.tensor(eps))).all()  # the corner
    free = wms.fgsm_rs_step(model, x, y, eps, 1.25 * eps, torch.Generator().manual_seed(1), clamp_start=False)
    inside = free[zero][(free[zero] > 0) & (free[zero] < eps - 1e-6)]
    assert len(inside) > 0.1 * zero.sum()  # the unclamped start keeps its randomness
    assert inside.min() >= 0.25 * eps - 1e-6  # alpha - eps = 0.25 eps is the smallest positive end
    for delta in (clamped, free):
        assert delta.abs().max() <= eps + 1e-6
        assert ((x + delta) >= -1e-6).all() and ((x + delta) <= 1 + 1e-6).all()


def test_the_clamped_step_is_the_course_training_loop_step():
    """The transcription differs from reliable_ml.robust.train's FGSM-RS only in the clamp."""
    model, (x, y), eps = _linear(2), _images(seed=3), 0.3
    ours = rt.perturb(model, x, y, eps, 1.25 * eps, 1, torch.Generator().manual_seed(5))
    delta = wms.fgsm_rs_step(model, x, y, eps, 1.25 * eps, torch.Generator().manual_seed(5), clamp_start=True)
    assert torch.allclose(ours, x + delta, atol=1e-6)


def test_learning_rate_is_the_script_interpolation():
    lr = lambda t: wms.learning_rate(t, 10, 5e-3)  # noqa: E731
    assert lr(0) == 0.0 and abs(lr(4) - 5e-3) < 1e-12 and lr(10) == 0.0
    assert abs(lr(2) - 2.5e-3) < 1e-12 and abs(lr(7) - 2.5e-3) < 1e-12


def test_script_runs_are_watched_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path))
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(200, 1, 8, 8, generator=g) * 255).to(torch.uint8)
    y = torch.randint(0, 10, (200,), generator=g)
    kw = dict(seeds=2, check_every=2, check_steps=2, width=2, epochs=2, eps=0.1)
    out = wms.script_runs(x, y, x[:20], y[:20], **kw)
    runs = out["runs"][wms.LABEL]
    assert sorted(runs) == ["0", "1"]
    assert runs["0"]["steps"] == [2, 4]  # 2 steps per epoch of 100, checked every 2 and after the last
    for key in ("pgd_acc", "clean_acc", "fgsm_train_acc"):
        assert all(0 <= v <= 1 for v in runs["0"][key])
    assert all(p <= c + 1e-9 for p, c in zip(runs["0"]["pgd_acc"], runs["0"]["clean_acc"]))
    assert wms.script_runs(x, y, x[:20], y[:20], **kw) == out  # warm: the saved value
    assert len(list(tmp_path.rglob("*.pt"))) == 1
    wms.script_runs(x, y, x[:20], y[:20], **(kw | {"seeds": 1}))  # a changed setting recomputes
    assert len(list(tmp_path.rglob("*.pt"))) == 2


def test_transcription_text_follows_the_counts():
    course = {"seeds": 3, "became_robust": 1, "collapsed": 1}
    text = lambda s, **kw: collapse.transcription_text(s, course, 0.2, course_hidden=128, **kw)  # noqa: E731
    fell = text({"seeds": 3, "became_robust": 3, "collapsed": 2}, lasting=1)
    assert "3 of 3 runs reached 20% PGD accuracy and 2 of them collapsed" in fell
    assert "Of the 2 collapsed runs, 1 then fell to about 0% and stayed there and 1 did not." in fell
    held = text({"seeds": 3, "became_robust": 3, "collapsed": 0}, lasting=0)
    assert "Every run of their script reached 20% and none collapsed" in held and "catastrophic" not in held
    assert "while the course" not in held  # the arms are compared by the verdict rule, not here
    never = text({"seeds": 3, "became_robust": 0, "collapsed": 0}, lasting=0)
    assert "No run of their script reached 20% either." in never and "explain" not in never
    with pytest.raises(ValueError, match="count's seeds"):
        text({"seeds": 3}, lasting=0)
    with pytest.raises(ValueError, match="lasting must count"):
        text({"seeds": 3, "became_robust": 3, "collapsed": 1}, lasting=2)


def test_lasting_fall_tells_a_lasting_fall_from_a_recovery():
    found = {"collapsed": True, "step": 20}
    fell = {"steps": [10, 20, 30, 40, 50], "pgd_acc": [0.6, 0.3, 0.02, 0.01, 0.0]}
    assert collapse.lasting_fall(fell, found, near_zero=0.05, persist=2) == 30
    swing = {"steps": [10, 20, 30, 40, 50], "pgd_acc": [0.6, 0.3, 0.02, 0.5, 0.03]}
    assert collapse.lasting_fall(swing, found, near_zero=0.05, persist=2) is None
    assert collapse.lasting_fall(fell, {"collapsed": False, "step": None}) is None


def test_transcription_text_with_the_runs_tells_a_rise_from_a_spike_and_bounds_success():
    from scipy import stats as st

    steps = [50, 100, 150, 200, 250, 300]
    fgsm = [0.5] + [0.9] * 5
    runs = {
        "0": {"steps": steps, "pgd_acc": [0.3, 0.6, 0.5, 0.1, 0.0, 0.0], "fgsm_train_acc": fgsm},
        "1": {"steps": steps, "pgd_acc": [0.1, 0.25, 0.22, 0.02, 0.01, 0.0], "fgsm_train_acc": fgsm},
        "2": {"steps": steps, "pgd_acc": [0.04, 0.43, 0.05, 0.06, 0.3, 0.27], "fgsm_train_acc": fgsm},
    }
    found = {sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"], steps=steps) for sd, r in runs.items()}
    assert all(f["collapsed"] for f in found.values())
    course = {"seeds": 3, "became_robust": 1, "collapsed": 1}
    counts = collapse.count({"s": found})["s"]
    text = collapse.transcription_text(counts, course, 0.2, course_hidden=128, lasting=2, runs=runs, found=found)
    assert "2 (seeds 0 and 1) fell after a rise to about 0% and stayed there" in text
    assert "seed 1 from a peak of 25.0%, at or above 20% at 2 of its 3 checks before the fall" in text
    assert (
        "seed 2 fell from a peak of 43.0% that was a single check, not a robust phase, and rose later, to 30.0%" in text
    )
    assert "catastrophic overfitting (a lasting fall after a rise) in 2 of 3 runs" in text and "too" not in text
    lo, hi = st.beta.ppf(0.025, 1, 3), st.beta.ppf(0.975, 2, 2)  # exact interval for 1 of 3
    assert "1 of 3 runs ended at 20% PGD accuracy or more at the last check" in text
    assert f"anywhere from {100 * lo:.1f}% to {100 * hi:.1f}%" in text and "do not account" not in text
    assert "no run ended above 27.0%, so none comes near the robust MNIST model" in text
    no_fall = {sd: dict(r, pgd_acc=[0.3, 0.6, 0.35, 0.36, 0.4, 0.6]) for sd, r in runs.items()}
    f2 = {sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"], steps=steps) for sd, r in no_fall.items()}
    c2 = collapse.count({"s": f2})["s"]
    t2 = collapse.transcription_text(c2, course, 0.2, course_hidden=128, lasting=0, runs=no_fall, found=f2)
    assert "comes near" not in t2 and "3 of 3 runs ended at 20%" in t2
    assert collapse.ended_robust(runs, 0.2) == ["2"]
    with pytest.raises(ValueError, match="disagrees"):
        collapse.transcription_text(counts, course, 0.2, course_hidden=128, lasting=1, runs=runs, found=found)
    with pytest.raises(ValueError, match="go together"):
        collapse.transcription_text(counts, course, 0.2, course_hidden=128, lasting=2, runs=runs)
