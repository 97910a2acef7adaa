"""Chapter 7's wide-radius clean-label arm: the radius sweep, the rule, the paired arm, on tiny digits runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from reliable_ml import stats
from reliable_ml.pipeline import backdoor_lab as bl
from reliable_ml.pipeline import clean_label_radius as clr
from reliable_ml.pipeline import poisoning as po


@pytest.fixture(scope="module")
def lab():
    return bl.setup("digits", 400, epochs=1, target=0, trigger_size=2, seed=0, device=torch.device("cpu"))


def test_perturbation_size_known_values():
    d = torch.zeros(2, 1, 2, 2)
    d[0, 0, 0, 0], d[0, 0, 1, 1], d[1, 0, 0, 1] = 0.3, -0.4, 0.1
    size = clr.perturbation_size(d)
    assert size["linf_max"] == pytest.approx(0.4)
    assert size["l2_mean"] == pytest.approx((0.5 + 0.1) / 2)
    assert size["changed_share"] == pytest.approx(3 / 8)
    with pytest.raises(ValueError, match="non-empty"):
        clr.perturbation_size(torch.zeros(0, 1, 2, 2))


def sweep_frame(fooled_by_eps: dict, n: int = 100) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"eps": e, "seed": s, "n": n, "fooled": k, "linf_max": e, "l2_mean": 10 * e, "changed_share": 0.5}
            for e, ks in fooled_by_eps.items()
            for s, k in enumerate(ks)
        ]
    )


def test_rule_picks_the_smallest_radius_whose_exact_interval_clears_half():
    # 0.3: 3%; 0.4: 52% (interval contains 50%); 0.45: 70%; 0.5: 95%
    tab = clr.sweep_table(sweep_frame({0.3: [3, 3, 3], 0.4: [52, 52, 52], 0.45: [70, 70, 70], 0.5: [95, 95, 95]}))
    assert list(tab["verdict"]) == ["lower", "cannot tell", "higher", "higher"]
    row = tab.set_index("eps").loc[0.45]
    lo, hi = stats.clopper_pearson(210, 300)
    assert row["k"] == 210 and row["n"] == 300 and row["lo"] == pytest.approx(lo) and row["hi"] == pytest.approx(hi)
    assert clr.choose_radius(tab) == 0.45
    assert "ε = 0.45: the rule picks it" in clr.rule_words(tab, 0.45, 0.3, 20)
    none = clr.sweep_table(sweep_frame({0.3: [3, 3], 0.4: [50, 50]}))
    assert clr.choose_radius(none) is None
    assert "no wider arm was run" in clr.rule_words(none, None, 0.3, 20)


def test_sweep_matches_clean_label_poisons_stays_in_ball_and_is_cached(lab, tmp_path, monkeypatch, single_thread):
    from reliable_ml.models import nets

    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(5)
    stand_in = nets.small_cnn(image_size=8).eval()  # an untrained network stands in for the robust model
    # the sweep's poisons are exactly clean_label's with harden_model (same draw, PGD start, trigger)
    p, delta = clr._poisons(lab, 0.5, 0.3, 3, lab.seed, stand_in)
    n_target = int((lab.y_train == lab.target).sum())
    ref = po.clean_label(lab.x_train, lab.y_train, 0.5 * n_target / len(lab.y_train), target=lab.target,
                         trigger=lab.trigger, seed=lab.seed, harden_model=stand_in, eps=0.3, steps=3)  # fmt: skip
    assert torch.equal(p.idx, ref.idx) and torch.equal(p.x, ref.x)
    assert float(delta.abs().max()) <= 0.3 + 0.5 / 255
    sweep = clr.radius_sweep(lab, 0.5, [0.1, 0.3], 3, 2, stand_in, "stand-in")
    assert len(sweep) == 4 and (sweep["fooled"] <= sweep["n"]).all()
    assert (sweep.groupby("eps")["linf_max"].max() <= np.array([0.1, 0.3]) + 0.5 / 255).all()
    assert len(list((tmp_path / "cache" / "clean_label").glob("sweep-*.json"))) == 4
    pd.testing.assert_frame_equal(clr.radius_sweep(lab, 0.5, [0.1, 0.3], 3, 2, stand_in, "stand-in"), sweep)
    with pytest.raises(ValueError, match="radii"):
        clr.radius_sweep(lab, 0.5, [0.0], 3, 1, stand_in, "stand-in")


def test_wide_arm_pairs_with_the_clean_label_victims(lab, tmp_path, monkeypatch, single_thread):
    from reliable_ml.models import nets

    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(5)
    stand_in = nets.small_cnn(image_size=8).eval()
    cl_runs, cl_ex = bl.clean_label_hardening(lab, 0.5, 0.3, 3, 2, stand_in, "stand-in", progress=False)
    # at the robust arm's own radius the wide arm rebuilds the robust arm's victim exactly
    same, same_ex = clr.wide_arm(lab, 0.5, 0.3, 3, 2, stand_in, "stand-in")
    robust = cl_runs[cl_runs["arm"] == "robust"].set_index("seed")
    for s in (0, 1):
        np.testing.assert_array_equal(same_ex["hits"][s], cl_ex["hits"][s]["robust"])
        assert same.set_index("seed").loc[s, "success"] == pytest.approx(robust.loc[s, "success"])
    for s in (0, 1):  # the seed's standard model reads the same poisons as in the clean-label run
        assert same.set_index("seed").loc[s, "standard_acc"] == pytest.approx(
            cl_ex["hardness"][s]["standard"]["robust"]
        )
    cmp = clr.compare_wide(same, same_ex, cl_runs, cl_ex)
    assert cmp["robust"]["over_seeds"].direction == "cannot tell"
    assert all(v.direction == "cannot tell" for v in cmp["robust"]["per_seed"])
    words = clr.wide_words(cmp, 2)
    assert words["cl_wide_robust_seeds"].startswith("the 2 seeds cannot tell them apart")
    rec = clr.records(clr.sweep_table(clr.radius_sweep(lab, 0.5, [0.3], 3, 2, stand_in, "stand-in")), 0.3, same,
                      same_ex, cmp, 3)  # fmt: skip
    assert rec["chosen_eps"] == 0.3 and rec["arm"]["seeds"] == list(same["success"])
    assert rec["cold_seconds"]["wide_arm"] == pytest.approx(same["seconds"].sum()) and (same["seconds"] > 0).all()
    with pytest.raises(ValueError, match="no clean-label run"):
        clr.compare_wide(same.assign(seed=[5, 6]), {"hits": {5: 0, 6: 0}}, cl_runs, cl_ex)


def test_sweep_table_carries_the_cold_seconds():
    tab = clr.sweep_table(sweep_frame({0.3: [3, 3]}).assign(seconds=[1.5, 2.0]))
    assert tab.attrs["seconds"] == pytest.approx(3.5)
    rec = clr.records(tab, None, None, None, None, 20)
    assert rec["cold_seconds"]["sweep"] == pytest.approx(3.5) and rec["cold_seconds"]["wide_arm"] is None
    assert np.isnan(clr.sweep_table(sweep_frame({0.3: [3]})).attrs["seconds"])


def badnets_runs(hits_by_seed: dict, n: int = 1000) -> pd.DataFrame:
    return pd.DataFrame(
        [{"fraction": f, "seed": s, "hits": h if f == 0 else 900, "n": n, "success": (h if f == 0 else 900) / n}
         for s, h in hits_by_seed.items() for f in (0.0, 0.01)]
    )  # fmt: skip


def test_base_rate_pools_the_unpoisoned_models_and_arms_pair_by_seed():
    base = clr.base_rate(badnets_runs({0: 2, 1: 3, 2: 4}), [0, 1, 2])
    assert (base["k"], base["n"]) == (9, 3000) and base["rate"] == pytest.approx(0.003)
    assert base["interval"] == pytest.approx([float(v) for v in stats.clopper_pearson(9, 3000)])
    with pytest.raises(ValueError, match=r"seeds \[5\] have no unpoisoned"):
        clr.base_rate(badnets_runs({0: 2}), [0, 5])
    assert base["per_seed_counts"] == {0: (2, 1000), 1: (3, 1000), 2: (4, 1000)}
    hits = {s: np.r_[np.ones(k), np.zeros(1000 - k)] for s, k in {0: 52, 1: 43, 2: 64}.items()}
    flat = {s: np.r_[np.ones(k), np.zeros(1000 - k)] for s, k in {0: 3, 1: 2, 2: 5}.items()}
    mixed = {0: hits[0], 1: flat[1], 2: hits[2]}
    base_hits = {s: np.r_[np.ones(k), np.zeros(1000 - k)] for s, k in {0: 2, 1: 3, 2: 4}.items()}
    v = clr.over_base({"wide": hits, "flat": flat, "mixed": mixed}, base_hits)
    from scipy import stats as st
    from scipy.stats import binomtest

    per = {a: x["per_seed"] for a, x in v.items()}
    # nested hits: the unpoisoned model's 2 hits are among the arm's 52, so 50 discordant images, all the arm's
    assert per["wide"][0].test == "McNemar exact"
    assert per["wide"][0].p_value == pytest.approx(binomtest(50, 50, 0.5).pvalue)
    # flat against base in seed 2: 5 against 4 hits, 1 discordant image: p = 1
    assert per["flat"][2].p_value == pytest.approx(1.0)
    assert [x.direction for x in per["wide"]] == ["higher"] * 3 and per["wide"][2].difference == pytest.approx(0.060)
    assert [x.direction for x in per["flat"]] == ["cannot tell"] * 3
    # over seeds: the paired t of the seeds' rates, as scipy computes it
    d = np.array([0.052, 0.043, 0.064]) - np.array([0.002, 0.003, 0.004])
    over = v["wide"]["over_seeds"]
    assert over.difference == pytest.approx(d.mean()) and over.direction == "higher"
    assert over.interval == pytest.approx(st.t.interval(0.95, 2, loc=d.mean(), scale=st.sem(d)))
    assert over.p_value == pytest.approx(st.ttest_rel([0.052, 0.043, 0.064], [0.002, 0.003, 0.004]).pvalue)
    assert v["mixed"]["over_seeds"].direction == "cannot tell"  # two seeds far above, one flat
    words = clr.over_base_words(v, 3)
    assert words["cl_base_wide"].startswith("above the base rate in all 3 seeds, by 4.0–6.0 points; over the seeds")
    assert words["cl_base_flat"].startswith("not told apart from the base rate in all 3 seeds")
    assert words["cl_base_says"] == (
        "the wide-radius arm is above the base rate over 3 seeds (paired t); flat is not told apart from it in "
        "any seed (McNemar), and 3 seeds cannot tell; mixed is above it in 2 of 3 seeds (McNemar), but 3 seeds "
        "cannot tell"
    )
    # the branch that once printed "exceed the base rate in 0 of 3 seeds": no arm above it in any seed
    assert clr.over_base_says({"flat": v["flat"]}) == (
        "flat is not told apart from the base rate in any seed (McNemar), and 3 seeds cannot tell"
    )
    wide_all = {s: np.r_[np.ones(k), np.zeros(1000 - k)] for s, k in {0: 30, 1: 80, 2: 150}.items()}
    both = clr.over_base({"none": wide_all, "mixed": mixed}, base_hits)
    assert both["none"]["over_seeds"].direction == "cannot tell"  # every seed above, the seeds spread
    assert clr.over_base_says(both) == (
        "no hardening and mixed are above the base rate in every seed (McNemar), but 3 seeds cannot tell"
        if both["mixed"]["per_seed"][1].direction == "higher"
        else "no hardening is above the base rate in every seed (McNemar), but 3 seeds cannot tell; mixed is "
        "above it in 2 of 3 seeds (McNemar), but 3 seeds cannot tell"
    )
    assert (
        f"no hardening {100 * both['none']['over_seeds'].difference:+.1f} ["
        in clr.over_base_words(both, 3)["cl_base_over"]
    )
    one = clr.over_base({"wide": {0: hits[0]}}, base_hits)
    assert one["wide"]["over_seeds"] is None
    assert clr.over_base_says(one) == (
        "the wide-radius arm is above the base rate in its one seed (McNemar), but with one seed there is no test "
        "over seeds"
    )
    assert words["cl_base_list"].startswith("the wide-radius arm: above the base rate in all 3 seeds")
    with pytest.raises(ValueError, match="unpoisoned model 1000"):
        clr.over_base({"short": {0: np.ones(10)}}, base_hits)
    with pytest.raises(ValueError, match="seed 7"):
        clr.over_base({"x": {7: hits[0]}}, base_hits)


def test_robust_content_words_follow_the_verdict():
    assert "which may let the victim fit most of them from their content (untested)" in clr.robust_content_words(
        0.914, 2904
    )
    lo, hi = stats.clopper_pearson(2654, 2904)
    assert f"91.4% correctly (exact 95% interval [{100 * lo:.1f}, {100 * hi:.1f}]" in clr.robust_content_words(
        0.914, 2904
    )
    assert "does not read most" in clr.robust_content_words(0.2, 2904)
    assert "the data cannot tell" in clr.robust_content_words(0.5, 100)


def test_digit_l2_and_masking_words(lab):
    x = lab.x_train[lab.y_train == lab.target].float() / 255
    assert clr.digit_l2(lab) == pytest.approx(float(np.mean([np.linalg.norm(v.numpy().ravel()) for v in x])))
    flagged = {"masking": {"flags": ["gradient_free_beats_gradient"], "checks": {
        "gradient_free_beats_gradient": {"gradient_free_acc": 86.8, "best_gradient_acc": 90.1}}}}  # fmt: skip
    w = clr.masking_words(flagged, 20)
    assert "leaves 86.8% of the images correct against 90.1%" in w and "PGD-20 with one random start" in w
    assert "raise no flag" in clr.masking_words({"masking": {"flags": [], "checks": {"x": {}}}}, 20)
    assert "unchecked" in clr.masking_words({}, 20)


def wide_case(success, seeds=(0, 1, 2)):
    runs = pd.DataFrame({"seed": list(seeds), "poisoned": 100, "success": success, "clean": 0.98,
                         "standard_acc": [0.9, 0.92, 0.88], "seconds": 1.0})  # fmt: skip
    cl_runs = pd.DataFrame([{"arm": a, "seed": s, "success": 0.05} for a in bl.HARDENINGS for s in seeds])
    hits = np.r_[np.ones(5), np.zeros(95)]
    cl_ex = {"hits": {s: {a: hits for a in bl.HARDENINGS} for s in seeds}}
    ex = {"hits": {s: np.r_[np.ones(int(100 * w)), np.zeros(100 - int(100 * w))] for s, w in zip(seeds, success)}}
    return runs, clr.compare_wide(runs, ex, cl_runs, cl_ex)


def test_wide_text_branches_follow_the_verdicts():
    tab = clr.sweep_table(sweep_frame({0.3: [3, 3, 3], 0.35: [70, 70, 70]}))
    kw = dict(robust_eps=0.3, harden_eps=0.3, held_base=91.4, digit_norm=9.3, n_seeds=3)
    bw = {"cl_base_wide": "above the base rate by 4.4 points [1.9, 6.8]"}
    # no radius qualifies: a note, no numbers
    none = clr.wide_text(None, tab, None, None, {}, **kw)
    assert "no wide arm was trained" in none["cl_wide_text"] and not any(c.isdigit() for c in none["cl_wide_text"])
    # the same success as the 0.3 arm: the seeds cannot tell, the upper end bounds the gain
    runs, cmp = wide_case([0.05, 0.049, 0.051])
    t = clr.wide_text(0.35, tab, runs, cmp, bw, **kw)
    hi = 100 * cmp["robust"]["over_seeds"].interval[1]
    assert cmp["robust"]["over_seeds"].direction == "cannot tell" and "borne out" not in t["cl_wide_text"]
    assert "1.17 times" in t["cl_wide_text"]
    assert "0.3500 at ε = 0.35, within it" in t["cl_wide_text"]  # sweep_frame: linf_max = eps
    over = clr.sweep_table(sweep_frame({0.3: [3, 3, 3], 0.35: [70, 70, 70]}).assign(linf_max=[0.302] * 3 + [0.349] * 3))
    t3 = clr.wide_text(0.35, over, runs, cmp, bw, **kw)
    assert "0.3490 at ε = 0.35, within it, and 0.3020 at ε = 0.3, past it" in t3["cl_wide_text"]
    assert "classify 90.0% of" in t["cl_wide_text"] and "may let the victim fit most of them" in t["cl_wide_text"]
    assert "hard for the robust model" in t["cl_wide_text"] and "hard for the victim" in t["cl_wide_text"]
    v = cmp["robust"]["over_seeds"]
    most = (
        f"any gain over the ε = 0.3 arm is at most {hi:+.1f} points (upper end of the 95% t interval, 3 seeds; "
        "no margin was fixed in advance)"
    )
    assert most in t["cl_wide_text"] and "changed attack success" not in t["cl_wide_text"]
    within = f"left attack success within [{100 * v.interval[0]:+.1f}, {hi:+.1f}] points of the ε = 0.3 arm"
    assert within in t["cl_wide_takeaway"] and "raised" not in t["cl_wide_takeaway"]
    assert "did not raise" not in t["cl_wide_takeaway"] and bw["cl_base_wide"] in t["cl_wide_text"]
    # a clear loss: said as lower, no bound quoted
    runs, cmp = wide_case([0.01, 0.012, 0.011])
    t = clr.wide_text(0.35, tab, runs, cmp, bw, **kw)
    assert cmp["robust"]["over_seeds"].direction == "lower" and "lower attack success by" in t["cl_wide_takeaway"]
    assert "at most" not in t["cl_wide_text"]
    # a clear gain: borne out, no bound
    runs, cmp = wide_case([0.30, 0.31, 0.29])
    t = clr.wide_text(0.35, tab, runs, cmp, bw, **kw)
    assert cmp["robust"]["over_seeds"].direction == "higher" and "not borne out" not in t["cl_wide_text"]
    assert "as the explanation predicts" in t["cl_wide_text"] and "raised attack success" in t["cl_wide_takeaway"]
    # where the hardening at 0.3 already worked, the wide arm tests no explanation
    t = clr.wide_text(0.35, tab, runs, cmp, bw, **kw, base_failed=False)
    assert "tests no explanation" in t["cl_wide_text"] and "borne out" not in t["cl_wide_text"]
    assert "predicts" not in t["cl_wide_text"]
