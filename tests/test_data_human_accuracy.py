"""Shankar et al. 2020's printed results: parsing a small executed notebook the tests write,
its validation, the drops with their intervals, and CIFAR-10H against released predictions."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest
from conftest import real_data_root

from reliable_ml import data
from reliable_ml.labels import human_labels as hl
from reliable_ml.labels import humans

ha_mod = importlib.import_module("reliable_ml.data.human_accuracy")  # the module; data.human_accuracy is its loader

# (name, val k of 100, v2 k of 80) on all images; objects only: (k of 50, k of 40)
ALL = {
    "human_a": (92, 73),
    "human_b": (95, 76),
    "human_c": (96, 77),
    "human_d": (97, 77),
    "human_e": (98, 78),
    "FixResNeXt101_32x48d_v2": (95, 71),
    "instagram-48d": (94, 70),
    "efficientnet-b7": (93, 68),
    "resnet50": (84, 60),
}
OBJ = {
    "human_a": (48, 39),
    "human_b": (49, 39),
    "human_c": (49, 40),
    "human_d": (50, 39),
    "human_e": (49, 38),
    "FixResNeXt101_32x48d_v2": (47, 36),
    "instagram-48d": (47, 35),
    "efficientnet-b7": (46, 34),
    "resnet50": (41, 29),
}


def block(rows, n_val, n_v2, slope=1.05):
    lines = [
        "Include random chance:  False",
        "ymax 93.2",
        f"Slope {slope}, intercept -12.5, r 0.99, pvalue 3e-69, stderr 0.01",
    ]
    lines += [f"{name} {100 * kv / n_val!r} {100 * k2 / n_v2!r}" for name, (kv, k2) in rows.items()]
    return "\n".join(lines) + "\n"


def table_text(n_val=100, n_v2=80, hidden=2):
    """A pandas frame printed as text: two column groups, ``hidden`` rows elided with ``..``."""
    names = [
        "instagram_model_48d",
        "resnet50",
        "dpn98",
        "vgg16",
        "squeezenet1_0",
        "human_a",
        "human_b",
        "human_c",
        "human_d",
        "human_e",
    ]
    accs = {
        "instagram_model_48d": (94, 70),
        "resnet50": (84, 60),
        "dpn98": (88, 64),
        "vgg16": (80, 57),
        "squeezenet1_0": (64, 43),
        **{h: ALL[h] for h in ALL if h.startswith("human")},
    }
    rows = list(range(len(names) + hidden))
    shown = [r for r in rows if not (3 <= r < 3 + hidden)]
    visible = [names[i] if i < 3 else names[i - hidden] for i in shown]
    g1 = ["        username    val     v2       model_type  \\"]
    g2 = ["    v2_dataset_size  val_dataset_size"]
    for r, name in zip(shown, visible):
        if r == 3 + hidden:
            g1.append("..           ...    ...    ...              ...   ")
            g2.append("..               ...               ...")
        kv, k2 = accs[name]
        kind = "ModelTypes.HUMAN" if name.startswith("human") else "ModelTypes.MODEL"
        g1.append(f"{r:<3} {name:>16} {100 * kv / n_val:6.2f} {100 * k2 / n_v2:6.2f} {kind:>16}   ")
        g2.append(f"{r:<3} {n_v2:>16} {n_val:>17}")
    return "\n".join(g1) + "\n\n" + "\n".join(g2) + f"\n\n[{len(rows)} rows x 6 columns]"


def notebook(path, blocks=None, table=None, order=("ImageNet vs ImageNetV2", "objects_only")):
    blocks = blocks if blocks is not None else [block(ALL, 100, 80), block(OBJ, 50, 40, 1.07)]
    cells = [
        {
            "cell_type": "code",
            "source": ["df\n"],
            "outputs": [{"output_type": "execute_result", "data": {"text/plain": table or table_text()}}],
        },
        {"cell_type": "markdown", "source": ["# Make Plot On Entire Dataset"]},
        {
            "cell_type": "code",
            "source": [f'make_fig(h_a, df, "{order[0]}")\n'],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": blocks[0]}],
        },
        {
            "cell_type": "code",
            "source": [f'make_fig(h_a, df, "{order[1]}", h_a.OBJECT_FILTER)\n'],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": blocks[1]}],
        },
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 2, "metadata": {}}))
    return path


def test_denominator_is_inferred_from_full_precision_fractions():
    assert ha_mod.infer_denominator([100 * 565 / 582, 100 * 580 / 582]) == 582
    assert ha_mod.infer_denominator([50.0]) == 2
    assert ha_mod.infer_denominator([100 / 3], n_max=2) is None
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        ha_mod.infer_denominator([101.0])


def test_parses_blocks_by_title_and_the_elided_table(tmp_path):
    res = ha_mod.read_notebook(notebook(tmp_path / "nb.ipynb"))
    assert set(res.subsets) == {"all_images", "objects_only"}
    assert res.table_rows == 12 and len(res.table) == 10 and res.hidden_rows == 2  # 2 rows elided
    assert res.n["all_images"] == (100, 80) and res.n_inferred["all_images"] is False
    assert res.n["objects_only"] == (50, 40) and res.n_inferred["objects_only"] is True
    assert res.subsets["objects_only"].loc["human_d", "val"] == 100.0
    assert res.fits["objects_only"]["slope"] == 1.07
    assert res.table.loc["dpn98", "val"] == 88.0 and res.table.loc["human_e", "val_dataset_size"] == 100
    # swapping the titles swaps the subsets: blocks are matched by title, not by position
    swapped = ha_mod.read_notebook(
        notebook(
            tmp_path / "sw.ipynb",
            blocks=[block(OBJ, 50, 40), block(ALL, 100, 80)],
            order=("objects_only", "ImageNet vs ImageNetV2"),
        )
    )
    assert swapped.subsets["all_images"].loc["resnet50", "val"] == 84.0


@pytest.mark.parametrize(
    "change, match",
    [
        (
            lambda: dict(blocks=[block({k: v for k, v in ALL.items() if k != "human_c"}, 100, 80), block(OBJ, 50, 40)]),
            "human_c",
        ),
        (
            lambda: dict(blocks=[block(ALL, 100, 80).replace("Slope", "Slop"), block(OBJ, 50, 40)]),
            "printed result block",
        ),
        (lambda: dict(table=table_text().replace("[12 rows x 6 columns]", "")), "rows x"),
        (
            lambda: dict(blocks=[block(ALL, 100, 80).replace("resnet50 84.0", "resnet50 184.0"), block(OBJ, 50, 40)]),
            r"\[0, 100\]",
        ),
        (lambda: dict(table=table_text(n_v2=90)), "disagree"),
    ],
)
def test_malformed_outputs_are_data_corrupt(tmp_path, change, match):
    with pytest.raises(data.DataCorrupt, match=match):
        ha_mod.read_notebook(notebook(tmp_path / "nb.ipynb", **change()))


def test_missing_notebook_is_unavailable_and_loader_reads_the_root(tmp_root, offline):
    with pytest.raises(data.DataUnavailable, match="imagenet-human-accuracy"):
        data.human_accuracy(download=False)
    notebook(tmp_root / ha_mod.NOTEBOOK)
    assert data.human_accuracy(download=False).n["all_images"] == (100, 80)


def test_drops_have_newcombe_intervals_from_the_image_counts(tmp_path):
    res = ha_mod.read_notebook(notebook(tmp_path / "nb.ipynb"))
    d = humans.shankar_drops(res, "all_images", table=True)
    assert "instagram_model_48d" not in d.index and "dpn98" in d.index  # the alias is not counted twice
    a = d.loc["human_a"]
    assert np.isclose(a["drop"], 92 - 100 * 73 / 80) and a["lo"] < a["drop"] < a["hi"]
    se = np.sqrt(0.92 * 0.08 / 100 + (73 / 80) * (7 / 80) / 80)
    assert abs((a["hi"] - a["lo"]) / 2 - 196 * se) < 1.5  # Newcombe close to Wald at these counts
    out = humans.shankar_results(res, {"all_images": d, "objects_only": humans.shankar_drops(res, "objects_only")})
    drops = sorted(out["labelers"][h]["drop"] for h in ha_mod.LABELERS)
    assert out["median_labeler_drop"] == drops[2] and out["best_model"] == "FixResNeXt101_32x48d_v2"
    assert set(out["object_only_drop"]) == set(OBJ) and out["table_rows_visible"] == 10
    with pytest.raises(ValueError, match="all images only"):
        humans.shankar_drops(res, "objects_only", table=True)


def test_published_models_summary_on_planted_predictions():
    labels = np.repeat(np.arange(10), 10)
    counts = np.zeros((100, 10), int)
    counts[np.arange(100), labels] = 10
    counts[:20, 0] += 10  # images 0..19: half the annotators chose class 0 (label 0 for 0..9)
    good = labels.copy()
    bad = labels.copy()
    bad[10:20] = (labels[10:20] + 1) % 10  # errs on 10 hesitant images
    bad[50] = 0  # and on one unanimous image
    names, correct = hl.correct_matrix({"good": good, "bad": bad}, labels)
    s = hl.published_models_summary(counts, labels, names, correct)
    assert s["best_model"] == "good" and s["best_model_error_on_unanimous_pct"] == 0.0
    assert s["share_of_errors_on_hesitant_pct"] == pytest.approx(100 * 10 / 11)
    assert s["acc_by_agreement"]["[0.5, 0.7)"] == 50.0 and s["images_by_agreement"][">= 0.999"] == 90
    assert s["core"] == {"images": 11, "hesitant_pct": pytest.approx(100 * 10 / 11), "best_model_errors": 0}
    g = hl.published_numbers(s)  # two models: no trend, so its words say so
    assert g["pub_errors_min"] == 0 and g["pub_errors_max"] == 11 and g["pub_trend"] == "not measured"
    assert hl.published_numbers({})["pub_trend"] == "not measured"
    with pytest.raises(ValueError, match="shape"):
        hl.correct_matrix({"short": good[:5]}, labels)
    with pytest.raises(ValueError, match="models, images"):
        hl.published_models_summary(counts, labels, ["good"], correct)


def test_real_notebook_shows_60_of_80_rows():
    root = real_data_root()
    if not (root / ha_mod.NOTEBOOK).exists():
        pytest.skip("no imagenet-human-accuracy under the data root")
    res = data.human_accuracy(root, download=False)
    assert res.table_rows == 80 and len(res.table) == 60
    assert res.n["all_images"] == (984, 980)
    assert set(res.subsets) == {"all_images", "objects_only", "no_dogs", "fast_images"}


def _row(kv, nv, k2, n2, kind="labeler"):
    import pandas as pd

    return pd.Series({"kind": kind, "val": 100 * kv / nv, "v2": 100 * k2 / n2, "n_val": nv, "n_v2": n2})


def test_drop_verdict_is_fisher_and_newcombe_on_the_counts_and_its_tost_margin():
    from reliable_ml import stats

    row = _row(920, 1000, 900, 1000)
    v = humans.drop_verdict(row)
    assert v == stats.compare_counts(920, 1000, 900, 1000)
    assert v.direction == "cannot tell" and v.difference == pytest.approx(0.02)
    t = humans.drop_verdict(row, margin=1.0)  # margin in points
    lo, hi = stats.difference_interval(920, 1000, 900, 1000, 0.10)  # TOST at 5%: the 90% interval
    assert t.direction == "not shown equivalent" and t.margin == pytest.approx(0.01)
    assert t.margin_supported == pytest.approx(max(abs(lo), abs(hi)))
    assert humans.drop_verdict(row, margin=100 * t.margin_supported + 0.01).direction == "equivalent"
    assert humans.drop_verdict(_row(950, 1000, 800, 1000)).direction == "higher"  # a 15-point drop


def test_humans_tost_agrees_with_two_one_sided_z_tests_on_the_printed_counts():
    """Known values: human_a's printed accuracies (91.870% of 984 val, 91.122% of 980 ImageNetV2
    images, the counts 904 and 893). The Newcombe TOST must agree with Schuirmann's two one-sided
    z tests on the Wald standard error (scipy) to within the two intervals' difference."""
    from scipy.stats import norm

    row = _row(904, 984, 893, 980)
    p1, p2 = 904 / 984, 893 / 980
    d, se = p1 - p2, np.sqrt(p1 * (1 - p1) / 984 + p2 * (1 - p2) / 980)
    for m in (0.01, 0.02, 0.03, 0.04):
        z_p = max(norm.sf((d + m) / se), norm.cdf((d - m) / se))  # H0: d <= -m, H0: d >= m
        t = humans.drop_verdict(row, margin=100 * m)
        assert t.p_value == pytest.approx(z_p, abs=0.02), m
        assert (t.direction == "equivalent") == bool(z_p < 0.05), m
    z_supported = abs(d) + norm.ppf(0.95) * se  # the farther end of the 90% Wald interval
    t = humans.drop_verdict(row, margin=1.0)
    assert 100 * z_supported == pytest.approx(2.82, abs=0.01)
    assert 100 * t.margin_supported == pytest.approx(100 * z_supported, abs=0.05)  # the chapter's 2.83
    assert t.direction == "not shown equivalent" and t.p_value > 0.4  # at ±1 point it fails


