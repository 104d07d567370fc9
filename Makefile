# accelgen: every entry point a user or CI needs. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
PRESETS := tiny default
ACCELGEN := target/release/accelgen
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := verilator iverilog yosys

.PHONY: help setup demo test verilog lint bench vectors build clean-hdl

help:
	@echo "make setup    install what is missing (Debian: $(APT_PACKAGES)); Rust is assumed"
	@echo "make demo     generate hdl_out/default/ and run the testbench suite on the default preset"
	@echo "make test     every test (unit, golden vectors, command line, hardware simulation, lint)"
	@echo "make verilog  regenerate hdl_out/<preset>/ for: $(PRESETS)"
	@echo "make lint     verilator --lint-only -Wall and yosys checks on hdl_out/"
	@echo "make bench    benchmarks (cycles, utilization, ratios)"
	@echo "make vectors  regenerate testbenches/vectors/ with numpy (pip install numpy)"

setup:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup.rs) first"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	else echo "setup: $(APT_PACKAGES) already installed"; fi

build:
	$(CARGO) build --release -p accelgen

demo: build
	$(ACCELGEN) generate --preset default --out hdl_out/default
	$(ACCELGEN) suite --preset default testbenches

test:
	$(CARGO) test --workspace --release

verilog: build
	@for p in $(PRESETS); do $(ACCELGEN) generate --preset $$p --out hdl_out/$$p || exit 1; done

lint:
	$(CARGO) test --release -p accelgen-hw --test verilog_tools

bench:
	$(CARGO) bench --workspace

vectors:
	python3 testbenches/gen_vectors.py > testbenches/vectors/NOTES.txt
