"""Chapter 7's experiment helpers: seeds, summaries, results keys, on tiny digits runs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
import torch

from reliable_ml.pipeline import backdoor_lab as bl
from reliable_ml.pipeline import poisoning as po


def fake_runs(success: dict, clean: dict) -> pd.DataFrame:
    """Runs frame as badnets_sweep returns it, from {fraction: [per-seed values]}."""
    rows = [
        {"fraction": f, "seed": s, "poisoned": int(1000 * f), "hits": 0, "n": 100, "success": v, "clean": clean[f][s]}
        for f, vals in success.items()
        for s, v in enumerate(vals)
    ]
    runs = pd.DataFrame(rows)
    base = runs[runs["fraction"] == 0].set_index("seed")["clean"]
    runs["drop"] = 100 * (runs["seed"].map(base) - runs["clean"])
    return runs


def test_summary_spread_and_first_reliable_share_use_the_worst_seed():
    runs = fake_runs(
        {0.0: [0.0, 0.0, 0.0], 0.001: [0.95, 0.5, 0.99], 0.01: [0.97, 0.91, 0.99]},
        {0.0: [0.98, 0.97, 0.98], 0.001: [0.98, 0.97, 0.98], 0.01: [0.975, 0.965, 0.975]},
    )
    summary = bl.sweep_summary(runs)
    assert summary.loc[0.001, "seeds"] == 3
    assert summary.loc[0.001, "success sd"] == pytest.approx(100 * np.std([0.95, 0.5, 0.99], ddof=1))
    assert summary.loc[0.001, "success min (%)"] == pytest.approx(50)
    assert summary.loc[0.01, "drop mean (points)"] == pytest.approx(0.5)
    # 0.1% has a mean above 80% but one seed at 50%: the first reliable share is 1%
    assert bl.first_reliable(summary) == 0.01
    assert bl.first_reliable(summary, min_success=99.5) is None
    numbers = bl.sweep_numbers(summary)
    assert numbers["bd_first"] == pytest.approx(1.0) and numbers["bd_target"] == "met on point estimates"
    assert numbers["bd_low_lead"].startswith("Below that share")
    assert bl.sweep_numbers(summary.loc[[0.0, 0.01]])["bd_low_lead"].startswith("Even the lowest share")
    assert bl.sweep_numbers(summary.loc[[0.0, 0.001]])["bd_low_lead"].startswith("No share")
    assert numbers["bd_low_min"] == pytest.approx(50) and numbers["bd_low_max"] == pytest.approx(99)


def test_sweep_figures_keep_the_historical_keys_and_add_the_spread():
    runs = fake_runs({0.0: [0.0, 0.02], 0.005: [0.85, 1.0]}, {0.0: [0.98, 0.96], 0.005: [0.97, 0.96]})
    fig = bl.sweep_figures(runs)
    assert fig["attack_success_by_poison_fraction"] == {"0": pytest.approx(0.01), "0.005": pytest.approx(0.925)}
    assert fig["attack_success_sd_by_poison_fraction"]["0.005"] == pytest.approx(np.std([0.85, 1.0], ddof=1))
    assert fig["attack_success_by_seed_by_poison_fraction"]["0.005"] == [0.85, 1.0]
    assert fig["attack_success_range_by_poison_fraction"]["0.005"] == [0.85, 1.0]
    assert fig["clean_acc_drop_points_by_poison_fraction"]["0.005"] == pytest.approx(0.5)
    assert fig["n_seeds"] == 2 and fig["seeds"] == [0, 1]
    assert fig["first_reliable_poison_fraction"] is None and fig["target_met"] is False


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """The result cache of every test here is a fresh folder, never the user's."""
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def lab():
    return bl.setup("digits", 400, epochs=1, target=0, trigger_size=2, seed=0, device=torch.device("cpu"))


def test_setup_splits_disjoint_parts_and_rejects_bad_sizes(lab):
    assert len(lab.y_train) == 400 and lab.image_size == 8 and lab.x_test.dtype == torch.uint8
    assert len(lab.y_train) + len(lab.y_other) == 1347  # digits' training split
    with pytest.raises(ValueError, match="n_train"):
        bl.setup("digits", 10, epochs=1, target=0, trigger_size=2, seed=0, device=torch.device("cpu"))
    with pytest.raises(ValueError, match="target class 12"):
        bl.setup("digits", 400, epochs=1, target=12, trigger_size=2, seed=0, device=torch.device("cpu"))


