# Lettre de l'Observatoire national des violences faites aux femmes: build and test commands.
# `make help` lists them. Every target creates and fills .venv itself when needed.

PYTHON_BASE ?= python3.11
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
YEAR        ?=
THEME       ?= annual
FORCE       ?=
OLD         ?=
SET         ?=
SCHEDULER   ?=
NEW         ?=
export PYTHONHASHSEED := 0
# User variables reach the recipes through the environment and are quoted there ("$$YEAR"): a value is one
# argument of the command line, never shell code (YEAR='2024; rm -rf x' is refused by the CLI as a bad year).
export YEAR THEME FORCE OLD SET NEW SCHEDULER

.DEFAULT_GOAL := help
.PHONY: help venv data letter release all themes diff bench test test-fast lint format lab kernel clean system-deps refresh-nbval

help: ## List the commands
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.lock.txt pyproject.toml
	@command -v $(PYTHON_BASE) >/dev/null 2>&1 || { echo "error: $(PYTHON_BASE) not found (Python 3.11 is required)"; exit 1; }
	@test -x $(PY) || $(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock.txt
	@# The package is put on the path with a .pth file (no build step, no network): src/ is what runs.
	@$(PY) -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'observatoire.pth').write_text('$(CURDIR)/src\\n')"
	$(PY) -m ipykernel install --sys-prefix --name observatoire --display-name "Observatoire (Python 3.11)" >/dev/null
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv from the pinned versions (only when they changed)

data: $(STAMP) ## Fill data/raw/ from the mirror (../shared/data or OBSERVATOIRE_MIRROR) or the publishers, checksums verified
	$(PY) -m observatoire data

letter: $(STAMP) ## Build the latest annual letter (HTML + PDF) into _site/
	$(PY) -m observatoire letter $${FORCE:+--force}

release: $(STAMP) ## Build one edition: make release YEAR=2024 [THEME=annual] [FORCE=1] [SET="key=value ..."]
	$(PY) -m observatoire release --theme "$$THEME" $${YEAR:+--year "$$YEAR"} $${FORCE:+--force} $${SET:+--set "$$SET"}

all: $(STAMP) ## Build every edition of every theme on Dask, skipping unchanged ones [FORCE=1] [SCHEDULER=tcp://host:8786]
	$(PY) -m observatoire all $${FORCE:+--force} $${SCHEDULER:+--scheduler "$$SCHEDULER"}

themes: $(STAMP) ## List the declared themes and the years each can be built for
	$(PY) -m observatoire themes

diff: $(STAMP) ## Compare two builds: make diff [OLD=path NEW=path] (default: 2023 letter on SSMSI editions 2023 and 2024)
	$(PY) -m observatoire diff $${OLD:+--old "$$OLD"} $${NEW:+--new "$$NEW"}

bench: $(STAMP) ## Print wall time per stage and peak memory for a clean and a no-change build of 2024
	$(PY) -m observatoire bench

system-deps: ## Install Debian's chromium and poppler-utils (browser and PDF checks; needs root)
	@if command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then echo "chromium and poppler-utils present"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; fi

test: $(STAMP) system-deps ## Run the whole test suite (unit, data, notebooks under nbval, end-to-end, browser, PDF)
	$(PY) -m pytest -n 2 --dist loadscope --nbval-lax --nbval-kernel-name observatoire \
		--nbval-sanitize-with tests/nbval/sanitize.cfg tests

test-fast: $(STAMP) ## Unit and data tests only
	$(PY) -m pytest -m "not e2e" -n 2 --dist loadscope tests

refresh-nbval: $(STAMP) ## Re-run the notebooks and store their outputs as nbval references (review the diff!)
	$(PY) -m observatoire refresh-nbval

lint: $(STAMP) ## ruff check and format check
	$(VENV)/bin/ruff check src tests notebooks
	$(VENV)/bin/ruff format --check src tests

format: $(STAMP) ## ruff format and fix
	$(VENV)/bin/ruff format src tests
	$(VENV)/bin/ruff check --fix src tests

lab: $(STAMP) ## Start JupyterLab with the project's kernel ("observatoire")
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

clean: ## Remove build outputs (not _site/, not data/raw/)
	rm -rf build .pytest_cache
