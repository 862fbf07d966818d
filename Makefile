# The two commands a newcomer needs are `make demo` and `make test`; each installs what it needs:
# the Debian packages it lacks (hack/deps.py), a virtualenv in .venv with the package and its dev tools,
# and the pinned control-plane binaries built from Go modules into ~/.cache/azbackup (hack/build-tools.sh;
# skipped when already built).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-in-cluster test lint unit integration realnode bench bench-estate chaos tools node-tools flux gitops venv crds reasons clean \
	oav traffic-check prometheus deps-demo deps-test deps-node

# Azure's OpenAPI specs (a checkout of the shared references beside the repository, as CI has it; the
# traffic check adds hack/oav/specs, the specs this repository carries itself), and
# where the emulators of the test run record their ARM traffic for Azure's validator (oav).
SPECS ?= ../shared/reference/specs
TRAFFIC := $(CURDIR)/.traffic

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

# The Debian packages each command needs: installed when missing if run as root; otherwise it stops with
# the apt-get line to run and what needs each package (hack/deps.py).
deps-demo deps-test deps-node:
	@python3 hack/deps.py $(@:deps-%=%) --python $(PYTHON)

tools:
	@bash hack/build-tools.sh >/dev/null

# kubelet, kube-scheduler, containerd, runc, pause, kstatus and the images of the real node (root only:
# mmdebstrap and buildah; without root the real-node tests are skipped and nothing is built).
node-tools: tools
	@if [ "$$(id -u)" = 0 ]; then bash hack/build-images.sh >/dev/null; fi

# Flux's source-controller and kustomize-controller from their Go modules, for tests/gitops.
flux:
	@bash hack/build-flux.sh >/dev/null

demo: deps-demo venv tools
	$(BIN)/azbackup demo

# The whole suite: static checks, then unit, emulator, integration and real-node tests, then every
# request and answer the emulators served in them validated against Azure's OpenAPI specs with oav.
# The tests run on TEST_WORKERS pytest-xdist workers (most of an integration test is waiting for the
# operator, so more workers than cores pay); the real node's tests stay together on one of them, start
# first, and their first test builds (or waits for) the node tools and images while the others run; Flux's
# tests (tests/gitops) likewise build or wait for Flux in their fixture, so a cold Flux build overlaps the rest.
# The slowest tests are listed at the end, so that every run shows where its time went.
TEST_WORKERS ?= 4
test: deps-test venv tools lint oav
	rm -rf $(TRAFFIC)
	AZURE_EMULATOR_TRAFFIC_DIR=$(TRAFFIC) $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup --durations=25
	$(MAKE) --no-print-directory traffic-check

# Install oav (npm, pinned by hack/oav/package-lock.json) into ~/.cache/azbackup/oav when missing.
oav:
	@bash hack/oav/install.sh >/dev/null

# Validate the traffic recorded in .traffic/ (by `make test`, or any run with AZURE_EMULATOR_TRAFFIC_DIR).
traffic-check: oav
	node hack/oav/validate-traffic.js --oav "$$(bash hack/oav/install.sh)" --specs $(SPECS):hack/oav/specs --traffic $(TRAFFIC)

# The same story with the operator as a pod: the image built from the Dockerfile, installed with the
# chart onto a real local node (kubelet + containerd). Needs root.
demo-in-cluster: deps-node venv tools node-tools
	$(BIN)/azbackup demo --in-cluster

# prometheus and promtool from their Go module into ~/.cache/azbackup (hack/build-prometheus.sh; skipped when built).
prometheus:
	@bash hack/build-prometheus.sh >/dev/null

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/azbackup crds --check
	$(BIN)/azbackup crds --check --dir charts/azbackup-operator/crds --rbac charts/azbackup-operator/templates/_kinds.tpl
	"$$(bash hack/build-prometheus.sh)/promtool" check rules charts/azbackup-operator/files/alerts.yaml

unit: venv
	$(BIN)/pytest -q tests/unit

integration: venv tools
	$(BIN)/pytest -q tests/integration

# The chart on a real node: helm install of the image built from the Dockerfile (needs root).
realnode: deps-node venv node-tools
	$(BIN)/pytest -q tests/realnode

# Flux applies the manifests from a git repository on loopback (examples/gitops/flux/).
gitops: venv tools flux
	$(BIN)/pytest -q tests/gitops

# Fleet-scale benchmarks against the emulator with ARM throttling on (figures, never assertions).
BENCH_ARGS ?= --vms 1000 --vaults 5
bench: venv tools
	$(BIN)/python -m bench.fleet $(BENCH_ARGS)

# The estate: N VMs over S subscriptions and V vaults, R replicas, each its own process (bench/estate.py).
ESTATE_ARGS ?= --vms 20000 --subscriptions 8 --vaults 16 --replicas 1
bench-estate: venv tools
	$(BIN)/python -m bench.estate $(ESTATE_ARGS)

# Exactly once under faults: seeded fault mixes and SIGKILLs, the invariants as figures (bench/chaos.py).
CHAOS_ARGS ?= --seeds 1 2 3
chaos: venv tools
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

# Regenerate what is generated from the code: crds/ and the README's reason table.
crds: venv
	$(BIN)/azbackup crds --dir crds
	$(BIN)/azbackup crds --dir charts/azbackup-operator/crds --rbac charts/azbackup-operator/templates/_kinds.tpl
	$(BIN)/azbackup reasons --update-readme README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .traffic
