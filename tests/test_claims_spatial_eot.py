"""Chapter 11's scorecard rows (spatial brittleness, EOT) follow their rules on crafted results."""

from __future__ import annotations

from reliable_ml.course import scorecard

NB = "11_spatial_and_physical_robustness"


def rec(spatial=None, eot=None):
    r = {
        "notebook": NB,
        "profile": "cpu",
        "device": "cpu",
        "data_source": {"mnist": "MNIST"},
    }  # digits runs never count
    r |= {"spatial": spatial} if spatial is not None else {}
    r |= {"eot": eot} if eot is not None else {}
    return r


def spatial(clean, grid):
    return {
        "clean": {"standard": clean},
        "grid": {"standard": grid, "linf_robust": 0.01, "spatial_trained": 0.6},
        "random": {"standard": 0.02},
        "n_eval": 1000,
        "seeds": 3,
    }


def eot(pgd, eot_, paired=None):
    out = {"plain_pgd_survival": pgd, "eot_survival": eot_, "n_images": 100, "n_draws": 100}
    return out | ({"paired_diff": paired} if paired is not None else {})


def row(claim_id, records):
    return {r["id"]: r for r in scorecard.rows(records, "cpu")}[claim_id]


def test_spatial_brittleness_needs_a_real_drop():
    ok = row("spatial_brittleness", [rec(spatial=spatial(0.97, 0.003))])
    assert ok["status"] == "qualitative" and "97.0% vs 0.3%" in ok["ours"]  # fractions read unambiguously
    assert row("spatial_brittleness", [rec(spatial=spatial(0.97, 0.965))])["status"] == "not reproduced"
    assert row("spatial_brittleness", [rec(eot=eot(0.5, 0.6))])["status"] == "not measured"


def test_eot_uses_the_paired_interval_when_present():
    assert (
        row("eot_survival", [rec(spatial=spatial(0.97, 0.0), eot=eot(0.74, 0.83, [{"lo": 0.04, "hi": 0.13}]))])[
            "status"
        ]
        == "qualitative"
    )
    assert (
        row("eot_survival", [rec(spatial=spatial(0.97, 0.0), eot=eot(0.74, 0.83, [{"lo": -0.01, "hi": 0.13}]))])[
            "status"
        ]
        == "not reproduced"
    )
    # unpaired: a 9-point gain on 100 images is within the half-width
    assert row("eot_survival", [rec(spatial=spatial(0.97, 0.0), eot=eot(0.74, 0.83))])["status"] == "not reproduced"
    assert row("eot_survival", [rec(spatial=spatial(0.97, 0.0), eot=eot(0.2, 0.8))])["status"] == "qualitative"


def test_a_digits_fallback_run_never_counts():
    r = rec(spatial=spatial(0.97, 0.003), eot=eot(0.2, 0.8)) | {"data_source": {"digits": "scikit-learn digits"}}
    assert row("spatial_brittleness", [r])["status"] == "not measured"
    assert row("eot_survival", [r])["status"] == "not measured"
