"""Execute the chapter notebooks with papermill, in a profile, with checked parameters.

Sources are the Jupytext percent files ``notebooks/NN_name.py``; each is converted to a
notebook in memory, its ``parameters`` cell is read to validate ``-p KEY VALUE`` overrides
*before* any cell runs, and papermill executes it into ``_build/executed/<profile>/``.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliable_ml import settings
from reliable_ml.course import build_cache, results
from reliable_ml.course.results import PROJECT_ROOT
from reliable_ml.settings import PROFILES, check_profile
from reliable_ml.util.progress import ENV_HEADLESS

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
# The folder that holds `_build/` (executed notebooks, staged site, HTML): the project, unless
# $RELIABLE_ML_BUILD_ROOT names another one (CI builds the no-data book there, beside the data book).
ENV_BUILD_ROOT = "RELIABLE_ML_BUILD_ROOT"
BUILD_DIR = Path(os.environ.get(ENV_BUILD_ROOT) or PROJECT_ROOT).resolve() / "_build"


class NotebookFailed(RuntimeError):
    """A notebook raised in one of its cells."""

    def __init__(self, notebook: str, cell: int | None, ename: str, evalue: str, source: str = ""):
        self.notebook, self.cell, self.ename, self.evalue = notebook, cell, ename, evalue
        where = f"cell {cell} (counting from 1)" if cell is not None else "an unknown cell"
        first = source.strip().splitlines()[0] if source.strip() else ""
        super().__init__(
            f"notebook {notebook} failed in {where}" + (f" ({first[:80]!r})" if first else "") + f": {ename}: {evalue}"
        )


def discover(names: list[str] | None = None, folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Notebook sources to run: all ``NN_*.py`` in ``folder``, or those named.

    A name may be a stem (``00_data_tour``), a unique prefix (``00``), or a path to a
    ``.py``/``.ipynb`` file.
    """
    available = sorted(p for p in folder.glob("[0-9][0-9]_*.py"))
    if not names:
        return available
    chosen = []
    for name in names:
        path = Path(name)
        if path.suffix in (".py", ".ipynb") and path.exists():
            chosen.append(path.with_suffix(".py") if path.with_suffix(".py").exists() else path)
            continue
        matches = [p for p in available if p.stem == path.stem] or [
            p for p in available if p.stem.startswith(path.stem)
        ]
        if len(matches) != 1:
            stems = ", ".join(p.stem for p in available) or "(none)"
            what = "matches several" if matches else "matches no"
            raise ValueError(f"{name!r} {what} notebook in {folder}; available: {stems}")
        chosen.append(matches[0])
    return chosen


def read_notebook(path: Path):
    """Read a ``.py`` (Jupytext percent) or ``.ipynb`` file as an ``nbformat`` notebook."""
    import jupytext

    nb = jupytext.read(path)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    return nb


def _parameters_index(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))


def parameters_of(nb) -> dict[str, Any]:
    """Names and default values assigned in the cell tagged ``parameters``.

    Raises ``ValueError`` if there is no such cell, or a default is not a literal.
    """
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"expected exactly one code cell tagged 'parameters'; found {len(cells)}")
    defaults: dict[str, Any] = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        else:
            continue
        try:
            defaults[target] = ast.literal_eval(value)
        except ValueError as exc:
            raise ValueError(f"parameter {target!r} must have a literal default") from exc
    return defaults


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def coerce(name: str, raw: Any, default: Any) -> Any:
    """Convert a command-line string ``raw`` to the type of ``default``; raise ``ValueError``."""
    if not isinstance(raw, str):
        value = raw
    elif isinstance(default, bool):
        low = raw.strip().lower()
        if low not in _TRUE | _FALSE:
            raise ValueError(f"parameter {name!r} takes true/false; got {raw!r}")
        value = low in _TRUE
    elif isinstance(default, int):
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"parameter {name!r} takes an integer (default {default}); got {raw!r}") from None
    elif isinstance(default, float):
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"parameter {name!r} takes a number (default {default}); got {raw!r}") from None
    elif isinstance(default, str):
        value = raw
    else:
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            raise ValueError(f"parameter {name!r} takes a Python literal like {default!r}; got {raw!r}") from None
    if default is not None and not isinstance(default, bool) and isinstance(value, bool):
        raise ValueError(f"parameter {name!r} takes {type(default).__name__}; got {raw!r}")
    if isinstance(default, (int, float)) and not isinstance(default, bool) and not isinstance(value, (int, float)):
        raise ValueError(f"parameter {name!r} takes a number; got {raw!r}")
    if name == "profile":
        check_profile(value)
    return value


