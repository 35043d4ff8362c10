# Two entry points (see README):
#   make figures  -> set up .venv if missing, run the notebook series, regenerate figures/
#   make test     -> set up .venv if missing, run unit tests + notebooks (nbval, smoke mode)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: figures test benchmark clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e ".[dev]"
	touch $(STAMP)

figures: $(STAMP)
	$(PY) -m dgmpm_lite figures

test: $(STAMP)
	DGMPM_SMOKE=1 $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env

benchmark: $(STAMP)
	$(PY) -m dgmpm_lite benchmark

clean-venv:
	rm -rf $(VENV)
