"""The catastrophic-overfitting rule (reliable_ml.robust.collapse) on crafted curves."""

import math

import pytest

from reliable_ml.robust import collapse

RULE = dict(drop=0.2, persist=2)


def test_a_run_that_became_robust_and_then_collapsed_is_caught_at_the_first_collapsed_check():
    pgd = [0.05, 0.25, 0.40, 0.42, 0.01, 0.00, 0.00]
    fgsm = [0.30, 0.50, 0.60, 0.62, 0.90, 0.95, 0.97]
    out = collapse.detect_collapse(pgd, fgsm, steps=[100, 200, 300, 400, 500, 600, 700], **RULE)
    assert out == {"collapsed": True, "step": 500, "peak": 0.42, "became_robust": True, "n_checks": 7}


def test_a_low_accuracy_collapse_is_caught_although_nothing_reaches_half():
    # a miniature: PGD peaks at 28% and falls to 6% while FGSM training accuracy, never above 40%,
    # stays at its level at the peak; an absolute rule (FGSM >= 50%, PGD <= 5%) could not fire here
    pgd = [0.10, 0.20, 0.28, 0.25, 0.07, 0.06, 0.05]
    fgsm = [0.15, 0.22, 0.30, 0.31, 0.35, 0.38, 0.40]
    out = collapse.detect_collapse(pgd, fgsm, steps=[20, 40, 60, 80, 100, 120, 140], **RULE)
    assert out["collapsed"] and out["step"] == 100 and out["peak"] == 0.28


def test_a_low_accuracy_run_that_only_wobbles_is_not_collapsed():
    # the cpu CIFAR-10 miniature's shape: PGD creeping up to 25% with dips of a few points
    pgd = [0.098, 0.129, 0.176, 0.191, 0.215, 0.191, 0.184, 0.227, 0.203, 0.207, 0.254, 0.23]
    fgsm = [0.035, 0.146, 0.18, 0.177, 0.179, 0.206, 0.205, 0.205, 0.221, 0.238, 0.232, 0.232]
    out = collapse.detect_collapse(pgd, fgsm, **RULE)
    assert not out["collapsed"] and out["became_robust"] and out["peak"] == 0.254


def test_a_run_that_never_rose_cannot_collapse():
    out = collapse.detect_collapse([0.02, 0.10, 0.19, 0.01, 0.0], [0.4, 0.9, 0.9, 0.95, 0.99], **RULE)
    assert out["collapsed"] is False and out["became_robust"] is False and out["peak"] == 0.19


def test_a_run_that_held_is_not_collapsed_even_with_noise():
    pgd = [0.3 + 0.09 * math.sin(3 * k) for k in range(40)]  # noisy around 30%, swings < 20 points
    out = collapse.detect_collapse(pgd, [0.7] * 40, **RULE)
    assert out["collapsed"] is False and out["became_robust"] is True


def test_a_single_noisy_dip_is_not_a_collapse_but_a_lasting_one_is():
    fgsm = [0.8] * 6
    assert not collapse.detect_collapse([0.3, 0.3, 0.02, 0.3, 0.3, 0.3], fgsm, **RULE)["collapsed"]
    assert collapse.detect_collapse([0.3, 0.3, 0.02, 0.03, 0.3, 0.3], fgsm, **RULE)["step"] == 3
    assert collapse.detect_collapse([0.3, 0.3, 0.02, 0.3, 0.3, 0.3], fgsm, **RULE | {"persist": 1})["step"] == 3


def test_a_fall_with_falling_fgsm_accuracy_is_divergence_not_the_signature():
    out = collapse.detect_collapse([0.3, 0.35, 0.0, 0.0, 0.0], [0.6, 0.6, 0.1, 0.1, 0.1], **RULE)
    assert out["collapsed"] is False and out["became_robust"] is True


def test_a_fall_at_the_very_first_check_or_before_any_rise_does_not_count():
    # near zero at the start, robust later: nothing collapsed (the zero came before the rise)
    assert not collapse.detect_collapse([0.0, 0.0, 0.3, 0.4], [0.9, 0.9, 0.9, 0.9], **RULE)["collapsed"]


