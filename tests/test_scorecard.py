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
    assert "{cite}`madry2018towards`" in page and f"**1 reproduced, 0 partly, {len(scorecard.CLAIMS) - 1} not yet.**" in page
    page_path, summary_path = scorecard.write(tmp_path, recs)
    assert page_path.read_text() == page and "1 are reproduced" in summary_path.read_text()


def test_humans_judged_from_labeler_sessions_only():
    no_sessions = by_claim(scorecard.rows([record("03_humans_vs_models", "cpu", n_labelers=0, labelers=[])]))
    assert no_sessions["Humans label the original and new test sets about equally well"]["status"] == "not yet"
    labelers = [{"employee_accuracy": 0.98, "student_accuracy": 0.975, "employee_answered": 100, "student_answered": 100},
                {"employee_accuracy": 0.97, "student_accuracy": 0.99, "employee_answered": 50, "student_answered": 50},
                {"employee_accuracy": 0.99, "student_accuracy": 0.96, "employee_answered": 80, "student_answered": 80}]
    row = by_claim(scorecard.rows([record("03_humans_vs_models", "cpu", labelers=labelers)]))[
        "Humans label the original and new test sets about equally well"]
    assert row["status"] == "reproduced" and "3 labeler(s)" in row["ours"] and "0.5 pts" in row["ours"]
    assert "460 answers" in row["ours"]


RST = "Robust self-training with unlabeled data beats labeled-only robust training"


def test_rst_reproduced_only_on_cifar_with_the_target_gain():
    mnist = by_claim(scorecard.rows([record("06_robust_self_training", "cpu", robust_acc_rst=0.84,
                                            robust_acc_labeled_only=0.81, robust_acc_ceiling=0.86)]))[RST]
    assert mnist["status"] == "partly" and "+3.0 pts" not in mnist["ours"] and "3.0 pts" in mnist["ours"]
    cifar = dict(record("06_robust_self_training", "gpu", robust_acc_rst=0.45, robust_acc_labeled_only=0.38,
                        robust_acc_ceiling=0.48), data_source="CIFAR-10 (JPEG q75 copy)")
    assert by_claim(scorecard.rows([cifar]))[RST]["status"] == "reproduced"
    worse = dict(cifar, robust_acc_rst=0.37)
    assert by_claim(scorecard.rows([worse]))[RST]["status"] == "not yet"


BACKDOOR = "A backdoor works with a small poison rate"


def test_backdoor_needs_high_success_at_one_percent_without_clean_cost():
    curve = {"0.0": 0.01, "0.001": 0.4, "0.005": 0.95, "0.05": 1.0}
    good = record("07_backdoors_and_spurious_correlations", "cpu", attack_success_by_poison_fraction=curve,
                  clean_acc_by_poison_fraction={"0.0": 0.99, "0.001": 0.99, "0.005": 0.985, "0.05": 0.98})
    row = by_claim(scorecard.rows([good]))[BACKDOOR]
    assert row["status"] == "reproduced" and "0.5% poisoned" in row["note"] and "0.1% poisoned: 40%" in row["ours"]
    costly = dict(good, clean_acc_by_poison_fraction={"0.0": 0.99, "0.001": 0.99, "0.005": 0.97, "0.05": 0.98})
    assert by_claim(scorecard.rows([costly]))[BACKDOOR]["status"] == "partly"


def test_samples_needed_slope_judged():
    row = by_claim(scorecard.rows([record("05_robustness_needs_data", "cpu", robust_samples_loglog_slope=0.48,
                                          robust_gap_smallest_n=0.6)]))[
        "Robust generalization needs more data than standard generalization"]
    assert row["status"] == "reproduced" and "d^0.48" in row["ours"] and "60 pts" in row["ours"]
