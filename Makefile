# Each target sets itself up: a local virtualenv with the project and its test tools, made on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/repsense replay sample_recordings/squat_amrap_walkout_100hz.csv

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check repsense tests bench
	$(BIN)/ruff format --check repsense tests bench
	$(BIN)/mypy repsense

bench: $(STAMP)
	$(BIN)/python bench/bench_accuracy.py
	$(BIN)/python bench/baseline_naive.py
	$(BIN)/python bench/bench_replay.py
	$(BIN)/python bench/bench_decoder.py
	$(BIN)/python bench/bench_live.py
	$(BIN)/python bench/bench_realdata.py
	$(BIN)/python bench/bench_wrist_sim.py
	$(BIN)/python bench/bench_unseen.py
	$(BIN)/python bench/bench_robustness.py
	$(BIN)/python bench/bench_ble.py
	$(BIN)/python bench/bench_history.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
