"""accel_axi driven by a bus model nobody here wrote: cocotbext-axi's AxiLiteMaster programs it,
its AxiRam serves the memory, with random pauses on every channel of both (docs/soc.md).

The host does what a driver does (docs/soc.md, "Host driver"): copy memory_init.bin to the RAM
at a base address, write MEM_BASE, the program words (PROG_LO, PROG_HI), IRQ_ENABLE and
CTRL.START, wait for irq, check IRQ_STATUS, read the output region that memory.json names and
compare it with the golden model's output, element for element.

Inputs (environment): ACCELGEN_PROG (a folder written by `accelgen compile` for a network with
data), ACCELGEN_GOLDEN (`accelgen golden NET --out` of the same network), ACCELGEN_REGS
(hdl_out/<preset>/accelgen_regs.json). Run by run.py (make cocotb).
"""
import json
import logging
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiRam

BASE = 0x0010_0000
MAX_CYCLES = 2_000_000


def pauses(seed, p):
    """A pause generator: True (pause) with probability p each cycle."""
    rng = random.Random(seed)
    while True:
        yield rng.random() < p


@cocotb.test()
async def network_runs_bit_exact(dut):
    prog = os.environ["ACCELGEN_PROG"]
    golden = json.load(open(os.environ["ACCELGEN_GOLDEN"]))["output"]
    regs = {r["name"]: r["offset"] for r in json.load(open(os.environ["ACCELGEN_REGS"]))["registers"]}
    memory = json.load(open(os.path.join(prog, "memory.json")))
    image = open(os.path.join(prog, "memory_init.bin"), "rb").read()
    program = open(os.path.join(prog, "program.cbin"), "rb").read()

    cocotb.start_soon(Clock(dut.aclk, 10, unit="ns").start())
    lite = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.aclk, dut.aresetn, reset_active_level=False)
    size = 1 << (BASE + len(image)).bit_length()
    ram = AxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.aclk, dut.aresetn, reset_active_level=False, size=size)
    logging.getLogger("cocotb.accel_axi.m_axi").setLevel(logging.WARNING)
    logging.getLogger("cocotb.accel_axi.s_axil").setLevel(logging.WARNING)
    for i, ch in enumerate([lite.write_if.aw_channel, lite.write_if.w_channel, lite.read_if.ar_channel]):
        ch.set_pause_generator(pauses(10 + i, 0.3))
    for i, ch in enumerate([ram.write_if.aw_channel, ram.write_if.w_channel, ram.write_if.b_channel,
                            ram.read_if.ar_channel, ram.read_if.r_channel]):
        ch.set_pause_generator(pauses(20 + i, 0.3))

    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 4)
    dut.aresetn.value = 1
    await ClockCycles(dut.aclk, 2)

    assert (await lite.read_dword(regs["ID"])) == 0x41434701
    ram.write(BASE, image)
    await lite.write_dword(regs["MEM_BASE"], BASE)
    for at in range(0, len(program), 8):
        word = int.from_bytes(program[at:at + 8].ljust(8, b"\0"), "little")
        await lite.write_dword(regs["PROG_LO"], word & 0xFFFF_FFFF)
        await lite.write_dword(regs["PROG_HI"], word >> 32)
    await lite.write_dword(regs["IRQ_ENABLE"], 7)
    await lite.write_dword(regs["CTRL"], 1)

    cycles = 0
    while not dut.irq.value:
        await RisingEdge(dut.aclk)
        cycles += 1
        assert cycles < MAX_CYCLES, "no interrupt"
    irq_status = await lite.read_dword(regs["IRQ_STATUS"])
    status = await lite.read_dword(regs["STATUS"])
    assert irq_status == 1, f"IRQ_STATUS {irq_status:#b}, STATUS {status:#x}"

    out = next(r for r in memory["regions"] if r["name"] == memory["output"])
    raw = ram.read(BASE + out["offset"], out["bytes"])
    # Packed as numpy writes tensors: int8 one byte each, int32 four little-endian bytes.
    size = 4 if out["dtype"] == "int32" else 1
    got = [int.from_bytes(raw[i:i + size], "little", signed=True) for i in range(0, len(raw), size)]
    assert out["shape"] == golden["shape"], (out["shape"], golden["shape"])
    diff = [i for i, (a, b) in enumerate(zip(got, golden["data"])) if a != b]
    assert not diff and len(got) == len(golden["data"]), f"{len(diff)} of {len(got)} elements differ, first at {diff[:5]}"
    dut._log.info("accel_axi: %d elements equal the golden model; %d cycles from START to irq", len(got), cycles)
