# Developer entry points. `make test` runs every check; see README.md.
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
export ANSIBLE_COLLECTIONS_PATH := $(ROOT)/.collections
export PATH := $(VENV)/bin:$(PATH)

.PHONY: help setup test unit sanity lint yamllint argspecs changelog build integration demo bench clean

help:
	@echo "make setup        create .venv and .collections (idempotent)"
	@echo "make test         setup, unit, sanity, lint, yamllint, argspecs, changelog, build, integration"
	@echo "make unit | sanity | lint | build | integration   one stage (setup runs first)"
	@echo "make demo         deploy and exercise the databases on the test cluster"
	@echo "make bench        run the benchmarks in bench/"

setup:
	@scripts/setup.sh

test:
	@scripts/test.sh

unit sanity lint yamllint argspecs changelog build integration:
	@scripts/test.sh setup $@

demo: setup
	@if [ -f scripts/demo.sh ]; then bash scripts/demo.sh; else \
		echo "make demo: scripts/demo.sh is not in this checkout; the demo needs the cluster harness (tests/cluster)" >&2; exit 1; fi

bench:
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else \
		echo "make bench: bench/run.sh is not in this checkout" >&2; exit 1; fi

clean:
	rm -rf .tmp tests/output
