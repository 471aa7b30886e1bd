# The two commands of the README. Both build .venv from this repo first (Python >= 3.12).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install baseline test clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python >= 3.12 is required (found " + sys.version.split()[0] + "); set PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

baseline: install
	$(BIN)/python -m simulation run scenarios/baseline.yaml --seed 0 --out results/baseline

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) results
