"""Loaders of published results tables (RobustBench, SQuADShifts, OpenCLIP) on small files the tests write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reliable_ml import data
from reliable_ml.data import files as data_files
from reliable_ml.data import published

LINF = "robustbench/model_info/cifar10/Linf"


def entry(clean="87.14", aa="44.04", reported="47.04", additional=False, eps="8/255", footnote=None, **extra) -> dict:
    d = {
        "name": "x",
        "additional_data": additional,
        "venue": "ICLR 2018",
        "architecture": "WideResNet-34-10",
        "eps": eps,
        "clean_acc": clean,
        "reported": reported,
        "autoattack_acc": aa,
        **extra,
    }
    if footnote is not None:
        d["footnote"] = footnote
    return d


def write_models(root: Path, models: dict, folder: str = LINF) -> None:
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    for name, e in models.items():
        (path / f"{name}.json").write_text(json.dumps(e) if isinstance(e, dict) else e)


def test_generated_data_is_detected_from_the_footnote():
    yes = [
        "It uses additional 1M synthetic images in training.",
        "Trained on DDPM samples",
        "uses EDM-generated data",
        "50M images from a diffusion model",
    ]
    no = [
        None,
        "",
        "Focuses on fast adversarial training.",
        "Uses ensembles of 3 models.",
        "Uses \\(\\ell_{\\infty} \\) = 0.031 ≈ 7.9/255 instead of 8/255.",
        "Compressed model",
        "embedded in a larger pipeline",
    ]  # "edm" inside a word does not count
    assert all(published.uses_generated_data(f) for f in yes)
    assert not any(published.uses_generated_data(f) for f in no)
    # the robust model's data decides: a footnote naming synthetic images wins over the flag
    # (RobustBench flags e.g. ensembles whose robust base uses 50M synthetic images as additional data)
    assert published.data_group(True, yes[0]) == "generated data"
    assert published.data_group(True, no[2]) == "real extra data"
    assert published.data_group(True, no[2], base_group="generated data") == "generated data"
    with pytest.raises(ValueError, match="unknown base group 'x'"):
        published.data_group(True, None, base_group="x")
    assert published.base_model("It adds the MeanSparse operator to the adversarially trained model A2024B_W-9.") == (
        "A2024B_W-9"
    )
    assert published.base_model("Based on the model R2021_70_16_extra. 64.20% robust accuracy is due to X") == (
        "R2021_70_16_extra"
    )
    assert published.base_model("Uses ensembles of 3 models.") == ""
    assert published.data_group(False, yes[0]) == "generated data"
    assert published.data_group(False, no[2]) == "CIFAR-10 only"


def test_robustbench_strings_groups_and_eps(tmp_root):
    write_models(
        tmp_root,
        {
            "Madry2018Towards": entry(),
            "Gen2021": entry(
                clean="88.5", aa="61.0", reported="61.0", footnote="It uses additional 1M synthetic images in training."
            ),
            "Carmon2019Unlabeled": entry(clean="89.69", aa="59.53", reported="62.5", additional=True),
            "Trades": entry(clean="84.92", aa="53.08", reported="56.43", eps="0.031"),
            "Geometry": entry(footnote="Uses \\(\\ell_{\\infty} \\) = 0.031 ≈ 7.9/255 instead of 8/255."),
            "NoReport": entry(reported="null"),
        },
    )
    m = data.robustbench_models(download=False)
    assert len(m) == 6 and m.loc["Carmon2019Unlabeled", "robust"] == pytest.approx(59.53)
    assert m["clean"].dtype == float and m.loc["Madry2018Towards", "year"] == 2018
    assert m["group"].to_dict() == {
        "Carmon2019Unlabeled": "real extra data",
        "Gen2021": "generated data",
        "Geometry": "CIFAR-10 only",
        "Madry2018Towards": "CIFAR-10 only",
        "NoReport": "CIFAR-10 only",
        "Trades": "CIFAR-10 only",
    }
    assert sorted(m.index[m["eps_0031"]]) == ["Geometry", "Trades"]  # stored or footnoted
    assert np.isnan(m.loc["NoReport", "reported"])


def test_robustbench_external_unreliable_and_base_models(tmp_root):
    write_models(
        tmp_root,
        {
            "Base2024": entry(aa="73.71", footnote="It uses additional 300M synthetic images in training."),
            "Sparse2024": entry(
                aa="75.28",
                additional=True,
                external="73.10",
                footnote="It adds the MeanSparse operator to the adversarially trained model Base2024. 73.10% robust "
                "accuracy is due to APGD (both versions) with BPDA.",
            ),
            "Real2021": entry(aa="66.58", additional=True, external="66.56"),
            "Stable2021": entry(
                aa="71.28", additional=True, external="64.20", unreliable=True, footnote="Based on the model Real2021."
            ),
            "Plain2018": entry(external=None),
        },
    )
    m = data.robustbench_models(download=False)
    assert m.loc["Sparse2024", "group"] == "generated data"  # its base model's data, not the flag
    assert m.loc["Stable2021", "group"] == "real extra data" and m.loc["Real2021", "group"] == "real extra data"
    assert m.loc["Sparse2024", "strongest"] == pytest.approx(73.10) and m.loc["Sparse2024", "robust"] == 75.28
    assert m.loc["Plain2018", "strongest"] == m.loc["Plain2018", "robust"] and np.isnan(m.loc["Plain2018", "external"])
    assert m["unreliable"].to_dict() == {k: k == "Stable2021" for k in m.index}


@pytest.mark.parametrize(
    "bad, match",
    [
        (entry(aa="n/a"), "autoattack_acc = 'n/a' is not a number"),
        (entry(clean="187.1"), "outside 0..100"),
        (entry(additional="maybe"), "additional_data = 'maybe'"),
        ("{not json", "not valid JSON"),
        (json.dumps({"clean_acc": "1"}), "missing fields"),
    ],
)
def test_robustbench_malformed_entries_fail_clearly(tmp_root, bad, match):
    write_models(tmp_root, {"Good": entry(), "Bad": bad})
    with pytest.raises(data.DataCorrupt, match=match):
        data.robustbench_models(download=False)


def test_robustbench_missing_and_bad_arguments(tmp_root, offline):
    with pytest.raises(data.DataUnavailable, match="robustbench"):
        data.robustbench_models()
    with pytest.raises(ValueError, match="allowed: Linf, L2, corruptions"):
        data.robustbench_models("cifar10", "L1")
    with pytest.raises(ValueError, match="lists no imagenet L2"):
        data.robustbench_models("imagenet", "L2")


def test_robustbench_corruption_accuracy_field(tmp_root):
    write_models(
        tmp_root,
        {
            "Standard": {
                "additional_data": False,
                "clean_acc": "94.78",
                "corruptions_acc": "73.46",
                "reported": "73.46",
                "eps": "0.5",
            }
        },
        folder="robustbench/model_info/cifar10/corruptions",
    )
    m = data.robustbench_models("cifar10", "corruptions", download=False)
    assert m.loc["Standard", "robust"] == pytest.approx(73.46)


def test_robustbench_unaggregated_corruptions(tmp_root):
    path = tmp_root / "robustbench/model_info/cifar10/corruptions/unaggregated_results.csv"
    path.parent.mkdir(parents=True)
    head = ",fog,fog,snow,snow\n,1,2,1,2\n"
    path.write_text(head + "A,0.9,0.8,0.85,0.7\nB,0.5,0.4,0.45,0.3\n")
    c = data.robustbench_corruptions(download=False)
    assert c.shape == (2, 4) and c.loc["A", ("fog", 2)] == pytest.approx(80.0)
    with pytest.raises(data.DataCorrupt, match="severities"):
        path.write_text(",fog,fog\n,1,7\nA,0.9,0.8\n")
        data.robustbench_corruptions(download=False)
    with pytest.raises(data.DataCorrupt, match="fractions"):
        path.write_text(",fog,fog,fog,fog,fog\n,1,2,3,4,5\nA,0.9,0.8,1.5,0.5,0.1\n")
        data.robustbench_corruptions(download=False)


def squad_entry(name, base=90.0, drop=5.0):
    e = {"name": name, "institution": "", "paper_link": ""}
    for s, d in zip(published.SQUAD_ALL, (0, 1, 2, 3, 4)):
        e[f"{s}_f1"] = f"{base - d * drop / 4:.3f}"
        e[f"{s}_em"] = f"{base - 8 - d * drop / 4:.3f}"
    return e


def test_squadshifts_strings_and_duplicate_names(tmp_root):
    path = tmp_root / "squadshifts/results.json"
    path.parent.mkdir(parents=True)
    doc = {
        "humans": [squad_entry("Human 1", 95, 0.4)],
        "models": [squad_entry("BiDAF", 80, 10), squad_entry("BiDAF", 82, 10), squad_entry("BERT", 92, 6)],
    }
    path.write_text(json.dumps(doc))
    s = data.squadshifts_results(download=False)
    assert list(s.index) == ["BiDAF", "BiDAF #2", "BERT", "Human 1"]
    assert s["kind"].tolist() == ["model"] * 3 + ["human"]
    assert s.loc["BERT", "amazon_f1"] == pytest.approx(86.0) and s["test_f1"].dtype == float
    doc["models"][0]["nyt_f1"] = "eighty"
    path.write_text(json.dumps(doc))
    with pytest.raises(data.DataCorrupt, match="BiDAF: nyt_f1 = 'eighty'"):
        data.squadshifts_results(download=False)
    del doc["models"][0]["nyt_f1"]
    path.write_text(json.dumps(doc))
    with pytest.raises(data.DataCorrupt, match="lacks \\['nyt_f1'\\]"):
        data.squadshifts_results(download=False)
    path.write_text(json.dumps([1, 2]))
    with pytest.raises(data.DataCorrupt, match="'models' and 'humans'"):
        data.squadshifts_results(download=False)


def write_openclip(root: Path, rows: list[list], columns=None) -> Path:
    cols = columns or [
        "name",
        "pretrained",
        "params (M)",
        "ImageNet 1k",
        "ImageNet Sketch",
        "ImageNet v2",
        "ImageNet-A",
        "ImageNet-O",
        "ImageNet-R",
        "ObjectNet",
    ]
    path = root / "open_clip/docs/openclip_results.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(",".join(cols) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_openclip_column_mapping(tmp_root):
    # distinct values per column, so a swapped mapping shows
    write_openclip(
        tmp_root,
        [
            ["ViT-B-32", "openai", 151, 0.63, 0.42, 0.56, 0.31, 0.47, 0.69, 0.44],
            ["RN50", "yfcc15m", 102, 0.32, 0.12, 0.27, 0.05, 0.30, 0.20, 0.18],
        ],
    )
    o = data.openclip_results(download=False)
    assert list(o.index) == ["ViT-B-32/openai", "RN50/yfcc15m"]
    assert o.loc["ViT-B-32/openai"].to_dict() == pytest.approx(
        {
            "val": 63.0,
            "imagenetv2-matched-frequency": 56.0,
            "imagenet-sketch": 42.0,
            "imagenet-r": 69.0,
            "imagenet-a": 31.0,
            "objectnet": 44.0,
        }
    )
    # the testbed columns named in the mapping are the ones chapter 8 uses for the same shifts
    from reliable_ml.shift import effective_robustness as er

    for shift, (_, testbed_col) in published.OPENCLIP_COLUMNS.items():
        if shift != "val":
            assert er.SHIFTS[shift].y_cols == (testbed_col,)


def test_openclip_malformed(tmp_root, offline):
    with pytest.raises(data.DataUnavailable, match="open_clip"):
        data.openclip_results()
    write_openclip(tmp_root, [["A", "x", 1, 63.0, 0.4, 0.5, 0.3, 0.4, 0.6, 0.4]])  # a percentage slipped in
    with pytest.raises(data.DataCorrupt, match="fractions"):
        data.openclip_results(download=False)
    write_openclip(tmp_root, [["A", "x", 0.6]], columns=["name", "pretrained", "ImageNet 1k"])
    with pytest.raises(data.DataCorrupt, match="missing columns"):
        data.openclip_results(download=False)


def test_manifest_names_the_new_sources():
    assert data_files.upstream_url("squadshifts/results.json").startswith(
        "https://raw.githubusercontent.com/modestyachts/squadshifts-website/561d998/"
    )
    assert data_files.upstream_url(f"{LINF}/Carmon2019Unlabeled.json") == (
        "https://raw.githubusercontent.com/RobustBench/robustbench/master/model_info/cifar10/Linf/Carmon2019Unlabeled.json"
    )
    assert len(data_files._files_under(LINF + "/")) == 99