def test_mean_of_correlated_drops_is_never_less_precise_than_one_labeler():
    import pandas as pd

    two = pd.DataFrame([_row(900, 1000, 900, 1000), _row(900, 1000, 900, 1000)], index=["a", "b"]).assign(drop=0.0)
    out = humans.mean_drop_bounds(two)
    s = 100 * np.sqrt(2 * 0.9 * 0.1 / 1000)  # one labeler's standard error, by hand
    assert out["correlated"]["se"] == pytest.approx(s) == pytest.approx(out["se_average"])
    assert out["independent"]["se"] == pytest.approx(s / np.sqrt(2))
    assert out["correlated"]["ci"] == pytest.approx([-1.959964 * s, 1.959964 * s], rel=1e-5)
    assert out["independent"]["margin_supported"] == pytest.approx(1.644854 * s / np.sqrt(2), rel=1e-5)
    with pytest.raises(ValueError, match="at least 2"):
        humans.mean_drop_bounds(two.iloc[:1])


def test_drop_difference_is_the_mover_interval_of_two_newcombe_intervals():
    from reliable_ml import stats

    model, human = _row(960, 1000, 900, 1000, "model"), _row(950, 1000, 945, 1000)
    v = humans.drop_difference(model, human)
    (l1, u1), (l2, u2) = (
        stats.difference_interval(960, 1000, 900, 1000),
        stats.difference_interval(950, 1000, 945, 1000),
    )
    d1, d2 = 0.06, 0.005
    assert v.difference == pytest.approx(d1 - d2)
    assert v.interval[0] == pytest.approx(d1 - d2 - np.sqrt((d1 - l1) ** 2 + (u2 - d2) ** 2))
    assert v.interval[1] == pytest.approx(d1 - d2 + np.sqrt((u1 - d1) ** 2 + (d2 - l2) ** 2))
    assert v.direction == "higher" and humans.drop_difference(human, model).direction == "lower"
    assert humans.drop_difference(human, human).direction == "cannot tell"


