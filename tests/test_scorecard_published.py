"""Scorecard rules of the published-results rows (RobustBench, SQuADShifts, OpenCLIP) on crafted results."""

from __future__ import annotations

from reliable_ml.course import scorecard
from reliable_ml.course.claims import CLAIMS

BY_ID = {c["id"]: c for c in CLAIMS}


def rb_record(madry=44.04, wong=43.21, carmon=59.53, trades=53.08, p=(1e-10, 1e-10)):
    models = {
        "Madry2018Towards": {"clean": 87.14, "autoattack": madry},
        "Wong2020Fast": {"autoattack": wong},
        "Carmon2019Unlabeled": {"autoattack": carmon},
        "Zhang2019Theoretically": {"autoattack": trades},
    }
    return {
        "notebook": "05_robustness_needs_data",
        "profile": "cpu",
        "data_source": "RobustBench",
        "robustbench": {
            "models": models,
            "carmon_minus_trades_aa": carmon - trades,
            "mannwhitney_p_vs_cifar10_only": {"generated data": p[0], "real extra data": p[1]},
            "median_aa_by_group": {"CIFAR-10 only": 50.7, "generated data": 63.4, "real extra data": 60.5},
        },
    }


def qa_record(nyt=3.65, reddit=13.81, amazon=16.77, ci_lo=4.5):
    return {
        "notebook": "08_effective_robustness",
        "profile": "cpu",
        "data_source": "SQuADShifts",
        "squadshifts": {"n_models": 95, "mean_f1_drop": {"models": {"nyt": nyt, "reddit": reddit, "amazon": amazon}}},
        "open_clip": {
            "n_models": 121,
            "effective_robustness": {
                "imagenet-r": {"median": 49.0, "ci": [47.3, 51.0]},
                "imagenetv2-matched-frequency": {"median": 4.8, "ci": [ci_lo, 4.9]},
            },
        },
    }


def status(cid, records):
    return {r["id"]: r for r in scorecard.rows(records, "cpu")}[cid]


def test_robustbench_rows():
    r = status("madry_cifar_robustbench", [rb_record()])
    assert r["status"] == "re-analysed" and "44.04%" in r["ours"]
    assert status("madry_cifar_robustbench", [rb_record(madry=40.0)])["status"] == "not reproduced"
    assert status("fast_at_robustbench", [rb_record()])["status"] == "re-analysed"  # 0.8 pts apart, tolerance ~1.4
    assert status("fast_at_robustbench", [rb_record(wong=38.0)])["status"] == "not reproduced"
    assert status("rst_robustbench", [rb_record()])["status"] == "re-analysed"  # +6.45 >= 5 - 1.4
    assert status("rst_robustbench", [rb_record(carmon=55.0)])["status"] == "not reproduced"
    assert status("robust_needs_data_robustbench", [rb_record()])["status"] == "re-analysed"
    assert status("robust_needs_data_robustbench", [rb_record(p=(1e-10, 0.2))])["status"] == "not reproduced"


def test_qa_and_clip_rows():
    assert status("qa_shift", [qa_record()])["status"] == "re-analysed"
    assert status("qa_shift", [qa_record(amazon=15.0)])["status"] == "not reproduced"
    assert status("zero_shot_clip", [qa_record()])["status"] == "re-analysed"
    assert status("zero_shot_clip", [qa_record(ci_lo=-0.5)])["status"] == "not reproduced"
    assert status("qa_shift", [])["status"] == "not measured"