def test_the_fgsm_level_is_the_one_at_the_peak_and_every_threshold_is_inclusive():
    # drop exactly 20 points, FGSM exactly at its level at the peak: collapsed
    assert collapse.detect_collapse([0.5, 0.3, 0.3, 0.3], [0.6, 0.6, 0.6, 0.6], **RULE)["step"] == 2
    # just short of each boundary: not collapsed
    assert not collapse.detect_collapse([0.5, 0.301, 0.301, 0.301], [0.6] * 4, **RULE)["collapsed"]
    assert not collapse.detect_collapse([0.5, 0.3, 0.3, 0.3], [0.6, 0.599, 0.599, 0.599], **RULE)["collapsed"]
    # the level is the FGSM accuracy at the first check of the running peak, not at the check before
    # the fall: FGSM 0.7 at the peak, dipping to 0.5 before the fall and back to 0.65: not collapsed
    assert not collapse.detect_collapse([0.5, 0.45, 0.1, 0.1], [0.7, 0.5, 0.65, 0.65], **RULE)["collapsed"]


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
        (dict(pgd_acc=[0.1], fgsm_train_acc=[0.1], drop=0.0), r"drop must be a fraction in \(0, 1\]; got 0.0"),
        (dict(pgd_acc=[0.1], fgsm_train_acc=[0.1], drop=1.5), r"drop must be a fraction in \(0, 1\]; got 1.5"),
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
    assert "seed 1 never reached 20% PGD accuracy (peak 10.0%), so it had no room to fall" in text
    assert "Collapse by the rule does appear" in collapse.miniature_text(found, runs, "arm", 0.2)
    assert "did not appear" in collapse.miniature_text({"1": found["1"]}, runs, "arm", 0.2)
    rec = collapse.record(runs["0"], found["0"])
    assert rec["collapsed"] and rec["collapse_step"] == 20 and rec["pgd_acc"] == [0.3, 0.0, 0.0]


def test_the_testable_text_says_an_empty_count_is_empty():
    never = {"a": {"collapsed": 0, "became_robust": 0, "never_robust": 3, "seeds": 3}}
    text = collapse.testable_text(never, 0.2, 300, 0.141)
    assert text.startswith("No run became robust in 300 steps: none of the 3 reached 20% PGD accuracy")
    assert "(highest 14.1%)" in text and "cannot test" in text
    some = {"a": {"collapsed": 1, "became_robust": 2, "never_robust": 1, "seeds": 3}}
    text = collapse.testable_text(some, 0.2, 300, 0.4)
    assert text.startswith("2 of 3 runs reached 20% PGD accuracy") and "1 of those collapsed" in text
    assert "The other 1 never reached it, so the rule cannot test them." in text and "(highest 40.0%)" in text
    text = collapse.testable_text(some, 0.2, 300, 0.4, n_state=1)
    assert text.endswith(
        "1 of 3 ended in the state catastrophic overfitting leaves (clean accuracy at least 50%, accuracy on its own "
        "FGSM batches at least 50% and PGD accuracy at most 5% at the last check), reached with no measured robust "
        "phase; the rule needs a fall, so it does not count them, and whether any of them passed through a robust "
        "phase between two checks, the data cannot tell."
    )
    every = {"a": {"collapsed": 0, "became_robust": 3, "never_robust": 0, "seeds": 3}}
    text = collapse.testable_text(every, 0.2, 1500, 0.5)
    assert text == (
        "All 3 runs reached 20% PGD accuracy within 1,500 steps (highest 50.0%), so the rule could test each of them; "
        "0 collapsed."
    )


