#!/usr/bin/env python3
"""Second linter: slang (PyPI pyslang) with -Weverything over every .v of a preset at once (one
project: duplicate modules are errors too). Any diagnostic fails; there are no waivers.

Usage: slang_lint.py hdl_out/<preset>   (make lint runs it for every preset)
"""
import glob
import os
import sys

try:
    import pyslang
except ImportError:
    sys.exit("pyslang is not installed: run `make setup` (it installs pyslang into .venv)")

folder = sys.argv[1]
files = sorted(f for f in glob.glob(os.path.join(folder, "*.v")) if not f.endswith("_fmax.v"))
if not files:
    sys.exit(f"{folder}: no Verilog files")
driver = pyslang.driver.Driver()
driver.addStandardArgs()
if not driver.parseCommandLine("slang -Weverything " + " ".join(files), pyslang.driver.CommandLineOptions()):
    sys.exit("slang: bad command line")
if not driver.processOptions() or not driver.parseAllSources():
    sys.exit(f"{folder}: slang could not parse the sources")
compilation = driver.createCompilation()
driver.reportCompilation(compilation, True)
diags = compilation.getAllDiagnostics()
ok = driver.reportDiagnostics(False)
if diags or not ok:
    sys.exit(f"{folder}: slang -Weverything reported {len(diags)} diagnostic(s)")
print(f"{folder}: slang -Weverything clean on {len(files)} files")