def test_badnets_sweep_one_row_per_share_and_seed(lab, own_cache):
    runs, kept, each = bl.badnets_sweep(lab, [0.05], seeds=2, keep=(0.05,), progress=False)
    assert set(each) == {(f, s) for f in (0.0, 0.05) for s in (0, 1)}
    for (f, s), h in each.items():  # the per-image hits add up to the row's count, on the same images
        row = runs[(runs["fraction"] == f) & (runs["seed"] == s)].iloc[0]
        assert (
            h.dtype == torch.bool and len(h) == row["n"] == int((lab.y_test != 0).sum()) and int(h.sum()) == row["hits"]
        )
    again, kept2, each2 = bl.badnets_sweep(lab, [0.05], seeds=2, keep=(0.05,), progress=False)  # from the cache
    pd.testing.assert_frame_equal(runs, again)
    assert all(torch.equal(each[k], each2[k]) for k in each)
    x = lab.x_test_f[:50]
    assert torch.equal(kept[0.05][0](x), kept2[0.05][0](x))  # the cached weights are the trained ones
    assert len(list((own_cache / "badnets_sweep").glob("*.pt"))) == 4
    assert sorted(runs["fraction"].unique()) == [0.0, 0.05]  # the clean baseline is always added
    assert sorted(runs["seed"].unique()) == [0, 1] and len(runs) == 4
    assert (runs.loc[runs["fraction"] == 0, "drop"] == 0).all()
    assert (runs.loc[runs["fraction"] == 0.05, "poisoned"] == 20).all()
    assert runs["success"].between(0, 1).all() and set(kept) == {0.05}
    model, poisoned = kept[0.05]
    assert (poisoned.y[poisoned.idx] == 0).all()
    with pytest.raises(ValueError, match="seeds"):
        bl.badnets_sweep(lab, [0.05], seeds=0)
    with pytest.raises(ValueError, match="poison fraction"):
        bl.badnets_sweep(lab, [5], seeds=1)


def test_bg_gap_is_mixed_same_minus_mixed_rand():
    rows = [
        {"model": "cue", "seed": s, "test set": t, "accuracy (%)": acc}
        for s, (same, rand) in enumerate(((99.0, 70.0), (98.0, 72.0)))
        for t, acc in ((bl.CUE_TESTS[1], same), (bl.CUE_TESTS[2], rand))
    ]
    assert bl.bg_gap(pd.DataFrame(rows)).tolist() == [29.0, 26.0]


def test_stamp_by_hand_matches_the_package(lab):
    x = lab.x_train[:4].float() / 255
    k, side = 2, lab.image_size
    by_hand = x.clone()
    by_hand[..., side - 1 - k : side - 1, side - 1 - k : side - 1] = lab.trigger.pattern
    assert torch.equal(by_hand, po.stamp(x, lab.trigger))


# ----------------------------------------------------------------------------- verdicts and their words


def runs_with_hits(success: dict, clean: dict, n: int = 9000) -> pd.DataFrame:
    runs = fake_runs(success, clean)
    runs["n"] = n
    runs["hits"] = (runs["success"] * n).round().astype(int)
    runs["success"] = runs["hits"] / n
    return runs


