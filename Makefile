# Everything runs inside a virtual environment in .venv, made on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint format clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The main job on built-in data: an MLP on the 8x8 digits, written to runs/digits-mlp/.
demo: $(BIN)/python
	$(BIN)/pip install -q -e ".[plot,progress,io]"
	$(BIN)/flowgrad train

# The whole suite: unit tests, golden numbers from the tutorials, doctests, lint.
test: $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/ruff check flowgrad tests examples
	$(BIN)/ruff format --check flowgrad tests examples
	$(BIN)/python -m pytest

lint: $(BIN)/python
	$(BIN)/ruff check flowgrad tests examples
	$(BIN)/ruff format --check flowgrad tests examples

format: $(BIN)/python
	$(BIN)/ruff format flowgrad tests examples

# flowgrad against hand-written NumPy, PyTorch, JAX and HIPS autograd (those installed); see
# docs/performance.md. Options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--threads 2".
bench: $(BIN)/python
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
