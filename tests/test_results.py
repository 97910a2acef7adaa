"""Results files: content, provenance keys, JSON conversion, atomic writes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from reliable_ml.course import results


def test_save_writes_figures_and_provenance(tmp_results):
    path = results.save(
        "notebooks/01_demo.py",
        "smoke",
        {"acc": np.float32(0.5), "curve": {1: 2.0}},
        data_source="MNIST",
        wall_seconds=1.234,
        device="cpu (2 threads)",
    )
    assert path == tmp_results / "smoke" / "01_demo.json"
    record = json.loads(path.read_text())
    assert record["acc"] == 0.5 and record["curve"] == {"1": 2.0}
    for key in ("notebook", "profile", "data_source", "device", "torch_version", "wall_seconds", "commit", "created"):
        assert key in record
    assert record["notebook"] == "01_demo" and record["profile"] == "smoke"
    assert record["torch_version"] == torch.__version__ and record["wall_seconds"] == 1.23
    assert not list(path.parent.glob("*.part"))
    assert results.load("01_demo", "smoke")["acc"] == 0.5


def test_reserved_names_and_missing_source_rejected(tmp_results):
    with pytest.raises(ValueError, match="reserved"):
        results.save("x", "cpu", {"device": 1}, data_source="MNIST", wall_seconds=0, device="cpu")
    with pytest.raises(ValueError, match="data_source"):
        results.save("x", "cpu", {"a": 1}, data_source="", wall_seconds=0, device="cpu")
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        results.save("x", "fast", {"a": 1}, data_source="MNIST", wall_seconds=0, device="cpu")


def test_to_jsonable_converts_arrays_tensors_and_nan():
    out = results.to_jsonable(
        {"t": torch.tensor([1.5, 2.0]), "a": np.arange(3), "nan": math.nan, "tuple": (np.int64(1), np.bool_(True))}
    )
    assert out == {"t": [1.5, 2.0], "a": [0, 1, 2], "nan": None, "tuple": [1, True]}
    with pytest.raises(TypeError, match="cannot store"):
        results.to_jsonable({"bad": object()})


def test_load_missing_says_how_to_produce(tmp_results):
    with pytest.raises(FileNotFoundError, match="python -m reliable_ml run 07_x --profile cpu"):
        results.load("07_x", "cpu")


def test_load_all_reads_every_profile(tmp_results):
    for profile in ("cpu", "gpu"):
        results.save("05_a", profile, {"v": 1}, data_source="MNIST", wall_seconds=0, device="cpu")
    assert sorted(r["profile"] for r in results.load_all()) == ["cpu", "gpu"]


def test_a_broken_results_file_is_named(tmp_results):
    (tmp_results / "cpu").mkdir(parents=True)
    (tmp_results / "cpu" / "03_x.json").write_text('{"notebook": "03_x", ')
    with pytest.raises(ValueError, match="03_x.json is not valid JSON"):
        results.load_all()
    (tmp_results / "cpu" / "03_x.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="holds a list, expected an object"):
        results.load("03_x", "cpu")


def test_run_outputs_do_not_make_the_commit_dirty(tmp_path, monkeypatch):
    import subprocess

    repo = tmp_path / "repo"
    (repo / "results" / "cpu").mkdir(parents=True)
    (repo / "src").mkdir()
    (repo / "results" / "cpu" / "00_x.json").write_text("{}")
    (repo / "src" / "code.py").write_text("x = 1\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    monkeypatch.setattr(results, "PROJECT_ROOT", repo)
    clean = results.git_commit()
    assert clean != "unknown" and not clean.endswith("-dirty")
    (repo / "results" / "cpu" / "00_x.json").write_text('{"a": 1}')  # an earlier chapter's results
    assert results.git_commit() == clean
    (repo / "src" / "code.py").write_text("x = 2\n")
    assert results.git_commit() == clean + "-dirty"