def test_the_worst_seed_is_tested_against_90_and_clean_accuracy_by_tost():
    # the cpu run: the worst seed at 0.2% reaches 90.1% of 9,020 triggered images; drops of ~0.06 points
    runs = runs_with_hits(
        {0.0: [0.003, 0.003, 0.003], 0.002: [0.901, 0.924, 0.974], 0.01: [0.997, 0.996, 0.997]},
        {0.0: [0.9805, 0.9800, 0.9797], 0.002: [0.9798, 0.9794, 0.9791], 0.01: [0.9801, 0.9796, 0.9789]},
    )
    words, verdicts = bl.sweep_verdicts(runs)
    v = verdicts["first_worst_seed_vs_90"]
    assert v.direction == "cannot tell" and v.interval[0] < 0 < v.interval[1]  # 8109 / 9000 = 90.1%
    assert words["bd_first_vs90"].startswith("not distinguishable from 90% on these 9,000 triggered images")
    assert all(t.direction == "equivalent" for t in verdicts["clean_drop_tost"].values())
    assert words["bd_drop_tost"].startswith("two one-sided tests over the 3 seeds put every share's clean accuracy")
    # the share quoted is the one closest to the margin (largest margin_supported), with its 90% interval
    from scipy import stats as st

    tost = verdicts["clean_drop_tost"]
    closest = verdicts["clean_drop_closest"]
    assert closest["fraction"] == max(tost, key=lambda f: tost[f].margin_supported) == 0.01
    assert "closest to the ±1-point margin (90% interval), at 1%" in words["bd_drop_tost"]
    d = np.array([0.9801, 0.9796, 0.9789]) - np.array([0.9805, 0.9800, 0.9797])
    lo, hi = st.t.interval(0.90, 2, loc=d.mean(), scale=st.sem(d))
    assert closest["two_sided"].interval == pytest.approx((lo, hi))
    assert tost[0.01].interval == pytest.approx((lo, hi))  # the TOST's 90% interval is the one quoted
    assert hi < 0 and closest["two_sided"].direction == "lower"  # the 90% interval excludes zero
    p = st.ttest_rel([0.9801, 0.9796, 0.9789], [0.9805, 0.9800, 0.9797]).pvalue
    assert (
        f"that 90% interval lies below zero (paired t, two-sided p = {p:.3f}), a drop within the margin at the "
        "10% level" in words["bd_drop_tost"]
    )
    at_5 = "at the 5% level used elsewhere in this chapter the seeds cannot tell it from zero"
    assert (at_5 in words["bd_drop_tost"]) == (p >= 0.05)
    noisy = runs_with_hits(
        {0.0: [0.003, 0.003, 0.003], 0.01: [0.997, 0.996, 0.997]},
        {0.0: [0.9805, 0.9800, 0.9797], 0.01: [0.9810, 0.9790, 0.9801]},
    )
    words_n, verdicts_n = bl.sweep_verdicts(noisy)
    assert verdicts_n["clean_drop_closest"]["two_sided"].direction == "cannot tell"
    assert words_n["bd_drop_tost"].endswith("that interval contains zero")
    firm = runs_with_hits({0.0: [0.0, 0.0], 0.01: [0.97, 0.98]}, {0.0: [0.98, 0.97], 0.01: [0.975, 0.962]})
    words, verdicts = bl.sweep_verdicts(firm)
    assert words["bd_first_vs90"].startswith("above 90% by 7.0 points")
    assert verdicts["clean_drop_tost"][0.01].direction == "not shown equivalent"
    assert words["bd_drop_tost"].startswith("two one-sided tests over the 2 seeds cannot show that")
    one = runs_with_hits({0.0: [0.0], 0.01: [0.5]}, {0.0: [0.98], 0.01: [0.97]})
    words, _ = bl.sweep_verdicts(one)
    assert words["bd_first_vs90"] == "untested, as no poison share met the rule" and "one seed" in words["bd_drop_tost"]


def cl_frame(success: dict) -> pd.DataFrame:
    """Runs frame as clean_label_hardening returns it, from {arm: [per-seed success]}."""
    return pd.DataFrame(
        [
            {"arm": a, "seed": s, "poisoned": 50, "success": v, "clean": 0.98}
            for a, vals in success.items()
            for s, v in enumerate(vals)
        ]
    )


def test_seed_interval_is_scipys_t_interval():
    from scipy import stats as st

    v = [0.12, 0.2, 0.15]
    assert bl.seed_interval(v) == pytest.approx(st.t.interval(0.95, 2, loc=np.mean(v), scale=st.sem(v)))
    assert all(np.isnan(bl.seed_interval([0.3])))
    with pytest.raises(ValueError, match="per-seed values"):
        bl.seed_interval([])


