"""The papermill runner: parameter discovery and validation, failures, command line."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from reliable_ml.course import build_cache, cli, runner

TINY = """# %% tags=["parameters"]
profile = "cpu"
n = 3
scale = 0.5
flag = False
name = "x"
sizes = [1, 2]

# %%
print("n*scale =", n * scale, "flag =", flag, "sizes =", sizes)

# %%
1 / (n - 4)
"""


def notebook_with(source: str):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), cell, nbformat.v4.new_code_cell("print(1)")]
    return nb


def test_parameters_of_reads_literal_defaults():
    nb = notebook_with('profile = "cpu"  # comment\nn: int = 5\nlr = 1e-3\nnames = ("a", "b")')
    assert runner.parameters_of(nb) == {"profile": "cpu", "n": 5, "lr": 1e-3, "names": ("a", "b")}


def test_parameters_cell_is_required_and_literal():
    nb = notebook_with("x = 1")
    nb.cells[1].metadata["tags"] = []
    with pytest.raises(ValueError, match="tagged 'parameters'"):
        runner.parameters_of(nb)
    with pytest.raises(ValueError, match="literal default"):
        runner.parameters_of(notebook_with("x = some_function()"))


@pytest.mark.parametrize(
    "raw,default,expected",
    [
        ("5", 3, 5),
        ("2.5", 1.0, 2.5),
        ("4", 1.0, 4.0),
        ("yes", False, True),
        ("0", True, False),
        ("abc", "x", "abc"),
        ("[1, 2, 3]", [1], [1, 2, 3]),
        ("smoke", "cpu", "smoke"),
    ],
)
def test_coerce_to_default_type(raw, default, expected):
    name = "profile" if expected == "smoke" else "k"
    assert runner.coerce(name, raw, default) == expected


@pytest.mark.parametrize(
    "name,raw,default,match",
    [
        ("n", "three", 3, "integer"),
        ("lr", "fast", 0.1, "number"),
        ("flag", "maybe", False, "true/false"),
        ("profile", "huge", "cpu", "smoke, cpu, gpu"),
        ("sizes", "[1,", [1], "literal"),
    ],
)
def test_coerce_rejects_bad_values(name, raw, default, match):
    with pytest.raises(ValueError, match=match):
        runner.coerce(name, raw, default)


def test_unknown_parameter_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        runner.resolve_parameters("nb", {"profile": "cpu", "n": 1}, {"m": "2"})
    assert "'m'" in str(err.value) and "n, profile" in str(err.value)


def test_discover_by_stem_prefix_and_path():
    every = runner.discover()
    assert every and all(p.suffix == ".py" and p.stem[:2].isdigit() for p in every)
    assert runner.discover(["00"])[0].stem == "00_data_tour"
    assert runner.discover([str(runner.NOTEBOOK_DIR / "00_data_tour.ipynb")])[0].suffix == ".py"
    with pytest.raises(ValueError, match="available: 00_data_tour"):
        runner.discover(["99_nothing"])


def test_cli_rejects_bad_parameters_before_running(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", "00", "--profile", "smoke", "-p", "no_such_knob", "1", "--out", str(out)]) == 2
    assert "no_such_knob" in capsys.readouterr().err
    assert cli.main(["run", "00", "--profile", "smoke", "-p", "samples_per_class", "many", "--out", str(out)]) == 2
    assert "integer" in capsys.readouterr().err
    assert not out.exists(), "no notebook may start when a parameter is bad"


@pytest.mark.slow
def test_failing_cell_is_reported_and_overrides_applied(tmp_path, tmp_results, capsys):
    src = tmp_path / "91_tiny.py"
    src.write_text(TINY)
    code = cli.main(
        [
            "run",
            str(src),
            "--profile",
            "smoke",
            "-p",
            "n",
            "4",
            "-p",
            "flag",
            "true",
            "-p",
            "sizes",
            "[7]",
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "91_tiny failed in cell 3 (counting from 1)" in captured.err and "ZeroDivisionError" in captured.err
    executed = nbformat.read(tmp_path / "out" / "91_tiny.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "n*scale = 2.0 flag = True sizes = [7]" in printed
    meta = json.dumps(executed.metadata)
    assert str(tmp_path) not in meta, "executed notebooks carry no absolute paths"


# ----------------------------------------------------------------------------- build cache


@pytest.fixture
def cache_inputs(tmp_path):
    """A notebook source, a package folder (code, data, manifest) and a data root, all small."""
    src = tmp_path / "01_x.py"
    src.write_text(TINY + "\n# %%\nfrom pkg import stats\n")
    pkg = tmp_path / "pkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "stats.py").write_text("def mean(x):\n    return sum(x) / len(x)\n")
    (pkg / "data" / "manifest.json").write_text('{"mnist": "abc"}')
    (pkg / "tables.json").write_text('{"a": 1}')
    root = tmp_path / "data"
    root.mkdir()
    return src, pkg, root


def key_of(inputs, profile="smoke", parameters=None):
    src, pkg, root = inputs
    return build_cache.cache_key(
        src, profile, parameters or {"profile": profile, "n": 3}, package_dir=pkg, data_root=root
    )


def test_cache_hits_when_nothing_changed(cache_inputs, tmp_path):
    output = tmp_path / "executed" / "01_x.ipynb"
    assert build_cache.changed(output, key_of(cache_inputs)) == ["missing"]
    output.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), output)
    build_cache.store(output, key_of(cache_inputs))
    assert build_cache.key_path(output).name == "01_x.key.json"
    assert build_cache.changed(output, key_of(cache_inputs)) == []


@pytest.mark.parametrize(
    "change,part",
    [
        (lambda src, pkg, root: src.write_text(TINY + "\n# %%\nprint(2)\n"), "notebook"),
        (lambda src, pkg, root: (pkg / "stats.py").write_text("def mean(x):\n    return 0\n"), "modules"),
        (lambda src, pkg, root: (pkg / "tables.json").write_text('{"a": 2}'), "package_data"),
        (lambda src, pkg, root: (pkg / "data" / "manifest.json").write_text('{"mnist": "abd"}'), "manifest"),
        (
            lambda src, pkg, root: (
                (root / "MNIST" / "raw").mkdir(parents=True),
                (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"\0"),
            ),
            "data",
        ),
    ],
)
def test_each_input_invalidates_the_cache(cache_inputs, tmp_path, change, part):
    output = tmp_path / "01_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), output)
    build_cache.store(output, key_of(cache_inputs))
    change(*cache_inputs)
    assert part in build_cache.changed(output, key_of(cache_inputs))


def test_empty_dataset_folders_do_not_change_the_data_fingerprint(tmp_path):
    before = build_cache.data_fingerprint(tmp_path)
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)  # what a failed download leaves behind
    assert build_cache.data_fingerprint(tmp_path) == before
    (tmp_path / "MNIST" / "raw" / "x").write_bytes(b"1")
    assert build_cache.data_fingerprint(tmp_path) != before


def test_a_module_the_notebook_does_not_import_changes_nothing(cache_inputs, tmp_path):
    output = tmp_path / "01_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), output)
    build_cache.store(output, key_of(cache_inputs))
    (cache_inputs[1] / "new_module.py").write_text("x = 1\n")
    assert build_cache.changed(output, key_of(cache_inputs)) == []


def test_profile_and_parameters_invalidate_the_cache(cache_inputs, tmp_path):
    output = tmp_path / "01_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), output)
    build_cache.store(output, key_of(cache_inputs))
    assert "profile" in build_cache.changed(output, key_of(cache_inputs, profile="cpu"))
    assert build_cache.changed(output, key_of(cache_inputs, parameters={"profile": "smoke", "n": 4})) == ["parameters"]


def test_pycache_does_not_change_the_package_hash(cache_inputs):
    _, pkg, _ = cache_inputs
    before = build_cache.package_hash(pkg)
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "stats.cpython-311.pyc").write_bytes(b"\0\1")
    assert build_cache.package_hash(pkg) == before


def test_a_notebook_with_an_error_is_never_a_cache_hit(cache_inputs, tmp_path):
    output = tmp_path / "01_x.ipynb"
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1/0")
    cell.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="x", traceback=[])]
    nb.cells = [cell]
    nbformat.write(nb, output)
    build_cache.store(output, key_of(cache_inputs))
    assert build_cache.changed(output, key_of(cache_inputs)) == ["error"]


def test_real_package_hash_covers_the_data_manifest():
    names = {p.relative_to(build_cache.PACKAGE_DIR).as_posix() for p in build_cache.package_files()}
    assert "data/manifest.json" in names and "course/runner.py" in names and "settings/__init__.py" in names


@pytest.mark.slow
def test_runner_reuses_an_unchanged_notebook_and_reruns_a_changed_one(tmp_path, tmp_results, tmp_root):
    src = tmp_path / "92_tiny.py"
    src.write_text(TINY.replace("1 / (n - 4)", "n + 1"))
    out = tmp_path / "out"
    first = runner.execute(src, "smoke", out_dir=out, progress=False, cache=True)
    assert first.error is None and not first.cached
    assert build_cache.key_path(first.output).exists()
    again = runner.execute(src, "smoke", out_dir=out, progress=False, cache=True)
    assert again.cached and again.seconds == 0.0
    forced = runner.execute(src, "smoke", {"n": "5"}, out_dir=out, progress=False, cache=True)
    assert not forced.cached, "other parameters: executed again"
    executed = nbformat.read(forced.output, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "remove-cell" in injected[0].metadata["tags"], "the book must not show papermill's cell"


def test_requirements_change_the_environment_hash(tmp_path):
    (tmp_path / "requirements.txt").write_text("torch==2.14.1\n")
    before = build_cache.environment_hash(tmp_path)
    assert build_cache.environment_hash(tmp_path) == before
    (tmp_path / "requirements.txt").write_text("torch==2.15.0\n")
    assert build_cache.environment_hash(tmp_path) != before


@pytest.mark.parametrize(("jobs", "cores", "threads"), [(1, 2, 2), (2, 2, 1), (2, 16, 8), (3, 2, 1), (2, None, 1)])
def test_threads_per_job_fill_the_cores_without_oversubscribing(jobs, cores, threads):
    assert runner.threads_per_job(jobs, cores) == threads


def test_threads_per_job_rejects_a_bad_job_count():
    with pytest.raises(ValueError, match="jobs must be a whole number >= 1; got 0"):
        runner.threads_per_job(0, 2)


@pytest.mark.slow
def test_side_by_side_run_keeps_order_reports_failures_and_restores_the_environment(tmp_path, tmp_results, monkeypatch):
    folder = tmp_path / "nbs"
    folder.mkdir()
    (folder / "93_ok.py").write_text(
        TINY.replace("1 / (n - 4)", "import os\nprint(os.environ['MPLBACKEND'])\nprint('cwd', os.getcwd())")
    )
    (folder / "94_fails.py").write_text(TINY.replace("1 / (n - 4)", "1 / 0"))
    (folder / "95_ok.py").write_text(
        TINY.replace("1 / (n - 4)", "import os\nprint('omp', os.environ['OMP_NUM_THREADS'])")
    )
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    names = [str(folder / f) for f in ("93_ok.py", "94_fails.py", "95_ok.py")]
    outcomes = runner.run(names, "smoke", out_dir=tmp_path / "out", progress=False, jobs=2)
    assert [o.notebook for o in outcomes] == ["93_ok", "94_fails", "95_ok"]
    assert [o.error is None for o in outcomes] == [True, False, True]
    assert "ZeroDivisionError" in str(outcomes[1].error)
    printed = "".join(
        o.get("text", "") for c in nbformat.read(outcomes[0].output, as_version=4).cells for o in c.get("outputs", [])
    )
    assert "matplotlib_inline" in printed, "kernels draw inline while they run"
    assert f"cwd {folder.resolve()}" in printed, "each kernel starts in its notebook's folder"

    printed_95 = "".join(
        o.get("text", "") for c in nbformat.read(outcomes[2].output, as_version=4).cells for o in c.get("outputs", [])
    )
    assert "omp 1" in printed_95, "two kernels on two cores get one thread each"
    assert os.environ["MPLBACKEND"] == "Agg", "the caller's environment comes back after the last kernel"
    assert "OMP_NUM_THREADS" not in os.environ, "the thread setting is the runner's, not left behind"
    with pytest.raises(ValueError, match="jobs must be a whole number >= 1; got 0"):
        runner.run(names, "smoke", jobs=0)


def _record(root, profile, stem, seconds):
    (root / profile).mkdir(parents=True, exist_ok=True)
    (root / profile / f"{stem}.json").write_text(json.dumps({"wall_seconds": seconds}))


def test_expected_seconds_reads_the_first_root_with_a_record(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _record(b, "cpu", "04_x", 71.0)
    assert runner.expected_seconds("04_x", "cpu", [a, b]) == 71.0
    _record(a, "cpu", "04_x", 12.5)
    assert runner.expected_seconds("04_x", "cpu", [a, b]) == 12.5
    assert runner.expected_seconds("04_x", "smoke", [a, b]) is None
    (a / "cpu" / "05_y.json").write_text("not json")
    _record(a, "cpu", "06_z", float("nan"))
    assert runner.expected_seconds("05_y", "cpu", [a]) is None and runner.expected_seconds("06_z", "cpu", [a]) is None


def test_longest_first_puts_unknown_then_long_chapters_first(tmp_path):
    for stem, seconds in {"00_a": 14, "04_b": 71, "05_c": 37, "11_d": 62, "03_e": 37}.items():
        _record(tmp_path, "cpu", stem, seconds)
    stems = ["00_a", "03_e", "04_b", "05_c", "09_new", "11_d"]
    assert runner.longest_first(stems, "cpu", [tmp_path]) == ["09_new", "04_b", "11_d", "03_e", "05_c", "00_a"]
    # two workers: longest first ends sooner than book order on these costs (71 + 14 vs 62 + 37 + ...)
    cost = {"00_a": 14, "03_e": 37, "04_b": 71, "05_c": 37, "11_d": 62}

    def makespan(order):
        free = [0.0, 0.0]
        for stem in order:
            free[free.index(min(free))] += cost[stem]
        return max(free)

    known = [s for s in stems if s != "09_new"]
    assert makespan(runner.longest_first(known, "cpu", [tmp_path])) < makespan(known)


def test_first_build_seconds_reads_the_matching_cold_book_only_for_an_empty_cache(tmp_path, monkeypatch):
    bench = tmp_path / "chapters.json"
    book = lambda s: {"profile": "cpu", "chapters": [{"stem": "10_x", "ok": True, "seconds": s}]}  # noqa: E731
    bench.write_text(json.dumps({"profile": "cpu", "cold_book": book(900.0), "nodata_book": book(40.0)}))
    cache, data = tmp_path / "cache", tmp_path / "data"
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(cache))
    monkeypatch.setenv("RELIABLE_ML_DATA", str(data))
    assert runner.first_build_seconds("cpu", bench) == {"10_x": 40.0}, "no cache, no data: the no-data book"
    (data / "MNIST").mkdir(parents=True)
    assert runner.first_build_seconds("cpu", bench) == {"10_x": 900.0}, "no cache, data: the cold book"
    assert runner.first_build_seconds("smoke", bench) == {}, "another profile's measurement is not used"
    (cache / "robust_model").mkdir(parents=True)
    assert runner.first_build_seconds("cpu", bench) == {}, "a filled cache: the last runs' costs"
    assert runner.first_build_seconds("cpu", tmp_path / "missing.json") == {}


def test_first_build_seconds_default_layout_failures_unfinished_and_bad_records(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(cache))
    monkeypatch.delenv("RELIABLE_ML_DATA", raising=False)  # the default data root: $cache/data
    (cache / "data" / "MNIST").mkdir(parents=True)
    rows = [
        {"stem": "04_a", "ok": True, "seconds": 3000.0},
        {"stem": "05_b", "ok": False, "seconds": 2.0},  # failed: its seconds are the time to the failure
        {"stem": "06_c", "ok": True, "seconds": float("nan")},
        {"stem": "07_d", "ok": True, "seconds": True},
    ]
    bench = tmp_path / "chapters.json"
    book = {"profile": "cpu", "chapters": rows, "unfinished": ["11_e"], "wall_s": 5400.0}
    bench.write_text(json.dumps({"cold_book": book}))
    assert runner.first_build_seconds("cpu", bench) == {"04_a": 3000.0, "11_e": 5400.0}, "a cache holding only data"
    no_rows, no_list = {"cold_book": {"profile": "cpu", "chapters": None}}, {"cold_book": {"profile": "cpu"}}
    for bad in ([], {"cold_book": []}, no_rows, no_list):
        bench.write_text(json.dumps(bad))
        assert runner.first_build_seconds("cpu", bench) == {}, bad
    (cache / "zoo").mkdir()
    bench.write_text(json.dumps({"cold_book": book}))
    assert runner.first_build_seconds("cpu", bench) == {}, "a model in the cache: not a first build"


def test_a_first_build_starts_the_longest_cold_chapter_first(tmp_path):
    _record(tmp_path, "cpu", "04_a", 50.0)
    _record(tmp_path, "cpu", "10_b", 21.0)
    _record(tmp_path, "cpu", "09_c", 48.0)
    warm = runner.longest_first(["04_a", "09_c", "10_b"], "cpu", [tmp_path])
    cold = runner.longest_first(["04_a", "09_c", "10_b"], "cpu", [tmp_path], first_build={"10_b": 1600.0, "09_c": 35.0})
    assert warm == ["04_a", "09_c", "10_b"] and cold == ["10_b", "04_a", "09_c"]
