# The two commands of the README: `make demo` and `make test`.
# Everything they need is installed by tools/ scripts; nothing is assumed.
SHELL := /bin/bash
export BENTOML_DO_NOT_TRACK := true
export OMP_NUM_THREADS := 1
VENV := .venv/bin

.PHONY: demo test venv system-deps controlplane helm node lint images images-tools bench-smoke docs-test

venv:
	@tools/bootstrap.sh

system-deps:
	@tools/system-deps.sh

controlplane: venv
	@tools/controlplane/provision.sh

## A real node for `modelops cluster up`: containerd, runc, CNI plugins (Debian), kubelet,
## kube-proxy and CoreDNS (built from Go modules), the pause and CoreDNS images.
node: venv controlplane
	@tools/node/provision.sh

## helm (built from Go modules), the Gateway API / prometheus-operator CRDs and checkov, for the chart tests.
helm: venv
	@tools/helm/provision.sh
	@tools/checkov/provision.sh >/dev/null

## The container images (operator, training, both bentos, prometheus, s3) as
## docker-archives in ~/.cache/modelops/images/, built with buildah (no Docker,
## no registry); only images whose inputs changed are rebuilt. See docs/images.md.
images: venv images-tools
	@$(VENV)/modelops images build

## buildah, debootstrap and the pinned uv binary (only what is missing).
images-tools:
	@tools/images/provision.sh

# The node tests build the images (once per session) and need these tools.
test: images-tools

## The whole loop on a real local node: canary promotion, rollback, drift and
## retraining, decided by the operator; writes an HTML report (docs/demo.md).
demo: venv controlplane node images-tools
	@tools/demo.sh $(DEMO_ARGS)

lint: venv
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/lint-imports

## The whole test suite, as CI runs it (.ci/run).
test: venv system-deps controlplane helm node lint
	@tools/run-tests.sh

## Every benchmark in its --smoke mode, peers included (the `bench` test layer,
## which `make test` runs too); the peers' environments are created on first use.
bench-smoke: venv system-deps controlplane node images-tools
	@tools/run-tests.sh -m bench

## Every command block of README.md and docs/*.md, run as written (tests/docs; `make test`
## runs them too): the no-cluster pages, then the control-plane pages on private control planes.
docs-test: venv controlplane
	@tools/run-tests.sh -m docs
