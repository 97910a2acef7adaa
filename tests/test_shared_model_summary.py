"""The shared robust model's one-line summary says which worst case it quotes."""

from reliable_ml.robust import shared_model as rm

CARD = {
    "dataset": "mnist",
    "eps": 0.3,
    "fingerprint": "abc",
    "worst_case_acc": 86.8,
    "clean_acc": 98.0,
    "attack_acc": {"pgd-40x5": 90.4, "apgd-ce": 91.6, "square": 86.8},
    "n_eval": 1000,
    "masking": {"flags": ["gradient_free_beats_gradient"]},
}


def test_the_summary_calls_the_cards_figure_reduced_strength_and_points_to_chapter_4():
    text = rm.summary(CARD)
    assert "worst case 86.8%, the card's reduced-strength worst case" in text
    assert "10 iterations) on the first 1,000 test images" in text
    assert "chapter 4 reports the standard suite's worst case" in text
    assert text.endswith("masking flags: gradient_free_beats_gradient")


def test_the_strength_text_follows_the_card():
    text = rm.card_strength_text(CARD | {"n_eval": 500, "attack_acc": {"apgd-ce": 1.0}})
    assert "its own suite (apgd-ce;" in text and "first 500 test images" in text