def test_clean_label_summary_pairs_by_seed_and_by_image():
    n = 1000
    hits = {
        s: {
            "none": np.r_[np.ones(100 + 10 * s), np.zeros(n - 100 - 10 * s)],
            "standard": np.r_[np.ones(105 + 10 * s), np.zeros(n - 105 - 10 * s)],
            "robust": np.r_[np.ones(300 + 20 * s), np.zeros(n - 300 - 20 * s)],
        }
        for s in range(3)
    }
    runs = cl_frame({a: [hits[s][a].mean() for s in range(3)] for a in bl.HARDENINGS})
    summary = bl.clean_label_summary(runs, {"hits": hits})
    robust = summary["arms"]["robust"]
    assert robust["success_rate"] == pytest.approx(0.32) and robust["seeds"] == pytest.approx([0.3, 0.32, 0.34])
    assert robust["ci"] == pytest.approx(bl.seed_interval([0.3, 0.32, 0.34]))
    pair = summary["pairs"]["robust_vs_standard"]
    assert pair["over_seeds"].test == "paired t" and pair["over_seeds"].direction == "higher"
    assert [v.test for v in pair["per_seed"]] == ["McNemar exact"] * 3
    # standard hits only 5 more images than none in each seed: McNemar cannot tell, and the
    # constant seed difference is taken at face value by the paired t (zero variance)
    assert all(v.direction == "cannot tell" for v in summary["pairs"]["standard_vs_none"]["per_seed"])
    words = bl.clean_label_words(summary)
    assert words["cl_robust_standard_seeds"] == "higher attack success over the 3 seeds by 20.5 points [18.0, 23.0]"
    assert words["cl_robust_standard_images"] == "higher in all 3 seeds, by 19.5–21.5 points"
    assert words["cl_standard_none_images"].startswith("the data cannot tell them apart in all 3 seeds")
    one = bl.clean_label_summary(cl_frame({a: [hits[0][a].mean()] for a in bl.HARDENINGS}), {"hits": {0: hits[0]}})
    assert one["pairs"]["robust_vs_none"]["over_seeds"] is None and all(np.isnan(one["arms"]["none"]["ci"]))
    assert bl.clean_label_words(one)["cl_robust_none_seeds"] == "no test over seeds is possible with one seed"


def test_clean_label_hardening_arms_share_images_and_are_cached(lab, tmp_path, monkeypatch, single_thread):
    from reliable_ml.models import nets
    from reliable_ml.util import cachestats

    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(5)
    stand_in = nets.small_cnn(image_size=8).eval()  # an untrained network stands in for the robust model
    runs, ex = bl.clean_label_hardening(lab, 0.5, 0.3, 3, 1, stand_in, "stand-in", progress=False)
    assert list(runs["arm"]) == list(bl.HARDENINGS) and runs["poisoned"].nunique() == 1
    assert runs["success"].between(0, 1).all() and set(ex["hits"][0]) == set(bl.HARDENINGS)
    shown = {a: ex["show"][a].int() for a in bl.HARDENINGS}
    k = round(0.3 * 255) + 1  # uint8 rounding
    for a in ("standard", "robust"):
        assert (shown[a] - shown["none"]).abs().max() <= k  # inside the L-inf ball
        mask = lab.trigger_mask.bool().expand_as(shown[a])
        assert torch.equal(shown[a][mask], shown["none"][mask])  # the trigger is stamped after the perturbation
    h = ex["hardness"][0]
    assert h["standard"]["standard"] <= h["standard"]["none"] and h["robust"]["robust"] <= h["robust"]["none"]
    assert len(list((tmp_path / "cache" / "clean_label").glob("*.pt"))) == 1
    before = cachestats.summary()["by_cache"].get("clean_label", {"hits": 0})["hits"]
    again, _ = bl.clean_label_hardening(lab, 0.5, 0.3, 3, 1, stand_in, "stand-in", progress=False)
    assert cachestats.summary()["by_cache"]["clean_label"]["hits"] == before + 4  # 3 victims + the standard model
    pd.testing.assert_frame_equal(again, runs)
    with pytest.raises(ValueError, match="robust_model does not take"):
        bl.clean_label_hardening(lab, 0.5, 0.3, 3, 1, nets.small_cnn(image_size=28), "x", progress=False)
    with pytest.raises(ValueError, match="seeds must be at least 1"):
        bl.clean_label_hardening(lab, 0.5, 0.3, 3, 0, stand_in, "stand-in", progress=False)


