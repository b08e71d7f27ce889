# Two commands on a fresh machine with Python 3.11+:  `make lab`  and  `make test`.
# Both create .venv and install the course into it when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test lessons lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/bncourse lab-settings
	touch $(STAMP)

lab: $(STAMP)  ## open the course in JupyterLab
	$(BIN)/jupyter lab lessons/

test: $(STAMP)  ## lint, then every test and every notebook (solutions and lessons)
	$(BIN)/ruff check bncourse tests benchmarks conftest.py
	$(BIN)/ruff format --check bncourse tests benchmarks conftest.py
	$(BIN)/python -m pytest

lessons: $(STAMP)  ## regenerate lessons/ from solutions/
	$(BIN)/bncourse build

lint: $(STAMP)
	$(BIN)/ruff check bncourse tests benchmarks conftest.py

format: $(STAMP)
	$(BIN)/ruff format bncourse tests benchmarks conftest.py
	$(BIN)/ruff check --fix bncourse tests benchmarks conftest.py

bench: $(STAMP)  ## print the performance tables
	$(BIN)/python benchmarks/reference_vs_keras.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
