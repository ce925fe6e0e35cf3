# Everything runs inside a virtual environment in .venv, made on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint types docs format clean bench verify

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The main job on built-in data: an MLP on the 8x8 digits, written to runs/digits-mlp/
# (replacing the previous demo's run: flowgrad train never replaces a run without --overwrite).
demo: $(BIN)/python
	$(BIN)/pip install -q -e ".[plot,progress,io]"
	$(BIN)/flowgrad train --overwrite
	@echo ""
	@echo "Next steps:"
	@echo "  open runs/digits-mlp/loss.png and runs/digits-mlp/confusion.png"
	@echo "  .venv/bin/flowgrad train --example housing     (another of the tutorials' jobs)"
	@echo "  source .venv/bin/activate                       (then: flowgrad --help, python -c 'import flowgrad')"

# The whole suite: lint, types (mypy), then unit tests, golden numbers from the tutorials,
# doctests, docs' code blocks and examples, with line coverage of the package (fails under 90%).
# Then the tests marked `numeric` run again on other SIMD and BLAS kernels than this CPU's
# (tests/cpu_kernels.py), so a test that holds only on the machine it was written on fails here.
test: $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/ruff check flowgrad tests examples compat
	$(BIN)/ruff format --check flowgrad tests examples compat
	$(BIN)/mypy
	@$(BIN)/python -m tests.cpu_kernels --describe
	$(BIN)/python -m pytest --cov=flowgrad --cov-report=term:skip-covered --cov-fail-under=90
	@alt="$$($(BIN)/python -m tests.cpu_kernels)" && echo "numeric tests, second pass: env $$alt" && \
	env $$alt $(BIN)/python -m tests.cpu_kernels --describe && \
	env $$alt $(BIN)/python -m pytest -m numeric -p no:cacheprovider

# The long checks, all in one pytest run with FLOWGRAD_VERIFY=1: 20,000 differential programs
# against PyTorch (tests/differential), and the other suites' long versions. Then HIPS autograd's
# own tests and examples against flowgrad (compat/run_autograd.py: its sdist from the registry).
verify: $(BIN)/python
	FLOWGRAD_VERIFY=1 FLOWGRAD_CRASH_RUNS=200 $(BIN)/python -m pytest -q tests -p no:randomly
	$(BIN)/python compat/run_autograd.py  # HIPS autograd's own tests and examples (compat/)
	@echo "verify: every long check passed"

lint: $(BIN)/python
	$(BIN)/ruff check flowgrad tests examples compat
	$(BIN)/ruff format --check flowgrad tests examples compat

types: $(BIN)/python
	$(BIN)/mypy

# The documentation site (mkdocs.yml: the guides and an API reference from the docstrings),
# built into site/; --strict turns every warning into a failure.
docs: $(BIN)/python
	$(BIN)/pip install -q -e ".[docs]"
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

format: $(BIN)/python
	$(BIN)/ruff format flowgrad tests examples compat

# flowgrad against hand-written NumPy, PyTorch, JAX and HIPS autograd (those installed); see
# docs/performance.md. Options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--threads 2".
bench: $(BIN)/python
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .coverage site