def resolve_parameters(nb_name: str, defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Validate ``overrides`` against a notebook's ``defaults``; return the checked values.

    Each name must be set in the parameters cell and each value take its default's type; where
    the chapter has a settings table, the row of the profile (``overrides["profile"]``, else the
    cell's) with these values must keep every field in its declared range
    (:func:`reliable_ml.settings.row`): e.g. ``-p seeds 0`` is refused here, before any cell runs."""
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for notebook {nb_name}; "
            f"its parameters cell sets: {', '.join(sorted(defaults))}"
        )
    checked = {k: coerce(k, v, defaults[k]) for k, v in overrides.items()}
    rows = settings.table(nb_name)
    profile = checked.get("profile", defaults.get("profile"))
    if rows is not None and profile in PROFILES:
        names = set(settings.values(nb_name, profile))
        settings.row(nb_name, profile, **{k: v for k, v in checked.items() if k in names})
    return checked


@dataclass
class Outcome:
    notebook: str
    output: Path
    seconds: float
    error: NotebookFailed | None = None
    cached: bool = False  # reused from an earlier execution with the same cache key


def _clean_metadata(nb, src: Path) -> None:
    """Keep absolute paths of the build machine out of the executed notebook's metadata."""
    meta = nb.metadata.get("papermill", {})
    meta["input_path"] = f"{src.parent.name}/{src.name}"
    meta["output_path"] = f"{src.stem}.ipynb"
    meta.pop("environment_variables", None)


def hide_injected_parameters(nb) -> int:
    """Tag papermill's ``injected-parameters`` cell ``remove-cell`` so the book does not show it.

    Returns how many cells were tagged."""
    count = 0
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
            count += 1
    return count


# The environment every kernel inherits: figures drawn inline even where the caller runs headless
# with Agg (CI does; an executed chapter without its figures would build a book without them), and
# the headless flag (no widget progress bars in outputs). Set while at least one kernel runs, and
# restored after the last one: notebooks may execute side by side (``run(jobs=2)``).
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", ENV_HEADLESS: "1"}
_env_lock = threading.Lock()
_env_users = 0
_env_saved: dict[str, str | None] = {}


@contextlib.contextmanager
def _kernel_env():
    global _env_users, _env_saved
    with _env_lock:
        if _env_users == 0:
            _env_saved = {k: os.environ.get(k) for k in KERNEL_ENV}
            os.environ.update(KERNEL_ENV)
        _env_users += 1
    try:
        yield
    finally:
        with _env_lock:
            _env_users -= 1
            if _env_users == 0:
                for key, value in _env_saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value


def execute(
    src: Path,
    profile: str,
    overrides: dict[str, Any] | None = None,
    out_dir: Path | None = None,
    progress: bool = True,
    timeout_s: int | None = None,
    cache: bool = False,
) -> Outcome:
    """Execute one notebook in ``profile``; return where it went, how long, and any failure.

    With ``cache=True`` the notebook is not executed again when its cache key (source, package
    modules it imports, data manifest, data root contents, profile, parameters: see :mod:`.build_cache`)
    equals the key stored next to an earlier, error-free execution in ``out_dir``.
    """
    import nbformat
    import papermill as pm

    check_profile(profile)
    out_dir = Path(out_dir or BUILD_DIR / "executed" / profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    nb = read_notebook(src)
    defaults = parameters_of(nb)
    table = settings.values(src.stem, profile)  # the chapter's row for this profile
    extra = sorted(set(table) - set(defaults))
    if extra:
        raise ValueError(
            f"settings table of {src.stem} has field(s) {extra} that its parameters cell "
            f"does not set; add them to the parameters cell"
        )
    params = resolve_parameters(src.stem, defaults, {**table, **(overrides or {}), "profile": profile})
    output = out_dir / f"{src.stem}.ipynb"
    cache_key = build_cache.cache_key(src, profile, params)
    if cache and not build_cache.changed(output, cache_key):
        return Outcome(src.stem, output, 0.0, cached=True)
    build_cache.forget(output)
    t0, started = time.perf_counter(), time.time()
    error = None
    try:
        with _kernel_env():
            # the kernel starts in the chapter's folder through nbclient's resources, not papermill's
            # cwd=, which chdirs this whole process: with chapters side by side (jobs > 1), one
            # thread's chdir moved another's kernel to the wrong folder
            pm.execute_notebook(
                nb,
                str(output),
                parameters=params,
                kernel_name="python3",
                progress_bar=progress,
                log_output=False,
                execution_timeout=timeout_s,
                resources={"metadata": {"path": str(src.parent.resolve())}},
            )
    except pm.PapermillExecutionError as exc:
        # papermill counts its injected-parameters cell; report the position in the source, from 1
        cell = exc.cell_index + 1 - (exc.cell_index > _parameters_index(nb))
        error = NotebookFailed(src.stem, cell, exc.ename, exc.evalue, exc.source)
    seconds = time.perf_counter() - t0
    if output.exists():
        done = nbformat.read(output, as_version=4)
        _clean_metadata(done, src)
        hide_injected_parameters(done)
        nbformat.write(done, output)
        if error is None:
            # the results file the run wrote gets every value it glued (the readable copies read them)
            results.record_glued(done, src.stem, profile, since=started)
            results.record_timings(done, src.stem, profile, since=started)  # seconds per section
            build_cache.store(output, cache_key)
    return Outcome(src.stem, output, seconds, error)


def _shown(path: Path) -> str:
    """``path`` relative to the project when inside it (no absolute machine path in logs)."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _report(outcome: Outcome, profile: str, header: bool) -> None:
    if header:
        print(f"==> {outcome.notebook} [{profile}]", flush=True)
    if outcome.cached:
        print(f"    {outcome.notebook}: unchanged (cache key matches): not executed again", flush=True)
        return
    status = "FAILED" if outcome.error else "ok"
    print(f"    {outcome.notebook}: {status} in {outcome.seconds:.1f} s -> {_shown(outcome.output)}", flush=True)
    if outcome.error:
        print(f"    {outcome.error}", flush=True)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def threads_per_job(jobs: int, cores: int | None) -> int:
    """Threads each of ``jobs`` side-by-side kernels gets so that together they fill, and do not
    oversubscribe, ``cores``: ``max(1, cores // jobs)`` (``cores`` unknown counts as 1).

    Two kernels of two OpenMP threads each on two cores spend their time waiting on each other;
    one thread each keeps both cores busy.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1; got {jobs!r}")
    return max(1, (cores or 1) // jobs)


@contextlib.contextmanager
def kernel_threads(jobs: int):
    """Set ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` for the kernels started inside, when ``jobs > 1``
    and the caller has not set them; the caller's environment comes back afterwards.

    A chapter whose settings ask for ``torch_threads=0`` then runs on the cores its job was given;
    one that names a number keeps it.
    """
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    if jobs > 1:
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, str(threads_per_job(jobs, os.cpu_count())))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def expected_seconds(stem: str, profile: str, roots: list[Path] | None = None) -> float | None:
    """What chapter ``stem`` took the last time it ran in ``profile``: the ``wall_seconds`` of its
    results file under the first of ``roots`` that has one (default: :func:`results.results_root`,
    then the project's committed ``results/``), else ``None``. A schedule hint, never a figure."""
    if roots is None:
        roots = [results.results_root(), PROJECT_ROOT / "results"]
    for root in roots:
        path = Path(root) / profile / f"{stem}.json"
        try:
            seconds = json.loads(path.read_text()).get("wall_seconds")
        except (OSError, ValueError, AttributeError):
            continue
        if _is_seconds(seconds):
            return float(seconds)
    return None


#: The chapter-cost benchmark (``benchmarks/chapters.py``): its cold books order a first build.
BENCH_CHAPTERS = PROJECT_ROOT / "results" / "bench" / "chapters.json"


def first_build_seconds(profile: str, record: Path = BENCH_CHAPTERS) -> dict[str, float]:
    """Each chapter's seconds in the measured book that matches this build, when this is a first
    build (a model cache that is missing or holds nothing but the data root, the default layout
    ``~/.cache/reliable_ml/data``): the cold book (``cold_book``) when the data root holds anything,
    the no-data book (``nodata_book``) when it does not (a fresh clone with network downloads the
    data instead, and is then ordered as the no-data book: a schedule hint, never a figure). ``{}``
    otherwise, or when the benchmark measured another profile, nothing, or a malformed record.
    Failed chapters are left out (their seconds are the time to the failure); a chapter the
    measured book had not finished when it stopped gets the book's wall seconds, a lower bound.
    Warm chapters cost what their last run cost (:func:`expected_seconds`); a cold one costs what
    training its models costs, which only a cold measurement knows (chapter 10 is short warm and
    among the longest cold)."""
    from reliable_ml.data.root import data_root
    from reliable_ml.util.cachedir import cache_dir

    cache, root = cache_dir(), data_root()
    if cache.is_dir() and any(entry.resolve() != root.resolve() for entry in cache.iterdir()):
        return {}
    key = "cold_book" if root.is_dir() and any(root.iterdir()) else "nodata_book"
    try:
        measured = json.loads(Path(record).read_text())
        book = measured[key]
        if book.get("profile", measured.get("profile")) != profile:
            return {}
        seconds = {
            row["stem"]: float(row["seconds"])
            for row in book["chapters"]
            if row.get("ok", True) is True and _is_seconds(row.get("seconds")) and isinstance(row.get("stem"), str)
        }
        if _is_seconds(book.get("wall_s")):
            unfinished = [stem for stem in book.get("unfinished") or [] if isinstance(stem, str)]
            seconds.update({stem: float(book["wall_s"]) for stem in unfinished})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return seconds


def _is_seconds(value: object) -> bool:
    """``value`` is a finite, non-negative number of seconds (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def longest_first(
    stems: list[str], profile: str, roots: list[Path] | None = None, first_build: dict[str, float] | None = None
) -> list[str]:
    """``stems`` in the order ``jobs`` > 1 starts them: longest expected first
    (longest-processing-time scheduling, within 4/3 of the shortest makespan on identical workers,
    Graham 1969), chapters with no record before all (they may be long), ties in book order. The
    expected cost is ``first_build[stem]`` (:func:`first_build_seconds`) if given, else
    :func:`expected_seconds`. Started in book order, the no-data book ended with chapter 11 running
    alone for its last 27 s (issue 33)."""
    first_build = first_build or {}
    hint = {stem: first_build.get(stem, expected_seconds(stem, profile, roots)) for stem in stems}
    return sorted(stems, key=lambda stem: (hint[stem] is not None, -(hint[stem] or 0.0)))


def run(
    names: list[str] | None,
    profile: str,
    overrides: dict[str, Any] | None = None,
    out_dir: Path | None = None,
    progress: bool = True,
    cache: bool = False,
    jobs: int = 1,
) -> list[Outcome]:
    """Validate every selected notebook's parameters, then execute them.

    With ``cache=True`` (``make book``), notebooks whose cache key is unchanged are reused.
    All parameter errors are raised before any notebook starts. Failures do not stop the
    remaining notebooks; the caller decides the exit status from the outcomes.

    ``jobs`` > 1 executes that many notebooks side by side (each in its own kernel; the model
    caches they share are written atomically, one temporary file per process), started longest
    first (:func:`longest_first`). Outcomes come back in notebook order either way; papermill's
    per-cell progress bar is off when ``jobs > 1``.
    """
    check_profile(profile)
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1; got {jobs!r}")
    sources = discover(names)
    if not sources:
        raise ValueError(f"no notebooks found in {NOTEBOOK_DIR}")
    for src in sources:  # fail fast, before any cell runs
        resolve_parameters(src.stem, parameters_of(read_notebook(src)), {**(overrides or {}), "profile": profile})
    if jobs == 1:
        outcomes = []
        for src in sources:
            print(f"==> {src.stem} [{profile}]", flush=True)
            outcomes.append(execute(src, profile, overrides, out_dir, progress, cache=cache))
            _report(outcomes[-1], profile, header=False)
        return outcomes
    print(f"==> {len(sources)} notebooks [{profile}], {jobs} at a time", flush=True)

    def one(src: Path) -> Outcome:
        outcome = execute(src, profile, overrides, out_dir, False, cache=cache)
        _report(outcome, profile, header=False)
        return outcome

    order = longest_first([src.stem for src in sources], profile, first_build=first_build_seconds(profile))
    rank = {stem: i for i, stem in enumerate(order)}
    with kernel_threads(jobs), ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {src: pool.submit(one, src) for src in sorted(sources, key=lambda src: rank[src.stem])}
        return [futures[src].result() for src in sources]


__all__ = [
    "PROFILES",
    "NotebookFailed",
    "Outcome",
    "coerce",
    "discover",
    "execute",
    "expected_seconds",
    "first_build_seconds",
    "longest_first",
    "parameters_of",
    "read_notebook",
    "resolve_parameters",
    "run",
    "threads_per_job",
]
