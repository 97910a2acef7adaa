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