def test_arms_are_compared_by_exact_counts_and_three_seeds_cannot_separate():
    counts = {
        "zero": {"collapsed": 0, "became_robust": 0, "never_robust": 3, "seeds": 3},
        "rs": {"collapsed": 0, "became_robust": 3, "never_robust": 0, "seeds": 3},
        "big": {"collapsed": 3, "became_robust": 3, "never_robust": 0, "seeds": 3},
    }
    v = collapse.compare_arms(counts, "big", "rs")
    # 3/3 against 0/3: Fisher's exact p = 2 / C(6, 3) = 0.1, so even the most extreme split is "cannot tell"
    assert v["collapsed"].direction == "cannot tell" and v["collapsed"].p_value == pytest.approx(0.1)
    assert v["collapsed"].difference == 1.0 and v["became_robust"].direction == "cannot tell"
    assert v["became_robust"].difference == 0.0 and v["became_robust"].p_value == pytest.approx(1.0)
    none = collapse.compare_arms(counts, "zero", "rs")
    assert none["collapsed"] is None and none["became_robust"].difference == -1.0
    text = collapse.comparison_text(counts, "zero", "rs", none)
    assert text.startswith("zero against rs: 0 of 3 against 3 of 3 runs became robust, the data cannot tell")
    assert "collapse cannot be compared" in text
    text = collapse.comparison_text(counts, "big", "rs", v)
    assert "3 of 3 against 0 of 3 collapsed, the data cannot tell the arms apart (difference +100.0 points" in text
    many = {k: {key: 4 * n for key, n in c.items()} for k, c in counts.items()}  # 12 seeds per arm
    assert collapse.compare_arms(many, "big", "rs")["collapsed"].direction == "higher"
    with pytest.raises(ValueError, match=r"unknown arm 'x'; allowed: \['big', 'rs', 'zero'\]"):
        collapse.compare_arms(counts, "x", "rs")


def test_the_end_state_needs_all_three_thresholds_inclusive():
    assert collapse.ended_overfit(0.93, 0.75, 0.004)  # chapter 04's zero-start seed 0
    assert collapse.ended_overfit(0.5, 0.5, 0.05)  # every inequality inclusive
    assert not collapse.ended_overfit(0.31, 0.23, 0.0)  # a CIFAR-10 miniature seed: it never learned the task
    assert not collapse.ended_overfit(0.96, 0.86, 0.46)  # robust: PGD accuracy far from zero
    assert not collapse.ended_overfit(0.96, 0.49, 0.0)  # the training attack still wins
    assert not collapse.ended_overfit(0.96, 0.9, 0.04, pgd_max=0.03)
    with pytest.raises(ValueError, match=r"pgd_acc must be a fraction in \[0, 1\]; got 1.5"):
        collapse.ended_overfit(0.9, 0.9, 1.5)
    with pytest.raises(ValueError, match="clean_min must be a fraction"):
        collapse.ended_overfit(0.9, 0.9, 0.0, clean_min=float("nan"))


def test_unmeasured_overfit_names_only_runs_without_a_robust_phase():
    runs = {
        "0": {"steps": [50, 100], "pgd_acc": [0.1, 0.0], "clean_acc": [0.1, 0.9], "fgsm_train_acc": [0.2, 0.9]},
        "1": {"steps": [50, 100], "pgd_acc": [0.4, 0.0], "clean_acc": [0.9, 0.9], "fgsm_train_acc": [0.6, 0.9]},
        "2": {"steps": [50, 100], "pgd_acc": [0.1, 0.0], "clean_acc": [0.1, 0.3], "fgsm_train_acc": [0.2, 0.3]},
    }
    found = {
        sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"], steps=r["steps"], persist=1)
        for sd, r in runs.items()
    }
    assert found["1"]["collapsed"]  # seen falling: a collapse, not an unmeasured one
    assert collapse.unmeasured_overfit(found, runs) == ["0"]  # seed 2 never learned the task
    assert collapse.unmeasured_overfit(found, runs, clean_min=0.95) == []


def test_a_peak_at_chance_is_called_never_above_chance():
    runs = {
        "0": {"steps": [50, 100], "pgd_acc": [0.102, 0.0], "clean_acc": [0.102, 0.93], "fgsm_train_acc": [0.1, 0.95]}
    }
    found = {"0": collapse.detect_collapse(runs["0"]["pgd_acc"], runs["0"]["fgsm_train_acc"], steps=[50, 100])}
    text = collapse.outcome_text(found, runs, "arm", 0.2, chance=0.102)
    assert (
        "seed 0's PGD accuracy never rose above chance (peak 10.2% at step 50, where its clean accuracy was 10.2%), so"
        in text
    )
    assert "never rose above chance" not in collapse.outcome_text(found, runs, "arm", 0.2, chance=0.09)