def test_first_reliable_text_says_so_instead_of_nan():
    numbers = {"bd_first": float("nan"), "bd_first_images": 0}
    assert bl.first_reliable_text(numbers, {}) == "not reached: no share of the sweep met that rule in this run"
    numbers = {"bd_first": 0.2, "bd_first_images": 40, "bd_first_min": 91.8, "bd_first_drop": 0.063,
               "bd_first_drop_sd": 0.087}  # fmt: skip
    text = bl.first_reliable_text(numbers, {"bd_first_vs90": "above 90% by 1.1 points [0.5, 1.7]"})
    assert text.startswith("0.2% of the training set (40 images): its worst seed reaches 91.8%, which is above 90%")
    assert "drops by 0.06 ± 0.09 points" in text and "nan" not in text


def spectral_result(n_poison: int, caught: int, n_clean: int, removed: int) -> po.SpectralResult:
    labelled = torch.arange(n_poison + n_clean)
    is_poison = labelled < n_poison
    gone = torch.cat([labelled[:caught], labelled[n_poison : n_poison + removed - caught]])
    return po.SpectralResult(labelled, torch.zeros(len(labelled)), is_poison, gone, torch.ones(1), caught / n_poison)


def test_detection_is_fisher_on_removed_poisons_against_removed_clean_images():
    from scipy import stats as st

    below = bl.detection_verdict(spectral_result(200, 15, 1935, 300))  # the cpu run's 7.5% against 14%
    assert below.direction == "lower"
    assert below.p_value == pytest.approx(st.fisher_exact([[15, 185], [285, 1650]]).pvalue)
    assert bl.detection_verdict(spectral_result(200, 188, 1935, 300)).direction == "higher"


def test_spectral_words_say_weakened_not_removed_when_above_the_unpoisoned_rate():
    n = 1028
    spec = {
        "hits_before": np.r_[np.ones(1027), np.zeros(1)],
        "hits_after": np.r_[np.ones(51), np.zeros(n - 51)],
        "hits_clean": np.r_[np.ones(3), np.zeros(n - 3)],
        "all": spectral_result(200, 15, 1935, 300),
        "single": spectral_result(200, 188, 1935, 300),
    }
    spec["base"] = spec["hits_clean"].mean()
    words, verdicts = bl.spectral_words(spec)
    assert words["ss_verdict"].startswith("weakened the backdoor but did not remove it")
    assert words["ss_detect_all"].startswith("below chance") and words["ss_detect_single"].startswith("above chance")
    spec["hits_after"] = np.r_[np.ones(4), np.zeros(n - 4)]
    words, _ = bl.spectral_words(spec)
    assert words["ss_verdict"].startswith("brought attack success down to the level of an unpoisoned model")
    spec["hits_after"] = spec["hits_before"]
    assert bl.spectral_words(spec)[0]["ss_verdict"].startswith("did not measurably weaken the backdoor")
    rec = bl.as_records({"spectral": verdicts, 0.002: [verdicts["cut"]], ("a", "b"): verdicts["cut"]})
    assert rec["spectral"]["cut"]["test"] == "McNemar exact" and set(rec) == {"spectral", "0.002", "a/b"}


def test_saliency_study_adds_untrained_networks_and_keeps_the_random_state(lab):
    model = bl.train_model(lab, lab.x_train, lab.y_train)
    state = torch.random.get_rng_state()
    shares, _, x_trig, each = bl.saliency_study(
        lab, {"clean": model}, 20, ig_steps=4, sg_samples=2, sg_sigma=0.1, random_inits=2
    )
    assert torch.equal(state, torch.random.get_rng_state())
    assert list(shares.index) == ["clean", bl.random_name(0), bl.random_name(1)]
    assert each["clean", "vanilla gradient"].shape == (20,)
    assert shares.loc["clean", "vanilla gradient"] == pytest.approx(100 * each["clean", "vanilla gradient"].mean())
    words, verdicts = bl.saliency_words(each, {"clean": "clean"}, random_inits=2)
    assert set(words) == {"sal_clean_vs_random"} and len(verdicts) == 3
    assert all(v.test == "one-sample t over 2 random inits" for v in verdicts.values())
    with pytest.raises(ValueError, match="random_inits"):
        bl.saliency_words(each, {"clean": "clean"}, random_inits=1)


