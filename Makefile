# The two commands a newcomer needs are `make demo` and `make test`; each installs what it needs:
# a virtualenv in .venv with the package and its dev tools, and the pinned control-plane binaries
# built from Go modules into ~/.cache/azbackup (hack/build-tools.sh; skipped when already built).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint unit integration bench chaos tools venv crds reasons clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

tools:
	@bash hack/build-tools.sh >/dev/null

demo: venv tools
	$(BIN)/azbackup demo

# The whole suite: static checks, then unit, emulator and integration tests.
test: venv tools lint
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/azbackup crds --check
	$(BIN)/azbackup crds --check --dir charts/azbackup-operator/crds

unit: venv
	$(BIN)/pytest -q tests/unit

integration: venv tools
	$(BIN)/pytest -q tests/integration

# Fleet-scale benchmarks against the emulator with ARM throttling on (figures, never assertions).
BENCH_ARGS ?= --vms 1000 --vaults 5
bench: venv tools
	$(BIN)/python -m bench.fleet $(BENCH_ARGS)

# Exactly once under faults: seeded fault mixes and SIGKILLs, the invariants as figures (bench/chaos.py).
CHAOS_ARGS ?= --seeds 1 2 3
chaos: venv tools
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

# Regenerate what is generated from the code: crds/ and the README's reason table.
crds: venv
	$(BIN)/azbackup crds --dir crds
	$(BIN)/azbackup crds --dir charts/azbackup-operator/crds
	$(BIN)/azbackup reasons --update-readme README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