def test_human_verdicts_on_the_planted_notebook(tmp_path):
    res = ha_mod.read_notebook(notebook(tmp_path / "nb.ipynb"))
    d = humans.shankar_drops(res, "all_images", table=True)
    out = humans.human_verdicts(d, margin=1.0)
    labelers = [n for n in out["per_human"] if n.startswith("human_") and n != "human_majority"]
    assert len(labelers) == 5 and out["best_model"] == "FixResNeXt101_32x48d_v2"
    each = out["tost"]["margin_supported_each"]
    assert out["tost"]["margin_supported"] == pytest.approx(max(each[n] for n in labelers))
    assert out["tost"]["passes_at_1"] is (out["tost"]["labelers_equivalent"] == 5)
    assert out["labelers_dropping"] + out["labelers_cannot_tell"] <= 5
    assert out["mean_drop"]["correlated"]["se"] >= out["mean_drop"]["independent"]["se"]


def test_rank_trend_is_spearman_with_a_fisher_z_interval():
    from scipy import stats as st

    x = np.arange(30.0)
    y = x + np.random.default_rng(0).normal(0, 8, 30)
    t = hl.rank_trend(x, y)
    rho = st.spearmanr(x, y).statistic
    half = 1.959964 * np.sqrt(1.06 / 27)
    assert t["rho"] == pytest.approx(rho, abs=1e-4)
    assert t["ci"] == pytest.approx([np.tanh(np.arctanh(rho) - half), np.tanh(np.arctanh(rho) + half)], abs=1e-4)
    assert t["direction"] == "higher" and hl.rank_trend(x, -y)["direction"] == "lower"
    assert hl.rank_trend(x[:6], [3, 1, 4, 1, 5, 9])["direction"] == "cannot tell"
    with pytest.raises(ValueError, match="at least 4"):
        hl.rank_trend([1, 2, 3], [1, 2, 3])


