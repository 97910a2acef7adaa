"""The catastrophic-overfitting rule (reliable_ml.robust.collapse) on crafted curves."""

import math

import pytest

from reliable_ml.robust import collapse

RULE = dict(gained=0.2, floor=0.05, fgsm_high=0.5, persist=2)


def test_a_run_that_became_robust_and_then_collapsed_is_caught_at_the_first_collapsed_check():
    pgd = [0.05, 0.25, 0.40, 0.42, 0.01, 0.00, 0.00]
    fgsm = [0.30, 0.50, 0.60, 0.62, 0.90, 0.95, 0.97]
    out = collapse.detect_collapse(pgd, fgsm, steps=[100, 200, 300, 400, 500, 600, 700], **RULE)
    assert out == {"collapsed": True, "step": 500, "peak": 0.42, "became_robust": True, "n_checks": 7}


def test_a_run_that_never_rose_cannot_collapse():
    out = collapse.detect_collapse([0.02, 0.10, 0.19, 0.01, 0.0], [0.4, 0.9, 0.9, 0.95, 0.99], **RULE)
    assert out["collapsed"] is False and out["became_robust"] is False and out["peak"] == 0.19


def test_a_run_that_held_is_not_collapsed_even_with_noise():
    pgd = [0.3 + 0.1 * math.sin(3 * k) for k in range(40)]  # noisy around 30%, never near 0
    out = collapse.detect_collapse(pgd, [0.7] * 40, **RULE)
    assert out["collapsed"] is False and out["became_robust"] is True


def test_a_single_noisy_dip_is_not_a_collapse_but_a_lasting_one_is():
    fgsm = [0.8] * 6
    assert not collapse.detect_collapse([0.3, 0.3, 0.02, 0.3, 0.3, 0.3], fgsm, **RULE)["collapsed"]
    assert collapse.detect_collapse([0.3, 0.3, 0.02, 0.03, 0.3, 0.3], fgsm, **RULE)["step"] == 3
    assert collapse.detect_collapse([0.3, 0.3, 0.02, 0.3, 0.3, 0.3], fgsm, **RULE | {"persist": 1})["step"] == 3


def test_pgd_near_zero_with_low_fgsm_accuracy_is_divergence_not_the_signature():
    out = collapse.detect_collapse([0.3, 0.35, 0.0, 0.0, 0.0], [0.6, 0.6, 0.1, 0.1, 0.1], **RULE)
    assert out["collapsed"] is False and out["became_robust"] is True


def test_a_fall_at_the_very_first_check_or_before_any_rise_does_not_count():
    # near zero at the start, robust later: nothing collapsed (the zero came before the rise)
    assert not collapse.detect_collapse([0.0, 0.0, 0.3, 0.4], [0.9, 0.9, 0.9, 0.9], **RULE)["collapsed"]


def test_every_threshold_is_inclusive_at_the_boundary():
    fgsm = [0.5] * 4
    assert collapse.detect_collapse([0.2, 0.05, 0.05, 0.05], fgsm, **RULE)["step"] == 2
    # just past each boundary: no collapse
    assert not collapse.detect_collapse([0.199, 0.05, 0.05, 0.05], fgsm, **RULE)["collapsed"]
    assert not collapse.detect_collapse([0.2, 0.051, 0.051, 0.051], fgsm, **RULE)["collapsed"]
    assert not collapse.detect_collapse([0.2, 0.05, 0.05, 0.05], [0.5, 0.499, 0.499, 0.499], **RULE)["collapsed"]


def test_a_collapse_in_the_last_checks_needs_persist_checks_to_be_seen():
    pgd, fgsm = [0.3, 0.3, 0.3, 0.0], [0.8] * 4
    assert not collapse.detect_collapse(pgd, fgsm, **RULE)["collapsed"]
    assert collapse.detect_collapse(pgd, fgsm, **RULE | {"persist": 1})["step"] == 4


def test_count_per_arm():
    runs = {
        "a": {
            "0": collapse.detect_collapse([0.3, 0.0, 0.0], [0.9] * 3, **RULE),
            "1": collapse.detect_collapse([0.1, 0.1, 0.1], [0.9] * 3, **RULE),
            "2": collapse.detect_collapse([0.3, 0.3, 0.3], [0.9] * 3, **RULE),
        }
    }
    assert collapse.count(runs) == {"a": {"collapsed": 1, "became_robust": 2, "never_robust": 1, "seeds": 3}}


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(pgd_acc=[0.1, 0.2], fgsm_train_acc=[0.1]), "same length"),
        (dict(pgd_acc=[], fgsm_train_acc=[]), "empty"),
        (dict(pgd_acc=[0.1, 12.0], fgsm_train_acc=[0.1, 0.1]), r"pgd_acc must hold accuracies in \[0, 1\]; got 12.0"),
        (dict(pgd_acc=[0.1, float("nan")], fgsm_train_acc=[0.1, 0.1]), "pgd_acc must hold"),
        (dict(pgd_acc=[0.1], fgsm_train_acc=[-0.1]), "fgsm_train_acc must hold"),
        (dict(pgd_acc=[0.1, 0.2], fgsm_train_acc=[0.1, 0.1], steps=[5, 5]), "strictly increasing"),
        (dict(pgd_acc=[0.1], fgsm_train_acc=[0.1], floor=0.3, gained=0.2), "floor must be below gained"),
        (dict(pgd_acc=[0.1], fgsm_train_acc=[0.1], fgsm_high=1.5), r"fgsm_high must be a fraction in \[0, 1\]"),
        (dict(pgd_acc=[0.1], fgsm_train_acc=[0.1], persist=0), "persist must be an integer >= 1"),
        (dict(pgd_acc=[0.1], fgsm_train_acc=[0.1], persist=1.5), "persist must be an integer >= 1"),
    ],
)
def test_bad_input_is_refused_with_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        collapse.detect_collapse(**kwargs)


def test_the_words_follow_what_the_rule_found():
    runs = {
        "0": {"steps": [10, 20, 30], "pgd_acc": [0.3, 0.0, 0.0], "fgsm_train_acc": [0.6, 0.9, 0.95]},
        "1": {"steps": [10, 20, 30], "pgd_acc": [0.1, 0.1, 0.1], "fgsm_train_acc": [0.6, 0.6, 0.6]},
    }
    found = {
        sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"], steps=r["steps"], **RULE)
        for sd, r in runs.items()
    }
    text = collapse.outcome_text(found, runs, "arm", 0.2)
    assert text.startswith("arm: 1 of 2 runs collapsed") and "collapsed at step 20 (0.0% PGD, 90.0%" in text
    assert "seed 1 never reached 20% PGD accuracy (peak 10.0%)" in text
    assert "Collapse does appear" in collapse.miniature_text(found, runs, "arm", 0.2)
    assert "did not appear" in collapse.miniature_text({"1": found["1"]}, runs, "arm", 0.2)
    rec = collapse.record(runs["0"], found["0"])
    assert rec["collapsed"] and rec["collapse_step"] == 20 and rec["pgd_acc"] == [0.3, 0.0, 0.0]
