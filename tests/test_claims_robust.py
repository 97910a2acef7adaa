"""Chapter 04's CIFAR-10 claim rows describe what the gpu entry point trains, and the shared robust
model's results entry words each masking check with today's cautious words."""

from __future__ import annotations

from reliable_ml.course import claims
from reliable_ml.robust import shared_model as rm
from reliable_ml.robust import verdicts as V
from reliable_ml.settings import robust_cifar


def row(claim_id: str) -> dict:
    return next(c for c in claims.CLAIMS if c["id"] == claim_id)


def test_cifar_claim_rows_follow_the_gpu_recipe():
    t = robust_cifar.TABLE["gpu"].train
    fast, madry = row("fast_at"), row("madry_cifar")
    if t.method == "fgsm_rs":
        assert fast["setting"] == "published" and "not_comparable" not in fast
    else:  # a PGD-trained model is never scored as a reproduction of FGSM-RS
        assert fast["setting"] == "stand-in" and "FGSM-RS" in fast["not_comparable"]
        assert "FGSM-RS" not in fast["setting_note"] and "fast adversarial" not in madry["setting_note"]
    assert f"{t.epochs} epochs" in fast["setting_note"] and f"{t.epochs} epochs" in madry["setting_note"]


def test_results_entry_rewords_a_cached_cards_masking_checks():
    old = "their gradients are misleading (masked), so their figure overstates robustness"
    card = {
        k: 0
        for k in ("fingerprint", "dataset", "eps", "worst_case_acc", "clean_acc", "attack_acc", "square_queries")
        + ("n_eval", "recipe", "seconds")
    }
    card["masking"] = {"flags": [], "checks": {"gradient_free_beats_gradient": {"meaning": old, "flagged": True}}}
    entry = rm.results_entry(card)
    c = entry["masking"]["checks"]["gradient_free_beats_gradient"]
    assert c["meaning"] == V.WARNING_WORDS["gradient_free_beats_gradient"] and "cannot tell" in c["meaning"]
    assert c["flagged"] and card["masking"]["checks"]["gradient_free_beats_gradient"]["meaning"] == old  # no mutation