def test_against_inits_treats_the_inits_as_the_unit():
    from scipy import stats as st

    # the review's numbers: robust IG 4.34% inside the inits' range (7.08, 4.09, 6.80): p = 0.22, no verdict
    inits = [0.0708, 0.0409, 0.0680]
    v = bl.against_inits(0.0434, inits)
    expected = st.ttest_1samp(inits, 0.0434)
    assert v.direction == "cannot tell" and v.p_value == pytest.approx(expected.pvalue)
    assert v.difference == pytest.approx(0.0434 - np.mean(inits))
    lo, hi = st.t.interval(0.95, 2, loc=np.mean(inits), scale=st.sem(inits))
    assert v.interval == pytest.approx((0.0434 - hi, 0.0434 - lo))
    # a model far below tightly packed inits is "lower"
    assert bl.against_inits(0.01, [0.07, 0.071, 0.069, 0.07]).direction == "lower"
    with pytest.raises(ValueError, match="2 random inits"):
        bl.against_inits(0.01, [0.07])


def badnets_runs(hits_by_seed: list[int], n: int = 8900, fraction: float = 0.0005) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"fraction": f, "seed": s, "poisoned": int(round(f * 20000)), "hits": h, "n": n, "success": h / n}
            for s, hb in enumerate(hits_by_seed)
            for f, h in ((0.0, 10), (fraction, hb))
        ]
    )


def nested(k: int, n: int) -> np.ndarray:
    """0/1 hits on ``n`` images: the first ``k`` are hits (two such arrays are nested, so every
    discordant image favours the one with more hits)."""
    return np.r_[np.ones(k), np.zeros(n - k)]


def hits_for(cl: pd.DataFrame, runs: pd.DataFrame) -> tuple[dict, dict]:
    """Nested per-image hits matching the frames' counts: ``({seed: {arm: hits}}, {(fraction, seed): hits})``."""
    cl_hits: dict = {}
    for r in cl.itertuples():
        n = int(runs.loc[runs["seed"] == r.seed, "n"].iloc[0])
        cl_hits.setdefault(r.seed, {})[r.arm] = nested(round(r.success * n), n)
    bad_hits = {(r.fraction, r.seed): nested(int(r.hits), int(r.n)) for r in runs.itertuples()}
    return cl_hits, bad_hits


def test_clean_label_vs_badnets_pairs_by_seed_over_every_seed():
    # the field review's numbers: BadNets at 0.05% scores 9.5, 10.8 and 15.6% in seeds 0-2; the
    # clean-label arms differ from it by none +7.0/-6.4/-2.7, standard +3.3/-6.1/-2.9, robust -3.5/-6.3/-11.7
    from scipy import stats as st

    n = 8900
    bad = [0.095, 0.108, 0.156]
    runs = badnets_runs([round(b * n) for b in bad])
    diffs = {"none": [0.070, -0.064, -0.027], "standard": [0.033, -0.061, -0.029], "robust": [-0.035, -0.063, -0.117]}
    cl = cl_frame({a: [round((b + d) * n) / n for b, d in zip(bad, ds)] for a, ds in diffs.items()})
    words, verdicts = bl.clean_label_vs_badnets(cl, runs, *hits_for(cl, runs))
    assert verdicts["badnets"] == {"fraction": 0.0005, "seeds": [0, 1, 2], "poisoned": [10, 10, 10]}
    assert [v.direction for v in verdicts["none"]["per_seed"]] == ["higher", "lower", "lower"]
    assert [v.direction for v in verdicts["robust"]["per_seed"]] == ["lower"] * 3
    v0 = verdicts["robust"]["per_seed"][0]  # nested hits: all 311 discordant images favour BadNets
    assert v0.test == "McNemar exact" and v0.p_value == pytest.approx(st.binomtest(0, 311, 0.5).pvalue)
    over = verdicts["robust"]["over_seeds"]
    d = cl[cl["arm"] == "robust"]["success"].to_numpy() - runs[runs["fraction"] > 0]["success"].to_numpy()
    assert over.test == "paired t" and over.difference == pytest.approx(d.mean())
    assert over.interval == pytest.approx(st.t.interval(0.95, 2, loc=d.mean(), scale=st.sem(d)))
    assert over.direction == "cannot tell"
    assert "plain (no hardening): seed by seed (McNemar), the seeds disagree (1 higher, 2 lower" in words
    assert "hardened against the robust model: seed by seed (McNemar), lower attack success in all 3 seeds" in words
    assert "10 relabelled images, in the same 3 seeds" in words and "Fisher" not in words
    assert bl.clean_label_takeaway(verdicts) == (
        "none and standard: the seeds disagree; robust: lower in all 3 seeds, but the 3 seeds cannot tell (paired t)"
    )


