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
