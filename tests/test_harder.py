"""reliable_ml.shift.harder: writer groups, nested draws, the paired gap bootstrap, the verdict's words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from reliable_ml import stats
from reliable_ml.shift import harder


def _meta(writers_per_pop: int = 6, digits: int = 5) -> pd.DataFrame:
    rows = []
    for p, pop in enumerate(("employee", "student")):
        for w in range(writers_per_pop):
            rows += [{"writer_id": 100 * p + w, "population": pop}] * (digits + w)  # writers of unequal size
    return pd.DataFrame(rows)


def test_writer_groups_are_disjoint_and_cover_the_rows():
    meta = _meta()
    rows = np.arange(len(meta))[::2][:40]  # a subset of the rows, as the held-out pool is
    a, b = harder.split_writer_groups(meta, rows, seed=3)
    wa, wb = set(meta["writer_id"].iloc[a]), set(meta["writer_id"].iloc[b])
    assert not wa & wb
    assert np.array_equal(np.sort(np.concatenate([a, b])), np.sort(rows))
    for group in (a, b):  # each group keeps both populations
        assert set(meta["population"].iloc[group]) == {"employee", "student"}
    a2, _ = harder.split_writer_groups(meta, rows, seed=3)
    assert np.array_equal(a, a2)  # seeded


def test_writer_groups_split_half_of_each_population():
    meta = _meta(writers_per_pop=6)
    a, _ = harder.split_writer_groups(meta, np.arange(len(meta)), share_a=0.5, seed=0)
    per_pop = meta.iloc[a].groupby("population")["writer_id"].nunique()
    assert per_pop.to_dict() == {"employee": 3, "student": 3}


@pytest.mark.parametrize("share", [0.0, 1.0, -0.2, 1.5])
def test_writer_groups_refuse_a_bad_share(share):
    with pytest.raises(ValueError, match=f"share_a must be strictly between 0 and 1; got {share}"):
        harder.split_writer_groups(_meta(), np.arange(10), share_a=share)


def test_writer_groups_refuse_bad_rows():
    meta = _meta()
    with pytest.raises(ValueError, match="distinct indices"):
        harder.split_writer_groups(meta, np.array([0, len(meta)]))
    with pytest.raises(ValueError, match="non-empty"):
        harder.split_writer_groups(meta, np.array([], dtype=int))
    one_writer = np.flatnonzero(meta["writer_id"].isin([0, 100, 101]))  # employees: writer 0 only
    with pytest.raises(ValueError, match="'employee' has 1 writer"):
        harder.split_writer_groups(meta, one_writer)


def test_nested_draws_are_nested_and_sized():
    pool = np.arange(100, 200)
    draws = harder.nested_draws(pool, [0, 10, 40], seed=1)
    assert [len(draws[k]) for k in (0, 10, 40)] == [0, 10, 40]
    assert set(draws[10]) <= set(draws[40]) <= set(pool)
    with pytest.raises(ValueError, match="asked for 101 digits but the pool holds only 100"):
        harder.nested_draws(pool, [101])
    with pytest.raises(ValueError, match="distinct non-negative"):
        harder.nested_draws(pool, [-1])


def test_gap_replicates_known_value_and_paired_zero():
    # S: 4 writers of 2 digits, B: 2 writers of 2 digits; 2 conditions that are identical
    s = np.array([[1, 1, 1, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 1]], dtype=bool)  # seeds x images
    bb = np.array([[1, 0, 1, 0], [1, 1, 0, 0]], dtype=bool)
    gap, reps = harder.gap_replicates(np.stack([s, s]), np.repeat(np.arange(4), 2), np.stack([bb, bb]),
                                      np.repeat([7, 8], 2), n_boot=500, seed=0)  # fmt: skip
    # seed 0: 7/8 - 2/4 = 0.375; seed 1: 7/8 - 2/4 = 0.375
    assert gap == pytest.approx([37.5, 37.5])
    assert np.array_equal(reps[0], reps[1])  # one draw for every condition: identical arms differ by exactly 0


def test_gap_replicates_match_the_cluster_bootstrap_for_one_seed():
    rng = np.random.default_rng(0)
    ws, wb = np.repeat(np.arange(60), 20), np.repeat(np.arange(40), 25)
    p_s, p_b = rng.uniform(0.8, 1, 60)[ws], rng.uniform(0.6, 1, 40)[wb]  # writer-level accuracies
    cs, cb = rng.random(len(ws)) < p_s, rng.random(len(wb)) < p_b
    _, reps = harder.gap_replicates(cs[None, None], ws, cb[None, None], wb, n_boot=20_000, seed=1)
    lo, hi = stats.cluster_bootstrap_difference(cs[None], ws, cb[None], wb, n_boot=20_000, seed=2)
    assert np.quantile(reps[0], [0.025, 0.975]) == pytest.approx([100 * lo[0], 100 * hi[0]], abs=0.3)


def test_gap_replicates_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="same first two axes"):
        harder.gap_replicates(np.ones((2, 3, 4)), np.arange(4), np.ones((2, 2, 4)), np.arange(4))
    with pytest.raises(ValueError, match="one writer id per image"):
        harder.gap_replicates(np.ones((1, 1, 4)), np.arange(3), np.ones((1, 1, 4)), np.arange(4))


def _arms(b_new_top: float, rng, n_seeds=3):
    """S always right; B right with prob 0.8, except the new arm at k = 100 (prob b_new_top)."""
    n_s, n_b = 400, 400
    s = {a: {k: np.ones((n_seeds, n_s), bool) for k in (0, 100)} for a in harder.ARMS}
    base = rng.random((n_seeds, n_b)) < 0.8
    b = {a: {0: base, 100: rng.random((n_seeds, n_b)) < 0.8} for a in harder.ARMS}
    b["new_writers"][100] = rng.random((n_seeds, n_b)) < b_new_top
    return s, np.repeat(np.arange(40), 10), b, np.repeat(np.arange(80), 5)


def test_gap_summary_finds_a_closing_gap_and_its_words():
    s, ws, b, wb = _arms(1.0, np.random.default_rng(0))
    res, v = harder.gap_summary(s, ws, b, wb, n_boot=1000)
    assert res["sizes"] == [0, 100]
    assert res["gap"]["new_writers"][1] == 0.0  # every B digit right: no gap left
    assert res["new_minus_control"][1] == pytest.approx(-res["gap"]["control"][1], abs=1e-3)
    assert v["new_minus_control"].direction == "lower" and v["gap_baseline"].direction == "higher"
    assert harder.reading(v).startswith("the new writers' digits closed more of the gap")
    assert res["change"]["new_writers"][0] == 0.0 and res["change_ci"]["control"][0] == [0.0, 0.0]


def test_gap_summary_cannot_tell_identical_arms():
    rng = np.random.default_rng(1)
    s, ws, b, wb = _arms(0.8, rng)
    b["new_writers"][100] = b["control"][100]  # the same models: the arms cannot differ
    res, v = harder.gap_summary(s, ws, b, wb, n_boot=500)
    assert res["new_minus_control"][1] == 0.0 and v["new_minus_control"].direction == "cannot tell"
    assert harder.reading(v).startswith("the data cannot tell whether")


def test_gap_summary_refuses_bad_arms_and_sizes():
    s, ws, b, wb = _arms(0.8, np.random.default_rng(2))
    with pytest.raises(ValueError, match="exactly the arms"):
        harder.gap_summary({"new_writers": s["new_writers"]}, ws, b, wb)
    no_base = {a: {100: d[100]} for a, d in s.items()}
    with pytest.raises(ValueError, match="sizes must include 0"):
        harder.gap_summary(no_base, ws, {a: {100: d[100]} for a, d in b.items()}, wb)


def _verdict(direction: str) -> stats.Verdict:
    d = {"higher": 1.0, "lower": -1.0, "cannot tell": 0.1}[direction]
    return stats.Verdict(direction, d, (d - 0.5, d + 0.5), "test", None)


@pytest.mark.parametrize("diff", ["higher", "lower", "cannot tell"])
@pytest.mark.parametrize("base", ["higher", "cannot tell", "lower"])
def test_reading_covers_every_branch(diff, base):
    text = harder.reading({"new_minus_control": _verdict(diff), "gap_baseline": _verdict(base)})
    start = {"higher": "the new writers' digits closed less", "lower": "the new writers' digits closed more",
             "cannot tell": "the data cannot tell whether"}[diff]  # fmt: skip
    if base == "higher":  # only a baseline gap above 0 lets the arms decide
        assert text.startswith(start)
    elif base == "cannot tell":
        assert text == ("cannot tell: the baseline gap is not separated from 0, so this run does not test "
                        "harder against different")  # fmt: skip
    else:
        assert text.startswith("cannot tell: the baseline gap is below 0")


def test_train_arms_refuses_missing_arms():
    x = torch.zeros(4, 1, 28, 28, dtype=torch.uint8)
    with pytest.raises(ValueError, match="exactly the arms"):
        harder.train_arms("mlp-16-e1", x, torch.zeros(4, dtype=torch.long), [0], {"control": np.array([1])}, [1],
                          [0], {})  # fmt: skip


def test_prose_numbers_quote_the_largest_size_and_agree_with_the_verdicts():
    s, ws, b, wb = _arms(1.0, np.random.default_rng(3))
    res, v = harder.gap_summary(s, ws, b, wb, n_boot=500)
    out = harder.prose_numbers(res, v)
    assert out["top"] == 100 and out["gap_new"] == res["gap"]["new_writers"][-1] == 0.0
    assert out["diff_words"].startswith("the gap is smaller with the new writers' digits")
    assert out["diff_advantage_max"] == pytest.approx(max(0.0, -res["new_minus_control_ci"][-1][0]))
    assert out["gap0_words"].startswith("above zero by")


def test_seed_gap_summary_is_a_t_interval_over_seeds_with_splits_redrawn():
    import scipy.stats as st

    rng = np.random.default_rng(5)
    runs = []
    for r in range(4):  # B's size differs per seed: each seed draws its own split
        n_b = 300 + 20 * r
        base_b = rng.random(n_b) < 0.8
        s_r = {a: {k: rng.random(500) < 0.95 for k in (0, 100)} for a in harder.ARMS}
        s_r["control"][0] = s_r["new_writers"][0]  # the baseline model is shared by both arms
        b_r = {
            "new_writers": {0: base_b, 100: rng.random(n_b) < 0.93},
            "control": {0: base_b, 100: rng.random(n_b) < 0.8},
        }
        runs.append((s_r, b_r))
    res, v = harder.seed_gap_summary(runs)
    gaps = [100 * (s["new_writers"][100].mean() - b["new_writers"][100].mean()) for s, b in runs]
    want = st.ttest_1samp(gaps, 0.0).confidence_interval(0.95)
    assert res["gap"]["new_writers"][1] == pytest.approx(np.mean(gaps), abs=1e-3)
    assert res["gap_ci"]["new_writers"][1] == pytest.approx([want.low, want.high], abs=1e-3)
    diffs = [100 * (s["new_writers"][100].mean() - b["new_writers"][100].mean() - s["control"][100].mean()
                    + b["control"][100].mean()) for s, b in runs]  # fmt: skip
    want = st.ttest_1samp(diffs, 0.0).confidence_interval(0.95)
    assert res["new_minus_control_ci"][1] == pytest.approx([want.low, want.high], abs=1e-3)
    assert v["new_minus_control"].direction == "lower" and res["n_B"] == 330 and res["n_seeds"] == 4
    assert res["change"]["control"][0] == 0.0 and "A/B writer split" in res["interval"]
    with pytest.raises(ValueError, match="at least 2 seeds"):
        harder.seed_gap_summary(runs[:1])


def test_seed_gap_summary_adds_the_shared_error_of_the_fixed_test_set():
    import scipy.stats as st

    rng = np.random.default_rng(7)
    writers_S = np.repeat(np.arange(50), 10)  # 50 writers of S, 10 digits each
    hard = np.repeat(rng.random(50) < 0.3, 10)  # writer clustering: some writers' digits are hard
    runs = []
    for _ in range(5):
        s_r = {a: {k: rng.random(500) < np.where(hard, 0.8, 0.99) for k in (0, 100)} for a in harder.ARMS}
        s_r["control"][0] = s_r["new_writers"][0]
        base_b = rng.random(400) < 0.85
        b_r = {
            "new_writers": {0: base_b, 100: rng.random(400) < 0.9},
            "control": {0: base_b, 100: rng.random(400) < 0.86},
        }
        runs.append((s_r, b_r))
    plain, _ = harder.seed_gap_summary(runs)
    res, v = harder.seed_gap_summary(runs, writers_S=writers_S, n_boot=400, seed=1)
    assert res["gap"] == plain["gap"]  # the estimates do not move
    # the extra variance is the writer bootstrap's variance of the seeds' mean accuracy on S
    reps = harder.shared_S_replicates(runs, writers_S, n_boot=400, seed=1)
    extra = np.var(reps["new_writers"][0].mean(1), ddof=1)
    assert res["shared_S_se"] == pytest.approx(np.sqrt(extra), abs=1e-4)
    gaps = np.array([100 * (s["new_writers"][0].mean() - b["new_writers"][0].mean()) for s, b in runs])
    half = st.t.ppf(0.975, 4) * np.sqrt(gaps.var(ddof=1) / 5 + extra)
    assert res["gap_ci"]["new_writers"][0] == pytest.approx([gaps.mean() - half, gaps.mean() + half], abs=1e-3)
    # with clustered writers the SE exceeds the iid binomial one of one seed's accuracy
    p = np.mean([s["new_writers"][0].mean() for s, _ in runs])
    assert res["shared_S_se"] > 100 * np.sqrt(p * (1 - p) / 500)
    lo_p, hi_p = plain["gap_ci"]["new_writers"][0]
    lo, hi = res["gap_ci"]["new_writers"][0]
    assert lo < lo_p and hi > hi_p and "bootstrap over its writers" in res["interval"]
    assert "not resampled" in plain["interval"]