def test_clean_label_vs_badnets_pairs_images_where_fisher_cannot_tell():
    # 42 against 30 hits of 1000: Fisher on the counts cannot tell (p ~ 0.2), but the 12 discordant
    # images all favour the clean-label victim, so McNemar's exact p is 2 / 2**12
    from scipy import stats as st

    from reliable_ml import stats

    runs = badnets_runs([30], n=1000)
    cl = cl_frame({a: [0.042] for a in bl.HARDENINGS})
    _, verdicts = bl.clean_label_vs_badnets(cl, runs, *hits_for(cl, runs))
    v = verdicts["none"]["per_seed"][0]
    assert v.direction == "higher" and v.p_value == pytest.approx(2 / 2**12)
    assert v.p_value == pytest.approx(st.binomtest(12, 12, 0.5).pvalue)
    assert stats.compare_counts(42, 1000, 30, 1000).direction == "cannot tell"
    cl_hits, bad_hits = hits_for(cl, runs)
    with pytest.raises(ValueError, match="paired tests need the same images"):
        bl.clean_label_vs_badnets(cl, runs, {0: {a: h[:-1] for a, h in cl_hits[0].items()}}, bad_hits)


def test_clean_label_vs_badnets_uses_the_share_that_has_every_seed():
    runs = pd.concat(
        [badnets_runs([900, 950], fraction=0.0005).query("seed == 0"), badnets_runs([890, 960], fraction=0.001)]
    ).drop_duplicates(["fraction", "seed"])
    cl = cl_frame({a: [0.05, 0.06] for a in bl.HARDENINGS})
    assert bl.badnets_match(cl, runs) == (0.001, [0, 1])
    _, verdicts = bl.clean_label_vs_badnets(cl, runs, *hits_for(cl, runs))
    assert verdicts["badnets"]["fraction"] == 0.001
    one = cl_frame({a: [0.05] for a in bl.HARDENINGS})
    _, v1 = bl.clean_label_vs_badnets(one, runs, *hits_for(one, runs))
    assert v1["none"]["over_seeds"] is None and v1["badnets"]["fraction"] == 0.0005
    assert bl.clean_label_takeaway(v1) == "none, standard and robust: lower in the one seed"
    with pytest.raises(ValueError, match="no positive BadNets share"):
        bl.badnets_match(one.assign(seed=9), runs)


def test_cifar_over_base_is_mcnemar_per_recipe_and_share():
    from scipy import stats as st

    hits = {
        "as_is": {"0": nested(20, 500), "0.01": nested(480, 500)},
        "crop_flip": {"0": nested(20, 500), "0.01": nested(22, 500)},
    }
    v = bl.cifar_over_base(hits)
    assert set(v["as_is"]) == {"0.01"} and v["as_is"]["0.01"].direction == "higher"
    assert v["crop_flip"]["0.01"].p_value == pytest.approx(st.binomtest(2, 2, 0.5).pvalue)  # 0.5
    assert v["crop_flip"]["0.01"].direction == "cannot tell"
    words = bl.cifar_over_base_words(v)
    assert words.startswith("as is, at 1% above the unpoisoned rate")
    assert "with crops and flips, at 1% not told apart from it" in words
    with pytest.raises(ValueError, match="no unpoisoned"):
        bl.cifar_over_base({"as_is": {"0.01": nested(1, 5)}})


