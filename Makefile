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
TERRITOIRE  ?=
LANGUE      ?=
PUBLIC      ?=
PORT        ?=
NEW         ?=
PROFILE     ?=
ID          ?=
export PYTHONHASHSEED := 0
# Quarto renders every letter: `quarto` from PATH when it is 1.10 or newer, else installed into .tools/quarto (from
# the kit in OBSERVATOIRE_QUARTO_KIT or ../shared/tools/quarto; see tools/install-quarto.sh).
QUARTO_DIR  := .tools/quarto
# User variables reach the recipes through the environment and are quoted there ("$$YEAR"): a value is one
# argument of the command line, never shell code (YEAR='2024; rm -rf x' is refused by the CLI as a bad year).
export YEAR THEME FORCE OLD SET NEW SCHEDULER TERRITOIRE CORRECTION LANGUE ID PUBLIC PORT PROFILE

.DEFAULT_GOAL := help
.PHONY: help venv quarto data letter release territoires all themes new-theme diff bench test test-fast lint format lab kernel clean system-deps refresh-nbval serve

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

quarto: ## Make Quarto >= 1.10 available (PATH, else install it into .tools/quarto from the kit)
	@tools/install-quarto.sh $(QUARTO_DIR)

data: $(STAMP) ## Fill data/raw/ from the mirror (../shared/data or OBSERVATOIRE_MIRROR) or the publishers, checksums verified
	$(PY) -m observatoire data

letter: $(STAMP) quarto ## Build the latest annual letter (HTML + PDF), in French and in English, into _site/
	$(PY) -m observatoire letter $${FORCE:+--force} $${PUBLIC:+--public}

release: $(STAMP) quarto ## Build one edition: make release YEAR=2024 [THEME=annual] [FORCE=1] [SET="key=value ..."] [TERRITOIRE=29|reg-53] [CORRECTION="what was corrected"] [LANGUE=en] [PUBLIC=1: needs OBSERVATOIRE_BASE_URL]
	$(PY) -m observatoire release --theme "$$THEME" $${YEAR:+--year "$$YEAR"} $${FORCE:+--force} $${SET:+--set "$$SET"} $${TERRITOIRE:+--territoire "$$TERRITOIRE"} $${CORRECTION:+--correction "$$CORRECTION"} $${LANGUE:+--langue "$$LANGUE"} $${PUBLIC:+--public}

territoires: $(STAMP) quarto ## The 119 territorial letters (101 départements, 18 régions) on Dask: make territoires [YEAR=2024] [FORCE=1]
	$(PY) -m observatoire all --theme territoire $${YEAR:+--year "$$YEAR"} $${FORCE:+--force} $${SCHEDULER:+--scheduler "$$SCHEDULER"} $${PUBLIC:+--public}

all: $(STAMP) quarto ## Build every edition of every theme on Dask, skipping unchanged ones [FORCE=1] [SCHEDULER=tcp://host:8786]
	$(PY) -m observatoire all $${FORCE:+--force} $${SCHEDULER:+--scheduler "$$SCHEDULER"} $${PUBLIC:+--public}

themes: $(STAMP) ## List the declared themes and the years each can be built for
	$(PY) -m observatoire themes

new-theme: $(STAMP) ## Scaffold a new letter from publications/_new_theme/: make new-theme ID=exemple (then make release YEAR=2024 THEME=exemple)
	@test -n "$$ID" || { echo "error: give the theme's id: make new-theme ID=exemple"; exit 1; }
	$(PY) -m observatoire new-theme "$$ID"

diff: $(STAMP) ## Compare two builds: make diff [OLD=path NEW=path] (default: 2023 letter on SSMSI editions 2023 and 2024)
	$(PY) -m observatoire diff $${OLD:+--old "$$OLD"} $${NEW:+--new "$$NEW"}

bench: $(STAMP) quarto ## Print every speed figure against its target (2024 letter clean / no-change, vs papermill CLI, make all, territorial, memory), then the profile; PROFILE=1: the profile only
	$(PY) -m observatoire bench $${PROFILE:+--profile}

system-deps: ## Install Debian's chromium and poppler-utils (browser and PDF checks; needs root)
	@if command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then echo "chromium and poppler-utils present"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; fi

test: $(STAMP) quarto system-deps ## Run the whole test suite (unit, data, notebooks under nbval, end-to-end, browser, PDF)
	$(PY) -m pytest -n 2 --dist loadscope --nbval-lax --nbval-kernel-name observatoire \
		--nbval-sanitize-with tests/nbval/sanitize.cfg tests

test-fast: $(STAMP) quarto ## Unit and data tests only
	$(PY) -m pytest -m "not e2e" -n 2 --dist loadscope tests

refresh-nbval: $(STAMP) ## Re-run the notebooks and store their outputs as nbval references (review the diff!)
	$(PY) -m observatoire refresh-nbval

lint: $(STAMP) ## ruff check and format check; the import contracts (layers, docs/ARCHITECTURE.md)
	$(VENV)/bin/ruff check src tests notebooks
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP) ## ruff format and fix
	$(VENV)/bin/ruff format src tests
	$(VENV)/bin/ruff check --fix src tests

lab: $(STAMP) ## Start JupyterLab with the project's kernel ("observatoire"); works as root too (containers)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --MultiKernelManager.default_kernel_name=observatoire \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

serve: ## Serve the published site on http://127.0.0.1:8000/ (make serve PORT=8080 for another port)
	python3 -m http.server "$${PORT:-8000}" --bind 127.0.0.1 --directory _site

clean: ## Remove build outputs (not _site/, not data/raw/)
	rm -rf build .pytest_cache
