"""The result cache: computed once, reused only while settings, data and code are unchanged."""

import types

import pytest
import torch

from reliable_ml.util import cachestats, result_cache

pytestmark = pytest.mark.usefixtures("cache_root")  # tests/conftest.py: an empty cache per test


def counting(value):
    calls = []

    def build():
        calls.append(1)
        return value

    return build, calls


def test_second_call_is_served_from_the_cache():
    value = {"acc": 0.5, "correct": torch.tensor([True, False, True])}
    build, calls = counting(value)
    x = torch.arange(12.0).reshape(3, 4)
    first = result_cache.cached("demo", {"eps": 0.3}, build, tensors=[x])
    second = result_cache.cached("demo", {"eps": 0.3}, build, tensors=[x.clone()])
    assert len(calls) == 1
    assert second["acc"] == first["acc"] and torch.equal(second["correct"], value["correct"])
    assert cachestats.summary()["by_cache"]["demo"] == {"hits": 1, "misses": 1}


@pytest.mark.parametrize(
    "change",
    [
        lambda s, t: ({"eps": 0.31}, t),  # a setting
        lambda s, t: (s, [t[0] + 1e-6]),  # one pixel value
        lambda s, t: (s, [t[0].double()]),  # the dtype, same values
        lambda s, t: (s, [t[0].reshape(4, 3)]),  # the shape, same bytes
    ],
)
def test_any_change_of_settings_or_data_recomputes(change):
    build, calls = counting(1.0)
    settings, tensors = {"eps": 0.3}, [torch.linspace(0, 1, 12).reshape(3, 4)]
    result_cache.cached("demo", settings, build, tensors=tensors)
    new_settings, new_tensors = change(settings, tensors)
    result_cache.cached("demo", new_settings, build, tensors=new_tensors)
    assert len(calls) == 2


def test_the_key_holds_the_code_that_computes(tmp_path, monkeypatch):
    import importlib
    import sys

    module = tmp_path / "fake_train.py"
    module.write_text("STEP = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = importlib.import_module("fake_train")
    before = result_cache.fingerprint({}, code=[fake])
    module.write_text("STEP = 2\n")  # an edit to the training code
    assert result_cache.fingerprint({}, code=[importlib.reload(fake)]) != before
    sys.modules.pop("fake_train")


def test_a_module_without_source_cannot_be_keyed():
    with pytest.raises((OSError, TypeError)):
        result_cache.fingerprint({}, code=[types.ModuleType("no_source")])


def test_a_damaged_entry_is_recomputed_with_a_warning(cache_root):
    build, calls = counting([1, 2, 3])
    result_cache.cached("demo", {"k": 1}, build)
    (entry,) = (cache_root / "demo").glob("*.pt")
    entry.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="could not be read"):
        assert result_cache.cached("demo", {"k": 1}, build) == [1, 2, 3]
    assert len(calls) == 2
    assert result_cache.cached("demo", {"k": 1}, build) == [1, 2, 3]  # rewritten, now readable
    assert len(calls) == 2


def test_disabled_always_builds_and_saves_nothing(cache_root):
    build, calls = counting(7)
    for _ in range(2):
        assert result_cache.cached("demo", {}, build, enabled=False) == 7
    assert len(calls) == 2 and not (cache_root / "demo").exists()


def test_a_failed_build_leaves_no_entry(cache_root):
    def boom():
        raise RuntimeError("training diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        result_cache.cached("demo", {}, boom)
    assert not list((cache_root / "demo").glob("*.pt"))


def test_bad_input_names_the_value():
    with pytest.raises(ValueError, match="kind"):
        result_cache.cached("../escape", {}, lambda: 1)
    with pytest.raises(TypeError, match="JSON"):
        result_cache.fingerprint({"f": object()})
    with pytest.raises(TypeError, match="torch.Tensor"):
        result_cache.fingerprint({}, tensors=[[1, 2]])


def test_cached_arrays_round_trips_numpy_draws_and_a_change_redraws():
    import numpy as np

    calls = []

    def draws(seed):
        def build():
            calls.append(1)
            rng = np.random.default_rng(seed)
            return {"a": rng.normal(size=(5, 3)), "nested": {"k": rng.integers(0, 9, 4)}}

        return build

    x = np.linspace(0, 1, 7)
    x.setflags(write=False)  # a read-only input (a pandas column's values) is keyed like any other
    cold = result_cache.cached_arrays("demo_arrays", {"seed": 1}, draws(1), [x])
    warm = result_cache.cached_arrays("demo_arrays", {"seed": 1}, draws(1), [x.copy()])
    assert len(calls) == 1
    assert np.array_equal(warm["a"], cold["a"]) and warm["a"].dtype == cold["a"].dtype == np.float64
    assert np.array_equal(warm["nested"]["k"], cold["nested"]["k"]) and warm["nested"]["k"].dtype == np.int64
    assert np.array_equal(cold["a"], draws(1)()["a"])  # the value is what build returned
    result_cache.cached_arrays("demo_arrays", {"seed": 2}, draws(2), [x])  # a setting
    result_cache.cached_arrays("demo_arrays", {"seed": 1}, draws(1), [x + 1e-9])  # an input
    result_cache.cached_arrays("demo_arrays", {"seed": 1}, draws(1), [x], enabled=False)
    assert len(calls) == 5