def test_hardening_attack_fails_below_half_and_says_so():
    from reliable_ml import stats

    cl = cl_frame({a: [0.1, 0.1, 0.1] for a in bl.HARDENINGS}).assign(poisoned=980)
    weak = {"hardness": {s: {"robust": {"robust": 0.969}} for s in range(3)}}
    a = bl.hardening_attack(weak, cl)
    assert a["k"] == 3 * 30 and a["n"] == 2940 and a["fooled"] == pytest.approx(90 / 2940)
    lo, hi = stats.clopper_pearson(90, 2940)
    assert a["interval"] == pytest.approx([float(lo), float(hi)]) and a["verdict"].direction == "lower"
    w = bl.hardening_words(a, 0.3, 20, 0.3, held=(96.9, 91.4))
    assert w["cl_radius"].startswith("first at one radius, the robust model's own training ε = 0.3, where PGD-20 fools")
    assert "3.1% of the poisons" in w["cl_radius"] and "a failed hardening attack" in w["cl_radius"]
    assert "concludes nothing about the recipe" in w["cl_radius"] and "failed hardening attack" in w["cl_why_robust"]
    assert "classify 96.9% and 91.4% of them correctly" in w["cl_why_robust"]
    assert (
        "tests that explanation" in w["cl_why_robust"] and "never made hard for the robust model" in w["cl_why_robust"]
    )
    strong = {"hardness": {s: {"robust": {"robust": 0.2}} for s in range(3)}}
    w = bl.hardening_words(bl.hardening_attack(strong, cl), 0.4, 20, 0.3, held=(20.0, 50.0))
    assert "ε = 0.4 (the robust model was trained at ε = 0.3)" in w["cl_radius"]
    assert "failed" not in w["cl_radius"] and "hard for the robust model" in w["cl_radius"]
    # a hardening that worked neither says "still classify" nor promises to test an explanation
    assert "still" not in w["cl_why_robust"] and "tests that explanation" not in w["cl_why_robust"]
    near = {"hardness": {0: {"robust": {"robust": 0.5}}}}
    assert bl.hardening_attack(near, cl.query("seed == 0"))["verdict"].direction == "cannot tell"


def test_clean_label_keys_hash_the_computing_code(lab, monkeypatch):
    """An edit to the code that computes a clean-label seed recomputes it (issue 31's review)."""
    from reliable_ml.pipeline import clean_label_radius as clr

    key = bl.clean_label_fingerprint(lab, 0.5, 0.3, 10, 0, "robust", 0)
    sweep = clr._key(lab, 0.5, 0.3, 10, 0, "robust", "sweep")
    assert key == bl.clean_label_fingerprint(lab, 0.5, 0.3, 10, 0, "robust", 0)
    real = bl.inspect.getsource

    def edited(obj):  # as if poisoning.py had changed by one comment
        return real(obj) + ("# edited\n" if obj is bl.po else "")

    monkeypatch.setattr(bl.inspect, "getsource", edited)
    assert bl.clean_label_fingerprint(lab, 0.5, 0.3, 10, 0, "robust", 0) != key
    assert clr._key(lab, 0.5, 0.3, 10, 0, "robust", "sweep") != sweep
    monkeypatch.setattr(bl.inspect, "getsource", lambda obj: real(obj) + ("#\n" if obj is clr.wide_arm else ""))
    assert bl.clean_label_fingerprint(lab, 0.5, 0.3, 10, 0, "robust", 0) == key, "the radius module's code: not here"
    assert clr._key(lab, 0.5, 0.3, 10, 0, "robust", "sweep") != sweep
    derives = lambda obj: real(obj) + ("#\n" if obj is bl.clean_label_hardening else "")  # noqa: E731
    monkeypatch.setattr(bl.inspect, "getsource", derives)  # it computes the share the seed is given
    assert bl.clean_label_fingerprint(lab, 0.5, 0.3, 10, 0, "robust", 0) != key
    wording = lambda obj: real(obj) + ("#\n" if obj is clr.rule_words else "")  # noqa: E731
    monkeypatch.setattr(bl.inspect, "getsource", wording)
    assert clr._key(lab, 0.5, 0.3, 10, 0, "robust", "sweep") == sweep, "a sentence's wording retrains nothing"