def test_verdict_numbers_words_follow_the_verdicts(tmp_path):
    res = ha_mod.read_notebook(notebook(tmp_path / "nb.ipynb"))
    drops = {s: humans.shankar_drops(res, s, table=s == "all_images") for s in ("all_images", "objects_only")}
    hv = humans.human_verdicts(drops["all_images"])
    g = humans.verdict_numbers(hv, drops)
    assert g["h_tost_margin"] == hv["tost"]["margin_supported"] and g["h_mean"] == hv["mean_drop"]["mean"]
    not_higher = [n for n, v in hv["best_model_vs"].items() if v["direction"] != "higher"]
    assert g["h_best_vs_other"] == (", ".join(f"`{n}`" for n in not_higher) or "none")
    assert humans.verdict_numbers({}, drops) == {}
    assert list(humans.verdict_table(hv).index) == list(hv["per_human"])
    # the most accurate model is picked by val accuracy from the data, and its drop set against 5.4
    models = drops["all_images"][drops["all_images"]["kind"].isin(["model", "model (more data)"])]
    assert hv["best_model"] == models["val"].idxmax()
    lo, hi = hv["best_model_drop"]["ci"]
    want = "cannot be told from" if lo <= 5.4 <= hi else ("is larger than" if lo > 5.4 else "is smaller than")
    assert g["h_best_vs_published"].startswith(f"{want} the published 5.4"), g["h_best_vs_published"]
    far = dict(hv, best_model_drop={"difference": 1.0, "ci": [0.5, 1.5]})
    assert humans.verdict_numbers(far, drops)["h_best_vs_published"].startswith(
        "is smaller than the published 5.4 by 4.4"
    )