def test_state_and_meaning_texts_count_what_the_rules_found():
    runs = {
        "a": {
            "0": {"steps": [50, 100], "pgd_acc": [0.1, 0.004], "clean_acc": [0.1, 0.93], "fgsm_train_acc": [0.1, 0.74]},
            "1": {"steps": [50, 100], "pgd_acc": [0.1, 0.0], "clean_acc": [0.1, 0.77], "fgsm_train_acc": [0.1, 0.95]},
        },
        "b": {
            "0": {"steps": [50, 100], "pgd_acc": [0.3, 0.46], "clean_acc": [0.6, 0.96], "fgsm_train_acc": [0.5, 0.86]},
            "1": {"steps": [50, 100], "pgd_acc": [0.1, 0.0], "clean_acc": [0.1, 0.2], "fgsm_train_acc": [0.1, 0.3]},
        },
    }
    found = {
        a: {sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"]) for sd, r in by.items()}
        for a, by in runs.items()
    }
    state = {a: collapse.unmeasured_overfit(found[a], runs[a]) for a in runs}
    assert state == {"a": ["0", "1"], "b": []}
    text = collapse.state_text(state, runs, 50)
    assert text.startswith(
        "2 of 4 runs ended in the state catastrophic overfitting leaves, reached with no measured robust phase: "
        "77.0–93.0% clean on the check images, 74.0–95.0% on their FGSM batches and 0.0–0.4% under"
    )
    assert collapse.state_text({"a": [], "b": []}, runs, 50).startswith("No run ended")
    counts = collapse.count(found)
    vs = {"a": collapse.compare_arms(counts, "a", "b")}
    text = collapse.meaning_text(counts, state, vs, "b", check_every=50, drop=0.2, n_steps=100, peak=0.46)
    assert (
        "1 of 4 fast (single FGSM step) runs reached 20% PGD accuracy within 100 steps (highest 46.0%) and 0 " in text
    )
    assert "2 of 4 ended in the state catastrophic overfitting leaves, reached with no measured robust phase" in text
    assert "a: 0 of 2 became robust, 0 collapsed, 2 ended in that state" in text
    assert "a: the data cannot tell the arms apart" in text and ", Fisher p = 1.00" in text


def test_after_collapse_tells_a_lasting_fall_from_a_swing():
    steps = [50, 100, 150, 200, 250, 300, 350]
    swing = {"steps": steps, "pgd_acc": [0.1, 0.5, 0.2, 0.25, 0.45, 0.3, 0.18], "fgsm_train_acc": [0.5] + [0.9] * 6}
    lasting = {"steps": steps, "pgd_acc": [0.1, 0.5, 0.2, 0.04, 0.0, 0.01, 0.0], "fgsm_train_acc": [0.5] + [0.9] * 6}
    runs = {"arm": {"0": swing, "1": lasting}}
    found = {
        "arm": {
            sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"], steps=steps)
            for sd, r in runs["arm"].items()
        }
    }
    assert found["arm"]["0"]["collapsed"] and found["arm"]["1"]["collapsed"]
    text = collapse.after_collapse_text(runs, found)
    assert (
        "Seed 0 of arm fell by the rule at step 150 (from a peak of 50.0%); from then on its PGD accuracy ranged "
        "from 18.0% to 45.0% and ended at 18.0%, and it never sat at or below 5%" in text
    )
    assert "a fall and recovery that the running-peak rule counts" in text
    assert "Seed 1 of arm" in text and "sat at or below 5% for 2 checks running from step 200" in text
    assert collapse.after_collapse_text(runs, {"arm": {"0": {**found["arm"]["0"], "collapsed": False}}}) == ""


def test_hidden_phase_text_follows_how_fast_the_robust_runs_moved():
    steps = [50, 100, 150, 200]
    calm = {"steps": steps, "pgd_acc": [0.3, 0.35, 0.4, 0.42], "fgsm_train_acc": [0.9] * 4}
    wild = {"steps": steps, "pgd_acc": [0.1, 0.45, 0.2, 0.4], "fgsm_train_acc": [0.9] * 4}
    flat = {"steps": steps, "pgd_acc": [0.02, 0.05, 0.03, 0.0], "fgsm_train_acc": [0.9] * 4}

    def found(runs):
        return {
            a: {sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"]) for sd, r in by.items()}
            for a, by in runs.items()
        }

    runs = {"a": {"0": calm, "1": flat}}
    assert "would need faster swings" in collapse.hidden_phase_text(runs, found(runs), 0.2, 50)
    assert "at most 5.0 points" in collapse.hidden_phase_text(runs, found(runs), 0.2, 50)
    runs = {"a": {"0": wild, "1": flat}}
    assert "cannot be ruled out" in collapse.hidden_phase_text(runs, found(runs), 0.2, 50)
    assert "up to 35.0 points" in collapse.hidden_phase_text(runs, found(runs), 0.2, 50)
    runs = {"a": {"1": flat}}
    assert "no run here became robust" in collapse.hidden_phase_text(runs, found(runs), 0.2, 50)


def test_escaped_state_names_a_robust_run_that_first_sat_in_the_end_state():
    steps = [50, 100, 150, 200]
    escaped = {"steps": steps, "pgd_acc": [0.0, 0.01, 0.3, 0.35], "clean_acc": [0.9] * 4, "fgsm_train_acc": [0.8] * 4}
    direct = {"steps": steps, "pgd_acc": [0.1, 0.25, 0.3, 0.35], "clean_acc": [0.9] * 4, "fgsm_train_acc": [0.8] * 4}
    runs = {"a": {"0": escaped, "1": direct}}
    found = {"a": {sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"]) for sd, r in runs["a"].items()}}
    text = collapse.escaped_state_text(runs, found, 0.2)
    assert text.startswith("1 run(s) that became robust had first been in that state and rose out of it (seed 0 of a, ")
    assert "reached 20% at step 150" in text and "not known to be final" in text
    assert collapse.escaped_state_text({"a": {"1": direct}}, {"a": {"1": found["a"]["1"]}}, 0.2) == ""


def test_after_collapse_names_a_single_check_spike_and_the_later_rise():
    steps = [50, 100, 150, 200, 250, 300, 350, 400]
    spike = {
        "steps": steps,
        "pgd_acc": [0.04, 0.43, 0.05, 0.06, 0.07, 0.3, 0.5, 0.27],
        "fgsm_train_acc": [0.5] + [0.9] * 7,
    }
    rise = {"steps": steps, "pgd_acc": [0.1, 0.3, 0.35, 0.3, 0.02, 0.0, 0.01, 0.0], "fgsm_train_acc": [0.5] + [0.9] * 7}
    runs = {"arm": {"2": spike, "1": rise}}
    found = {
        "arm": {
            sd: collapse.detect_collapse(r["pgd_acc"], r["fgsm_train_acc"], steps=steps)
            for sd, r in runs["arm"].items()
        }
    }
    assert collapse.peak_spike(spike, found["arm"]["2"], 0.2) == (0.04, 0.05)
    assert collapse.peak_spike(rise, found["arm"]["1"], 0.2) is None  # neighbours 0.3 and 0.3: within 0.2
    assert collapse.peak_spike(spike, found["arm"]["2"], 0.4) is None  # 0.43 - 0.05 is not more than 0.4
    text = collapse.after_collapse_text(runs, found, drop=0.2)
    assert "that peak was a single check between 4.0% and 5.0% (both more than the rule's 20 points below it)" in text
    assert (
        "it rose later: from step 300 on, 3 of its 3 checks were at or above 20%, peaking at 50.0% at step 350" in text
    )
    assert "before the fall its PGD accuracy was at or above 20% at 1 of its 2 checks" in text
    assert "Seed 1 of arm" in text and "the lasting fall to about 0% that Wong et al. describe" in text
    assert "single check" not in collapse.after_collapse_text(runs, found)  # without the drop: as before
    with pytest.raises(ValueError, match="drop must be a fraction"):
        collapse.peak_spike(spike, found["arm"]["2"], 0.0)
