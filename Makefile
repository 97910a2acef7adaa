# Two commands do all set-up on a fresh machine:
#   make book   -> .venv, install, execute every notebook (cpu profile), build the HTML book
#   make test   -> .venv, install, run the test suite
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
# Chapters executed side by side by `make book` (each in its own kernel; shared models are built once).
JOBS ?= 1
STAMP := $(VENV)/.installed
# The repository the book is published from, set here only: `make book REPO_URL=https://github.com/OWNER/NAME`.
# It becomes the book's repository link and its Binder/Colab launch buttons; unset, the book has none.
REPO_URL ?= $(RELIABLE_ML_REPO_URL)
# Notebook to open with `make lab`: a readable copy under lab/ (its prose shows the cpu run's
# numbers; notebooks/NN_name.ipynb is the book's MyST source).
NOTEBOOK ?= lab/03_humans_vs_models.ipynb

.PHONY: install book test test-fast lint bench clean sync lab readable install-cells

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the pins or the package metadata change.
$(STAMP): requirements.txt requirements-nodeps.txt requirements-lint.txt requirements-actionlint.txt pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PY) -m pip install -q -r requirements.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PY) -m pip install -q --no-deps -e . 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PY) -m pip install -q -r requirements-lint.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PY) -m pip install -q -r requirements-actionlint.txt >/dev/null 2>&1 \
	  || echo "warning: could not install requirements-actionlint.txt: the workflow lint test will be skipped"
	touch $(STAMP)

install: $(STAMP)

# Re-executes only the notebooks whose cache key changed (see src/reliable_ml/course/build_cache.py).
book: $(STAMP)
	RELIABLE_ML_REPO_URL="$(REPO_URL)" $(PY) -m reliable_ml book --profile $(PROFILE) --jobs $(JOBS) \
	  $(if $(ALLOW_PROSE_FINDINGS),--allow-prose-findings)

test: $(STAMP)
	$(PY) -m pytest

# The tests that execute no notebook and build no book (README: how long it takes).
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

# The lint lane, run first by CI; it rewrites nothing. Style and import order (ruff, configured in
# pyproject.toml), types of the course machinery (mypy), the notebook pairs (notebooks/NN_name.py
# against its .ipynb: `make sync` fixes them) and the readable copies in lab/ (`make readable`).
# .pre-commit-config.yaml runs the same checks before a commit (`.venv/bin/pre-commit install`).
lint: $(STAMP)
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy src/reliable_ml/course/
	$(PY) -m reliable_ml.course.pairing
	$(PY) -m reliable_ml readable --check

# Speed and memory targets (not part of the timed test suite).
bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b; done

# JupyterLab with a live kernel (the labeling app and the other widgets need one).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(NOTEBOOK)

# Rewrite the readable copies lab/NN_name.ipynb from the chapters and results/cpu (`make book` does it too).
readable: $(STAMP)
	$(PY) -m reliable_ml readable --profile cpu

# Make the Colab install cell (reliable_ml.course.book.INSTALL_CELL) the first cell of every notebook.
# With REPO_URL=..., also write the repository into it (then commit: Colab opens the committed copy).
install-cells: $(STAMP)
	$(PY) -c "import pathlib; from reliable_ml.course.book import add_install_cell; \
	[print('updated', p) for p in sorted(pathlib.Path('notebooks').glob('[0-9][0-9]_*.py')) \
	 if add_install_cell(p, '$(REPO_URL)' or None)]"
	$(VENV)/bin/jupytext --sync notebooks/[0-9][0-9]_*.py
	$(PY) -m reliable_ml readable --profile cpu

# Re-pair every notebook after editing its .py source.
sync: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/[0-9][0-9]_*.py

clean:
	rm -rf _build
