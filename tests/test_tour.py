"""Chapter 0's tables: provenance and class shares of what loaded, notes for what did not."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np

from reliable_ml.data import tour


def test_provenance_and_class_shares_of_the_bundled_digits(tmp_root, offline, capsys):
    loaded = tour.load_all(["train", "test"], names=("digits", "mnist"))
    assert list(loaded) == ["digits"]  # MNIST is missing from the empty root: a note, no fallback
    assert "mnist samples" in capsys.readouterr().err
    table = tour.provenance(loaded, ["train", "test"])
    assert table.loc["digits", "n train"] + table.loc["digits", "n test"] == 1797
    shares = tour.class_shares(loaded)
    assert set(shares) == {"digits/train", "digits/test"}
    assert all(np.isclose(s.sum(), 1.0) and len(s) == 10 for s in shares.values())
    assert tour.plot_class_balance(loaded, shares) is not None
    fig = tour.sample_grid(loaded["digits"]["test"], 2, np.random.default_rng(0))
    assert len(fig.axes) >= 20


def test_class_share_pct_known_values_and_bad_labels():
    import pytest

    shares = tour.class_share_pct([0, 0, 1, 2], ("a", "b", "c", "d"))
    assert shares == {"a": 50.0, "b": 25.0, "c": 25.0, "d": 0.0}
    with pytest.raises(ValueError, match="indices into 2 classes"):
        tour.class_share_pct([0, 2], ("a", "b"))


def test_tabular_sources_skip_missing_tables_with_notes(tmp_root, offline, capsys):
    table, figures, sources = tour.tabular_sources()
    assert table.empty and figures == {} and sources == {}
    err = capsys.readouterr().err
    for section in ("ImageNet testbed", "ImageNetV2 predictions", "CIFAR-10.1 predictions", "QMNIST metadata"):
        assert section in err
