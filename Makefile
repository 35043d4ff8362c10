# Two entry points (see README):
#   make figures  -> set up .venv if missing, run the notebook series, regenerate figures/
#   make test     -> set up .venv if missing, lint (ruff), run unit tests + notebooks (nbval, smoke mode;
#                    DGMPM_CHECK_FIGURES=1: a figure that cannot be read alone fails, see viz.savefig)
#                    (+ browser-deps: Debian's chromium for tests/test_browser.py, when possible)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: figures test lint format browser-deps benchmark clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# RETRAIN_ABLATION=1: notebook 08 trains its five variants instead of scoring the shipped ones (hours on a CPU)
RETRAIN_ABLATION ?= 0

figures: $(STAMP)
	$(PY) -m dgmpm_lite figures $(if $(filter 1,$(RETRAIN_ABLATION)),--retrain-ablation)

LINTED := dgmpm_lite tests notebooks

test: $(STAMP) browser-deps lint
	DGMPM_SMOKE=1 DGMPM_CHECK_FIGURES=1 $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env -rs

# ruff (settings in pyproject.toml): lint and formatting of the package, the tests and the
# notebooks' code cells; `make format` rewrites what `ruff format --check` complains about.
lint: $(STAMP)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)

format: $(STAMP)
	$(PY) -m ruff check --fix $(LINTED)
	$(PY) -m ruff format $(LINTED)

# Headless Chromium for the browser test (Playwright cannot download its own browser here).
# Installs Debian's package only if it is missing and we are root with apt-get; never fails:
# without /usr/bin/chromium the browser test is skipped and pytest -rs prints why.
browser-deps:
	@if [ -x /usr/bin/chromium ]; then \
		echo "browser-deps: /usr/bin/chromium present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "browser-deps: installing Debian's chromium with apt-get"; \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
			|| echo "browser-deps: could not install chromium; the browser test will be skipped"; \
	else \
		echo "browser-deps: no /usr/bin/chromium and cannot install it (needs root and apt-get); the browser test will be skipped"; \
	fi

benchmark: $(STAMP)
	$(PY) -m dgmpm_lite benchmark

clean-venv:
	rm -rf $(VENV)
