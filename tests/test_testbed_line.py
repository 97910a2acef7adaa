"""labels.testbed_line: checkpoints, the mean drop above a floor, slopes by model set, re-evaluation offset."""

import numpy as np
import pandas as pd
import pytest

from reliable_ml.labels import testbed_line as tl


def _testbed():
    """Six real models losing 12 points (11.5-12.5), and four checkpoints near chance losing 1."""
    real = [
        ("resnet50", 76.0, 64.0),
        ("vgg16", 71.5, 59.0),
        ("densenet121", 74.4, 62.4),
        ("efficientnet_b0", 77.0, 64.5),
        ("alexnet", 56.5, 44.5),
        ("wide_resnet", 78.0, 66.5),
    ]
    ckpt = [(f"resnet18_50k_{k}_epochs", 3.0 + k, 2.0 + k) for k in (1, 2, 3, 4)]
    rows = [{"model": m, "val": v, tl.MF_COLUMN: y} for m, v, y in real + ckpt]
    return pd.DataFrame(rows)


def test_is_checkpoint_reads_the_epoch_suffix():
    got = tl.is_checkpoint(["resnet18_50k_12_epochs", "resnet101_1_epochs", "resnet50", "epochs_net", "a_3_epochs_b"])
    assert got.tolist() == [True, True, False, False, False]


def test_mean_drop_leaves_out_checkpoints_and_weak_models():
    out = tl.mean_drop(_testbed(), 60.0)
    drops = np.array([12.0, 12.5, 12.0, 12.5, 11.5])  # alexnet (56.5%) is below the floor
    assert out["n"] == 5 and out["mean"] == pytest.approx(drops.mean())
    assert (out["min"], out["max"]) == (11.5, 12.5)
    assert out["n_all"] == 10 and out["n_checkpoints"] == 4 and out["n_runs_checkpointed"] == 1
    assert out["n_below_10"] == 4
    assert out["lo"] < out["mean"] < out["hi"] and out["vs_recht"] == "within"  # 11.4 < lo, hi < 14


def test_mean_drop_places_the_interval_against_recht():
    tb = _testbed()
    tb.loc[:5, tl.MF_COLUMN] = tb.loc[:5, "val"] - np.array([5.0, 5.5, 4.5, 5.0, 5.0, 5.2])
    assert tl.mean_drop(tb, 0.0)["vs_recht"] == "below"
    with pytest.raises(ValueError, match="min_accuracy"):
        tl.mean_drop(tb, 100.0)


def test_slopes_by_model_set():
    x = np.array([10, 20, 30, 40, 50, 60, 65, 70, 75, 80, 85], float)
    names = [f"net_{i}_epochs" if v < 50 else f"net{i}" for i, v in enumerate(x)]
    from scipy.stats import norm

    y = 100 * norm.cdf(0.9 * norm.ppf(x / 100) - 0.2)  # an exact probit line of slope 0.9
    tb = pd.DataFrame({"model": names, "val": x, tl.MF_COLUMN: y})
    tb = tb.assign(**{c: y for c in ("imagenetv2-matched-frequency-format-val",)})
    out = tl.slopes(tb, min_accuracy=60.0, n_boot=50, seed=0)
    assert out["all"].n == 11 and out["no_checkpoints"].n == 7 and out["high"].n == 6
    for s in out.values():
        assert s.slope == pytest.approx(0.9, abs=1e-9)


def test_reevaluation_offset():
    tb = _testbed()
    correct = np.zeros((2, 1000), bool)
    correct[0, :650] = True  # resnet50: original 65.0, testbed 64.0
    correct[1, :580] = True  # vgg16: original 58.0, testbed 59.0
    out = tl.reevaluation_offset(tb, ["resnet50", "vgg16", "not_in_testbed"][:2], correct)
    assert out == {"mean": pytest.approx(0.0), "min": pytest.approx(-1.0), "max": pytest.approx(1.0), "n": 2}
    with pytest.raises(ValueError, match="no released model"):
        tl.reevaluation_offset(tb, ["x", "y"], correct)


def test_lead_needed_inverts_the_crossover():
    from reliable_ml.labels import label_quality as lq

    need = lq.lead_needed(73.45, 79.75, 11.8)  # the review's ResNet-18 / ResNet-50 example
    assert need == pytest.approx(6.3 * 0.882 / 0.118, rel=1e-9)
    assert lq.prevalence_crossover(73.45, 40.0 + need, 79.75, 40.0) == pytest.approx(11.8)
    with pytest.raises(ValueError, match="prevalence_pct"):
        lq.lead_needed(70, 80, 0)


@pytest.mark.parametrize(
    ("gap", "direction", "start"),
    [
        (2.0, "higher", "It corrects only part"),
        (-2.0, "lower", "Matched on"),
        (0.0, "cannot tell", "Whether it corrects"),
    ],
)
def test_reference_vs_matched_words_follow_the_verdict(gap, direction, start):
    from reliable_ml.labels import human_labels as hl

    mf = 90.0 - gap + np.array([-0.3, 0.1, 0.2, -0.1, 0.1])
    draws = pd.DataFrame({"strategy": ["matched_frequency"] * 5 + ["random"] * 5, "acc (%)": [*mf, *mf]})
    v, sentence = hl.reference_vs_matched(draws, 90.0)
    assert v.direction == direction and sentence.startswith(start)
    assert v.difference == pytest.approx(90.0 - mf.mean())


def test_numbers_glue_every_name_the_prose_needs():
    glued, results = tl.numbers(_testbed(), None, n_boot=20)
    assert glued["tb60_n"] == 5 and glued["tb60_vs_recht"] == "within"
    assert glued["tb60_mean_place"] == "falls in their range"
    assert tl._place(10.0) == "falls below their range" and tl._place(14.5) == "falls above their range"
    assert "v2_nockpt_slope" in glued and "v2_hi_slope_words" in glued and "reeval_mean" not in glued
    assert results["mean_drop_60"]["n_checkpoints"] == 4
    assert tl.numbers(None, None) == ({}, {})
