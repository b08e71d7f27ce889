# Two commands on a fresh machine with Python 3.11+:  `make lab`  and  `make test`.
# Both create .venv and install the course into it when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test lessons site lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/bncourse lab-settings
	touch $(STAMP)

lab: $(STAMP)  ## open the course in JupyterLab
	cd lessons && ../$(BIN)/jupyter lab 00_course_map.ipynb

test: $(STAMP)  ## lint, then every test and every notebook (solutions and lessons)
	$(BIN)/ruff check bncourse tests benchmarks conftest.py
	$(BIN)/ruff format --check bncourse tests benchmarks conftest.py
	$(BIN)/python -m pytest

lessons: $(STAMP)  ## regenerate lessons/ from solutions/
	$(BIN)/bncourse build

site: $(STAMP)  ## execute every lesson and render the course site into site/
	$(BIN)/bncourse site --lessons lessons --out site

lint: $(STAMP)
	$(BIN)/ruff check bncourse tests benchmarks conftest.py

format: $(STAMP)
	$(BIN)/ruff format bncourse tests benchmarks conftest.py
	$(BIN)/ruff check --fix bncourse tests benchmarks conftest.py

bench: $(STAMP)  ## print the performance tables
	$(BIN)/python benchmarks/reference_vs_keras.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site
