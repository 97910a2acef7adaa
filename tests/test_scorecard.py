"""The scorecard reads results files only and judges each claim."""
from __future__ import annotations

from reliable_ml import scorecard


def record(notebook, profile, **figures):
    return {"notebook": notebook, "profile": profile, "device": "cpu (2 threads)", "data_source": "MNIST", **figures}


def by_claim(rows):
    return {r["claim"]: r for r in rows}


MNIST_CLAIM = "PGD adversarial training, MNIST, eps = 0.3"


def test_no_results_means_not_yet():
    rows = scorecard.rows([])
    assert len(rows) == len(scorecard.CLAIMS)
    assert all(r["status"] == "not yet" and r["ours"] == "no results yet" for r in rows)


def test_smoke_results_never_count():
    rows = by_claim(scorecard.rows([record("04_adversarial_training", "smoke", clean_acc=0.99, robust_acc=0.9)]))
    assert rows[MNIST_CLAIM]["status"] == "not yet"


def test_robust_accuracy_judged_against_published():
    close = by_claim(scorecard.rows([record("04_adversarial_training", "cpu", clean_acc=0.985, robust_acc=0.875,
                                            attack="PGD-40")]))[MNIST_CLAIM]
    assert close["status"] == "reproduced" and "robust 87.5%" in close["ours"] and close["profile"] == "cpu"
    far = by_claim(scorecard.rows([record("04_adversarial_training", "cpu", clean_acc=0.97, robust_acc=0.82)]))
    assert far[MNIST_CLAIM]["status"] == "partly"
    assert far[MNIST_CLAIM]["note"] == "6.0 pts below the published robust accuracy"


def test_gpu_run_preferred_over_cpu():
    rows = by_claim(scorecard.rows([
        record("01_accuracy_decomposition", "cpu", imagenetv2_median_drop=9.0),
        record("01_accuracy_decomposition", "gpu", imagenetv2_median_drop=12.0,
               imagenetv2_top_model={"model": "pnasnet5large", "drop": 10.4}),
    ]))
    row = rows["ImageNet models lose accuracy on a new test set"]
    assert row["profile"] == "gpu" and row["status"] == "reproduced" and "12.0 pts" in row["ours"]
    assert "pnasnet5large: 10.4 pts" in row["ours"]


def test_missing_keys_are_reported_not_raised():
    rows = by_claim(scorecard.rows([record("02_rebuilding_a_test_set", "cpu", acc_original=0.9)]))
    row = rows["CIFAR-10 models lose accuracy on a new test set"]
    assert row["status"] == "not yet" and "lacks" in row["ours"]


def test_markdown_cites_and_counts(tmp_path):
    recs = [record("04_adversarial_training", "cpu", clean_acc=0.985, robust_acc=0.875)]
    page = scorecard.markdown(recs)
    assert "{cite}`madry2018towards`" in page and "**1 reproduced, 0 partly, 9 not yet.**" in page
    page_path, summary_path = scorecard.write(tmp_path, recs)
    assert page_path.read_text() == page and "1 are reproduced" in summary_path.read_text()
