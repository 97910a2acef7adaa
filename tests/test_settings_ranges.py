"""Every settings field declares what it allows, and a value outside it is refused before any cell runs.

The case that motivated the ranges: ``python -m reliable_ml run 11 --profile smoke -p seeds 0``
used to fail inside cell 13 with ``IndexError: list index out of range``; it is now refused by
the runner's validation, naming the table, the field, the value and the allowed range.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from reliable_ml import settings
from reliable_ml.course import cli, runner
from reliable_ml.settings import SettingsError, between, choice, flag, text
from reliable_ml.settings.training import TrainConfig

TABLES = settings.tables()
ENTRY_POINTS = (
    "robust_cifar",
    "catastrophic_overfitting_cifar",
    "rst_cifar",
    "backdoor_cifar",
    "nonrobust_cifar",
    "spatial_cifar",
    "zoo",
)
PACKAGE = Path(settings.__file__).resolve().parents[1]


def row_classes() -> dict[type, object]:
    """Every dataclass a table row is made of (the rows' classes and the rows they hold, such as
    TrainConfig), each with one example row."""
    seen = {}
    todo = [row for rows in TABLES.values() for row in rows.values() if row is not None]
    while todo:
        row = todo.pop()
        seen.setdefault(type(row), row)
        todo += [
            getattr(row, f.name) for f in dataclasses.fields(row) if dataclasses.is_dataclass(getattr(row, f.name))
        ]
    return seen


ROW_CLASSES = row_classes()


def parameters(stem: str) -> dict:
    return runner.parameters_of(runner.read_notebook(runner.NOTEBOOK_DIR / f"{stem}.py"))


# ----------------------------------------------------------------------------- the tables


def test_every_table_is_found_and_every_profile_has_a_key():
    chapters = {settings.module_name(p.stem) for p in runner.discover() if settings.table(p.stem) is not None}
    shared_models = {"robust_model", "l2_robust_model"}  # tables of cached models that several chapters load
    assert chapters | set(ENTRY_POINTS) | shared_models == set(TABLES)
    for name, rows in TABLES.items():
        assert set(rows) == set(settings.PROFILES), name
        absent = [p for p, r in rows.items() if r is None]
        assert not absent or name in ENTRY_POINTS, f"chapter table {name} has no row for {absent}"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_row_is_in_range_and_the_cpu_row_exists_where_it_should(name):
    for profile, row in TABLES[name].items():
        if row is not None:
            assert settings.problems(row) == [], (name, profile)
    if name in ("rst_cifar", "catastrophic_overfitting_cifar"):  # GPU experiments with no cpu part
        assert TABLES[name]["cpu"] is None and settings.profiles(name) == ("smoke", "gpu")
    else:
        assert settings.problems(settings.row(name, "cpu")) == []


@pytest.mark.parametrize("cls", list(ROW_CLASSES), ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_field_declares_its_range(cls):
    """A new field cannot skip its range: it declares one, or holds a row that is checked itself."""
    assert issubclass(cls, settings.Row), f"{cls.__name__} is not a settings.Row: its rows are never checked"
    example = ROW_CLASSES[cls]
    undeclared = [
        f.name
        for f in dataclasses.fields(cls)
        if settings.allowed(f) is None and not isinstance(getattr(example, f.name), settings.Row)
    ]
    assert not undeclared, f"{cls.__module__}.{cls.__name__}: fields without a range or choices: {undeclared}"
    assert TrainConfig in ROW_CLASSES  # the nested rows are walked too


def test_a_field_without_a_range_is_caught():
    @dataclasses.dataclass(frozen=True)
    class Settings(settings.Row):
        n: int

    with pytest.raises(SettingsError, match="n declares no allowed range"):
        Settings(n=3)


def test_a_table_row_out_of_range_fails_when_it_is_built():
    """What importing a table with a slip does: the row is refused as it is built."""
    from reliable_ml.settings.spatial_and_physical_robustness import Settings

    good = dataclasses.asdict(TABLES["spatial_and_physical_robustness"]["cpu"])
    with pytest.raises(SettingsError, match=r"spatial_and_physical_robustness: seeds must be >= 1; got 0"):
        Settings(**{**good, "seeds": 0})


# ----------------------------------------------------------------------------- what a range allows


def test_ranges_choices_and_lists():
    @dataclasses.dataclass(frozen=True)
    class Settings(settings.Row):
        dataset: str = choice("digits", "mnist")
        eps: float = between(0, 1)
        n_eval: int = between(1, images="test")
        sizes: list = between(1, images="train")
        n_extra: int | None = between(0, optional=True, default=None)
        on: bool = flag(default=True)
        name: str = text(settings.ZOO_NAME, default="cnn-8-e2")

    ok = Settings(dataset="digits", eps=0.1, n_eval=450, sizes=[10, 1347])
    assert ok.n_extra is None and settings.problems(ok) == []
    bad = {"eps": -0.1, "n_eval": 0, "sizes": [], "n_extra": -1, "on": 1, "name": "CNN 8", "dataset": "fashion"}
    for field, value in bad.items():
        with pytest.raises(SettingsError, match=field):
            dataclasses.replace(ok, **{field: value})
    with pytest.raises(SettingsError, match=r"eps must be in \[0, 1\]; got True"):
        dataclasses.replace(ok, eps=True)  # a bool is no number
    with pytest.raises(SettingsError, match=r"eps must be in \[0, 1\]; got nan"):
        dataclasses.replace(ok, eps=float("nan"))
    # images of the row's dataset: digits holds 450 test and 1,347 training images, MNIST more
    with pytest.raises(SettingsError, match=r"n_eval must be <= 450 \(the test images of digits\); got 451"):
        dataclasses.replace(ok, n_eval=451)
    with pytest.raises(SettingsError, match=r"sizes must be <= 1,347 \(the train images of digits\)"):
        dataclasses.replace(ok, sizes=[10, 1348])
    assert settings.problems(dataclasses.replace(ok, dataset="mnist", n_eval=10_000, sizes=[60_000])) == []


def test_split_sizes_are_the_loaders():
    from reliable_ml import data

    for split, n in settings.SPLIT_SIZES["digits"].items():
        assert len(data.load_images("digits", split).y) == n
    assert settings.SPLIT_SIZES["mnist"] == {"train": 60_000, "test": 10_000}
    assert settings.SPLIT_SIZES["cifar10"] == {"train": 50_000, "test": 10_000}


def test_train_config_keeps_its_checks_and_its_defaults():
    cfg = TrainConfig()
    assert (cfg.epochs, cfg.method, cfg.eps, cfg.step_size, cfg.val_size) == (10, "pgd", 8 / 255, None, 512)
    with pytest.raises(SettingsError, match="TrainConfig: unknown optimizer 'lbfgs'; allowed: sgd, adam"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(SettingsError, match=r"momentum must be in \[0, 1\]; got 1.5"):
        TrainConfig(momentum=1.5)


# ----------------------------------------------------------------------------- row() and its overrides


def test_row_with_overrides_names_table_profile_field_value_and_range():
    assert settings.row("11_spatial_and_physical_robustness", "smoke", seeds=4).seeds == 4
    with pytest.raises(SettingsError) as err:
        settings.row("11_spatial_and_physical_robustness", "smoke", seeds=0, eot_eps=-0.2)
    message = str(err.value)
    assert message.startswith("settings spatial_and_physical_robustness [smoke]: ")
    assert "seeds must be >= 1; got 0" in message and "eot_eps must be in [0, 1]; got -0.2" in message
    assert err.value.problems == ["seeds must be >= 1; got 0", "eot_eps must be in [0, 1]; got -0.2"]


def test_entry_point_rows_and_overrides():
    with pytest.raises(ValueError, match=r"unknown profile 'cpu' for rst_cifar; allowed: smoke, gpu"):
        settings.row("rst_cifar", "cpu")
    with pytest.raises(
        SettingsError,
        match=r"backdoor_cifar \[smoke\]: parts must be a non-empty list, each value "
        r"one of badnets, clean_label, spectral, cue; got \(\)",
    ):
        settings.row("backdoor_cifar", "smoke", parts=())
    with pytest.raises(SettingsError, match=r"TrainConfig: epochs must be >= 1; got 0"):
        settings.row(
            "robust_cifar", "smoke", train=dataclasses.replace(TABLES["robust_cifar"]["smoke"].train, epochs=0)
        )


@pytest.mark.parametrize(
    "module, overrides, message",
    [
        ("spatial_cifar", {"seeds": 0}, r"spatial_cifar \[smoke\]: seeds must be >= 1; got 0"),
        ("nonrobust_cifar", {"n_test": 0}, r"nonrobust_cifar \[smoke\]: n_test must be in \[1, 10000\]; got 0"),
        ("rst_cifar", {"eps": -8 / 255}, r"rst_cifar \[smoke\]: eps must be in \[0, 1\]"),
        ("robust_cifar", {"n_eval": 20_000}, r"robust_cifar \[smoke\]: n_eval must be in \[1, 10000\]; got 20000"),
        ("backdoor_cifar", {"target": 10}, r"backdoor_cifar \[smoke\]: target must be in \[0, 9\]; got 10"),
    ],
)
def test_entry_points_refuse_overrides_before_loading_anything(module, overrides, message, monkeypatch):
    import importlib

    entry_point = importlib.import_module(f"reliable_ml.experiments.{module}")

    def no_data(*_, **__):
        raise AssertionError("loaded data before checking the settings")

    monkeypatch.setattr(entry_point, "load_cifar", no_data, raising=False)
    monkeypatch.setattr("reliable_ml.robust.image_task.load_cifar", no_data)
    with pytest.raises(SettingsError, match=message):
        entry_point.run("smoke", save=False, progress=False, **overrides)


# ----------------------------------------------------------------------------- the runner's -p overrides


@pytest.mark.parametrize(
    "stem, profile, overrides, message",
    [
        # the case of the issue: used to fail in cell 13 with IndexError
        (
            "11_spatial_and_physical_robustness",
            "smoke",
            {"seeds": "0"},
            r"spatial_and_physical_robustness \[smoke\]: seeds must be >= 1; got 0",
        ),
        (
            "04_adversarial_training",
            "cpu",
            {"eps": "-0.1"},
            r"adversarial_training \[cpu\]: eps must be in \[0, 1\]; got -0.1",
        ),
        ("11_spatial_and_physical_robustness", "cpu", {"n_eval": "0"}, r"n_eval must be >= 1; got 0"),
        (
            "04_adversarial_training",
            "smoke",
            {"n_curve": "900"},
            r"n_curve must be <= 450 \(the test images of digits\); got 900",
        ),
        (
            "10_nonrobust_features",
            "cpu",
            {"n_test": "20000"},
            r"n_test must be <= 10,000 \(the test images of mnist\); got 20000",
        ),
        (
            "06_robust_self_training",
            "smoke",
            {"dataset": "mnist", "n_eval": "20000"},
            r"n_eval must be <= 10,000 \(the test images of mnist\)",
        ),
        (
            "07_backdoors_and_spurious_correlations",
            "cpu",
            {"poison_fractions": "[0.0, 1.5]"},
            r"poison_fractions must be a non-empty list, each value in \[0, 1\]; got \[0.0, 1.5\]",
        ),
    ],
)
def test_runner_refuses_overrides_out_of_range(stem, profile, overrides, message):
    with pytest.raises(SettingsError, match=message):
        runner.resolve_parameters(stem, parameters(stem), {**overrides, "profile": profile})


def test_runner_checks_the_row_of_the_profile_it_runs():
    """2,000 test images are fine for MNIST (cpu) and too many for the digits of smoke."""
    stem = "04_adversarial_training"
    assert runner.resolve_parameters(stem, parameters(stem), {"n_curve": "2000", "profile": "cpu"})["n_curve"] == 2000
    with pytest.raises(SettingsError, match="digits"):
        runner.resolve_parameters(stem, parameters(stem), {"n_curve": "2000", "profile": "smoke"})
    # without a profile among the overrides, the parameters cell's (cpu) row is the one checked
    with pytest.raises(SettingsError, match=r"adversarial_training \[cpu\]: co_seeds must be >= 1"):
        runner.resolve_parameters(stem, parameters(stem), {"co_seeds": "0"})


def test_cli_refuses_before_any_notebook_runs(capsys, monkeypatch):
    monkeypatch.setattr(runner, "execute", lambda *a, **k: pytest.fail("a notebook was executed"))
    code = cli.main(["run", "11", "--profile", "smoke", "-p", "seeds", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert "spatial_and_physical_robustness [smoke]: seeds must be >= 1; got 0" in err


# ----------------------------------------------------------------------------- who imports whom


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in names if n.startswith("reliable_ml")}


def test_settings_import_nothing_of_the_package_but_settings():
    for path in sorted((PACKAGE / "settings").glob("*.py")):
        other = {n for n in imports_of(path) if not n.startswith("reliable_ml.settings")}
        assert not other, f"{path.name} imports {sorted(other)}: the settings import nothing of the science"


def test_nothing_outside_the_entry_points_imports_them_and_they_hold_no_settings():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "experiments":
            assert "SETTINGS =" not in path.read_text(), f"{rel}: settings live in reliable_ml.settings"
            continue
        bad = {n for n in imports_of(path) if n.startswith("reliable_ml.experiments")}
        assert not bad, f"{rel} imports {sorted(bad)}"


def test_zoo_names_in_the_tables_are_the_zoos():
    """Chapters 02 and 08 name the members of the zoos that reliable_ml.models.zoo trains (settings.zoos)."""
    from reliable_ml.models.zoo import zoo_names
    from reliable_ml.settings import effective_robustness as ch08
    from reliable_ml.settings import rebuilding_a_test_set as ch02

    assert ch02.CIFAR10_CPU_ZOO == list(zoo_names("cifar10-cpu"))
    assert ch02.CIFAR10_GPU_ZOO == list(zoo_names("cifar10-gpu"))
    assert ch02.MNIST_GPU_ZOO == list(zoo_names("mnist-gpu")) == ch08.TABLE["gpu"].zoo_members
