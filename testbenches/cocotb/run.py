#!/usr/bin/env python3
"""Builds accel_axi of a preset with Icarus and runs test_accel_axi.py on it (cocotb's runner).

    run.py PRESET PROG_DIR GOLDEN_JSON

PROG_DIR is `accelgen compile NET --preset PRESET --out PROG_DIR` of a network with data,
GOLDEN_JSON `accelgen golden NET --out GOLDEN_JSON`. Exits non-zero when the test fails.
ACCELGEN_WAVES=1 records the run's waveform (target/cocotb/PRESET/accel_axi.fst).
"""
import os
import sys
import xml.etree.ElementTree as ET

from cocotb_tools.runner import get_runner

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    preset, prog, golden = sys.argv[1:4]
    hdl = os.path.join(ROOT, "hdl_out", preset)
    build = os.path.join(ROOT, "target", "cocotb", preset)
    runner = get_runner("icarus")
    runner.build(sources=[os.path.join(hdl, "accel_axi.v")], hdl_toplevel="accel_axi", build_dir=build,
                 timescale=("1ns", "1ps"), always=True, waves=bool(os.environ.get("ACCELGEN_WAVES")))
    env = {"ACCELGEN_PROG": os.path.abspath(prog), "ACCELGEN_GOLDEN": os.path.abspath(golden),
           "ACCELGEN_REGS": os.path.join(hdl, "accelgen_regs.json")}
    results = runner.test(hdl_toplevel="accel_axi", test_module="test_accel_axi", test_dir=HERE, build_dir=build,
                          extra_env=env, results_xml=os.path.join(build, "results.xml"),
                          waves=bool(os.environ.get("ACCELGEN_WAVES")))
    failures = sum(len(tc.findall("failure")) + len(tc.findall("error")) for tc in ET.parse(results).iter("testcase"))
    tests = sum(1 for _ in ET.parse(results).iter("testcase"))
    if failures or tests == 0:
        sys.exit(f"cocotb: {failures} of {tests} tests failed ({results})")
    print(f"cocotb: {tests} test(s) passed on {preset} accel_axi ({results})")


if __name__ == "__main__":
    main()
