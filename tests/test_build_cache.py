"""Cache keys follow each chapter's imports: a helper change re-runs the chapters that use it,
and never fewer (reliable_ml.course.build_cache)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reliable_ml.course import build_cache, runner
from reliable_ml.course.results import PROJECT_ROOT


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def pkg(tmp_path):
    """A small package ``pkg`` with every import form the graph must follow."""
    p = tmp_path / "pkg"
    write(p / "__init__.py", "from .env import seed\n")
    write(p / "env.py", "def seed():\n    return 0\n")
    write(p / "leaf.py", "X = 1\n")
    write(p / "lazy.py", "def f():\n    from . import leaf2\n    return leaf2.Y\n")  # import inside a function
    write(p / "leaf2.py", "Y = 2\n")
    write(p / "mid.py", "from pkg.deep import inner\n")
    write(p / "deep" / "__init__.py", "")
    write(p / "deep" / "inner.py", "from ..leaf import X\n")  # two-level relative import
    write(p / "unrelated.py", "Z = 3\n")
    write(
        p / "settings" / "__init__.py",
        "import importlib\n\ndef table(name):\n    return importlib.import_module(f'{__name__}.{name}')\n",
    )
    write(p / "settings" / "alpha.py", "ROW = 1\n")
    write(p / "settings" / "beta.py", "ROW = 2\n")
    write(p / "course" / "__init__.py", "")
    write(p / "course" / "runner.py", "from .. import settings\n")
    write(p / "course" / "build_cache.py", "")
    return p


def names(mods):
    return {m.removeprefix("pkg.") if m != "pkg" else "pkg" for m in mods}


def test_graph_follows_relative_lazy_and_nested_imports(pkg, tmp_path):
    a = write(tmp_path / "01_alpha.py", "# %%\nimport pkg.mid\n# %%\ndef go():\n    from pkg import lazy\n")
    got = names(build_cache.chapter_modules(a, pkg))
    assert {"pkg", "env", "mid", "deep", "deep.inner", "leaf", "lazy", "leaf2"} <= got
    assert {"settings.alpha", "course.runner", "course.build_cache", "settings"} <= got
    assert "unrelated" not in got and "settings.beta" not in got


def test_unresolvable_import_includes_more_never_fewer(pkg, tmp_path):
    a = write(tmp_path / "01_alpha.py", "from pkg.deep import missing_module\n")
    assert {"deep", "deep.inner"} <= names(build_cache.chapter_modules(a, pkg))
    write(pkg / "leaf.py", "import importlib\nmod = importlib.import_module('pkg.' + 'unrelated')\n")
    b = write(tmp_path / "02_beta.py", "from pkg import leaf\n")
    assert names(build_cache.chapter_modules(b, pkg)) >= names(build_cache.modules_of(pkg)), (
        "a computed dynamic import: every module"
    )
    write(pkg / "leaf.py", "from pkg.deep import (\n  inner as\n)\n")  # an import line that does not parse
    got = names(build_cache.chapter_modules(b, pkg))
    assert {"deep", "deep.inner"} <= got and "unrelated" not in got


def test_star_import_of_a_package_includes_its_submodules(pkg, tmp_path):
    a = write(tmp_path / "01_alpha.py", "from pkg.deep import *\n")
    assert {"deep", "deep.inner", "leaf"} <= names(build_cache.chapter_modules(a, pkg))


# ----------------------------------------------------------------------------- the real package


@pytest.fixture
def real(tmp_path):
    """A copy of the real package and chapter sources, keys of every chapter before a change."""
    pkg = tmp_path / "src" / "reliable_ml"
    shutil.copytree(build_cache.PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    chapters = [shutil.copy(src, tmp_path / src.name) for src in runner.discover()]
    chapters = [Path(c) for c in chapters]
    root = tmp_path / "data"
    root.mkdir()

    def keys():
        return {
            c.stem: build_cache.cache_key(c, "cpu", {"profile": "cpu"}, package_dir=pkg, data_root=root)
            for c in chapters
        }

    return pkg, chapters, keys


def rerun(before, after):
    return sorted(stem for stem in before if before[stem] != after[stem])


def users(module: str) -> list[str]:
    return sorted(src.stem for src in runner.discover() if module in build_cache.chapter_modules(src))


def touch(path: Path):
    path.write_text(path.read_text() + "\n# touched\n")


def test_a_leaf_helper_changes_only_the_chapters_that_use_it(real):
    pkg, chapters, keys = real
    leaf = next(
        m
        for m in ("reliable_ml.labels.humans", "reliable_ml.data.tour", "reliable_ml.robust.nonrobust")
        if len(users(m)) == 1
    )
    before = keys()
    touch(pkg / (leaf.removeprefix("reliable_ml.").replace(".", "/") + ".py"))
    assert rerun(before, keys()) == users(leaf) and len(users(leaf)) == 1


def test_a_module_reached_through_another_changes_every_chapter_that_reaches_it(real):
    pkg, chapters, keys = real
    # stats is imported by chapters directly and by other helpers; every chapter reaching it re-runs
    reached = users("reliable_ml.stats")
    direct = [c.stem for c in chapters if "import" in c.read_text() and "stats" in c.read_text()]
    assert set(reached) - set(direct) or len(reached) > 1
    before = keys()
    touch(pkg / "stats.py")
    assert rerun(before, keys()) == reached


def test_an_unrelated_module_changes_no_key(real):
    pkg, chapters, keys = real
    before = keys()
    touch(pkg / "course" / "scorecard" / "judge.py")  # the book build reads it; no chapter runs it
    write(pkg / "brand_new_helper.py", "X = 1\n")
    assert rerun(before, keys()) == []


@pytest.mark.parametrize(
    "module", ["util/notes.py", "util/env.py", "__init__.py", "course/runner.py", "data/manifest.json"]
)
def test_modules_every_chapter_runs_change_every_key(real, module):
    pkg, chapters, keys = real
    before = keys()
    touch(pkg / module) if module.endswith(".py") else (pkg / module).write_text(
        (pkg / module).read_text() + "\n"
    )  # still valid JSON, other bytes
    assert rerun(before, keys()) == sorted(c.stem for c in chapters)


def test_a_chapter_settings_module_changes_only_that_chapter(real):
    pkg, chapters, keys = real
    module = "reliable_ml.settings.data_tour"
    before = keys()
    touch(pkg / "settings" / "data_tour.py")
    assert rerun(before, keys()) == users(module) == ["00_data_tour"]


def test_every_chapter_reaches_the_helpers_it_names():
    """Cross-check with the README's chapter table: the helpers each chapter lists are in its key."""
    import re

    table = {
        m.group(1): re.findall(r"`([a-z_.]+)`", m.group(2))
        for m in re.finditer(r"^\| `(\d\d_\w+)` \|[^|]*\|(.*)\|$", (PROJECT_ROOT / "README.md").read_text(), re.M)
    }
    assert table
    for src in runner.discover():
        mods = build_cache.chapter_modules(src)
        for helper in table.get(src.stem, []):
            assert f"reliable_ml.{helper}" in mods, f"{src.stem} lists {helper} but its key misses it"
