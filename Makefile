# The two commands of the README. Both build .venv from this repo first (Python >= 3.12).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install baseline test check chromium notebooks notebooks-check app handouts clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python >= 3.12 is required (found " + sys.version.split()[0] + "); set PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

baseline: install
	$(BIN)/python -m simulation run scenarios/baseline.yaml --seed 0 --parameters point --out results/baseline

# everything CI runs: lint, types, and the whole suite (slow and browser tests included)
test: install chromium
	$(BIN)/ruff check simulation tests benchmarks notebooks/build_notebooks.py
	$(BIN)/mypy
	$(BIN)/pytest

# the quick loop while editing (under 20 s): lint, types, and the tests not marked slow or browser
check: install
	$(BIN)/ruff check simulation tests benchmarks notebooks/build_notebooks.py
	$(BIN)/mypy
	$(BIN)/pytest --fast -m "not slow and not browser"

# Teaching notebooks: install Jupyter Notebook (the optional [notebooks] extra; the tests do not
# need it), rebuild the notebooks from notebooks/build_notebooks.py, and open them in the browser.
notebooks: install
	$(BIN)/python -m pip install --quiet -e ".[test,notebooks]"
	$(BIN)/python notebooks/build_notebooks.py
	$(BIN)/jupyter notebook notebooks/

# Run the three notebooks top to bottom and check what they show (what the suite does), no Jupyter UI.
notebooks-check: install
	$(BIN)/python -m pytest tests/test_notebooks.py

app: install
	$(BIN)/python -m simulation app

# One printable HTML handout per lesson (lessons/*.md) in results/handouts/.
handouts: install
	$(BIN)/python -m simulation.interfaces.lessons --all --out results/handouts

# The browser test drives Debian's chromium. Installed here when missing and we are root (as on CI);
# elsewhere the browser test is skipped with a note (and fails on CI, where CI=true).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: no chromium; the browser test will be skipped (apt-get install chromium)"; fi; }

clean:
	rm -rf $(VENV) results
