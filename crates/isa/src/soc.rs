//! The AXI4-Lite register map of `accel_axi` (docs/soc.md): one table from which the hardware
//! decodes its addresses and `accelgen generate` writes the C header `accelgen_regs.h` and the
//! machine-readable `accelgen_regs.json`.
//!
//! Byte offsets, 32-bit registers. Reads of an offset the table does not have, and writes to a
//! read-only one, answer `SLVERR`.

/// How the host may access a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read only.
    Ro,
    /// Write only (an action; reads answer 0).
    Wo,
    /// Read and write.
    Rw,
    /// Read; writing 1 to a bit clears it.
    W1c,
}

impl Access {
    /// The name in the header and the JSON map.
    pub const fn name(self) -> &'static str {
        match self {
            Access::Ro => "RO",
            Access::Wo => "WO",
            Access::Rw => "RW",
            Access::W1c => "W1C",
        }
    }
}

/// A bit field of a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitField {
    /// Name.
    pub name: &'static str,
    /// Lowest bit.
    pub lsb: u8,
    /// Width in bits.
    pub bits: u8,
    /// Meaning.
    pub doc: &'static str,
}

/// One register of the AXI4-Lite slave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxiRegister {
    /// Name.
    pub name: &'static str,
    /// Byte offset.
    pub offset: u32,
    /// Access.
    pub access: Access,
    /// Its fields (empty: the whole word is one value).
    pub fields: &'static [BitField],
    /// Meaning.
    pub doc: &'static str,
}

const fn b(name: &'static str, lsb: u8, bits: u8, doc: &'static str) -> BitField {
    BitField { name, lsb, bits, doc }
}

/// The value of register `ID`: "ACG" and the map's version 1.
pub const AXI_ID_VALUE: u32 = 0x4143_4701;

/// Offset of the first core read register: core read register i (docs/accelerator.md, the host
/// register port's reads) is at `AXI_CORE_READS + 4·i`.
pub const AXI_CORE_READS: u32 = 0x40;

/// The interrupt sources (bits of `IRQ_ENABLE` and `IRQ_STATUS`).
const IRQ_BITS: &[BitField] = &[
    b("DONE", 0, 1, "the program finished and every write reached memory"),
    b("ERROR", 1, 1, "the program stopped on an error (STATUS bits 8-11 give the code)"),
    b("BUS_ERROR", 2, 1, "the memory answered a transfer with SLVERR or DECERR"),
];

/// The register map, in offset order.
pub const AXI_REGISTERS: &[AxiRegister] = &[
    AxiRegister { name: "ID", offset: 0x00, access: Access::Ro, fields: &[], doc: "0x41434701: \"ACG\" and the register map's version" },
    AxiRegister {
        name: "CTRL",
        offset: 0x04,
        access: Access::Wo,
        fields: &[
            b("START", 0, 1, "start the loaded program (clears the counters, the status and IRQ_STATUS)"),
            b("CLEAR", 1, 1, "clear the status and the program buffer"),
        ],
        doc: "the core's CTRL",
    },
    AxiRegister {
        name: "STATUS",
        offset: 0x08,
        access: Access::Ro,
        fields: &[
            b("BUSY", 0, 1, "running"),
            b("DONE", 1, 1, "finished (the core; IRQ_STATUS.DONE also waits for the last write)"),
            b("ERROR", 2, 1, "stopped on an error"),
            b("CODE", 8, 4, "error code (docs/accelerator.md)"),
            b("OVERFLOW", 12, 1, "the program was larger than the instruction buffer"),
        ],
        doc: "the core's STATUS",
    },
    AxiRegister { name: "WATCHDOG", offset: 0x0C, access: Access::Wo, fields: &[], doc: "the most cycles one instruction may wait for a module; 0 is no limit" },
    AxiRegister { name: "IRQ_ENABLE", offset: 0x10, access: Access::Rw, fields: IRQ_BITS, doc: "which sources raise `irq`" },
    AxiRegister { name: "IRQ_STATUS", offset: 0x14, access: Access::W1c, fields: IRQ_BITS, doc: "sources that occurred; `irq` is high while an enabled one is set" },
    AxiRegister { name: "MEM_BASE", offset: 0x18, access: Access::Rw, fields: &[], doc: "byte address of the memory image, 4 KiB-aligned (bits 11:0 read as zero): every transfer's address is MEM_BASE plus its offset" },
    AxiRegister { name: "PROG_LO", offset: 0x1C, access: Access::Wo, fields: &[], doc: "low half of the next program word" },
    AxiRegister { name: "PROG_HI", offset: 0x20, access: Access::Wo, fields: &[], doc: "high half of the next program word; the write appends {PROG_HI, PROG_LO} to the program" },
    AxiRegister { name: "CORE_READ", offset: AXI_CORE_READS, access: Access::Ro, fields: &[], doc: "core read register i at 0x40 + 4*i, i in 0..16 (STATUS, CYCLES, INSTRUCTIONS, ...: docs/accelerator.md)" },
];

/// The offset of register `name` (a programming error if the table has no such register).
pub const fn axi_register(name: &str) -> u32 {
    let mut i = 0;
    while i < AXI_REGISTERS.len() {
        if crate::str_eq(AXI_REGISTERS[i].name, name) {
            return AXI_REGISTERS[i].offset;
        }
        i += 1;
    }
    panic!("no such AXI register")
}

/// The C header `accelgen_regs.h` of a preset (after the generated-file header lines).
pub fn c_header(preset: &str) -> String {
    let mut s = format!(
        "/* accelgen_regs.h: the AXI4-Lite register map of accel_axi (preset \"{preset}\"). Offsets in\n * bytes, registers 32 bits (docs/soc.md). */\n#ifndef ACCELGEN_REGS_H\n#define ACCELGEN_REGS_H\n\n"
    );
    for r in AXI_REGISTERS {
        s += &format!("/* {} ({}): {} */\n#define ACCELGEN_{}_OFFSET 0x{:03X}u\n", r.name, r.access.name(), r.doc, r.name, r.offset);
        for f in r.fields {
            let mask = ((1u64 << f.bits) - 1) << f.lsb;
            s += &format!("#define ACCELGEN_{}_{}_SHIFT {}u\n#define ACCELGEN_{}_{}_MASK 0x{:08X}u\n", r.name, f.name, f.lsb, r.name, f.name, mask);
        }
        s += "\n";
    }
    s += &format!("#define ACCELGEN_ID_VALUE 0x{AXI_ID_VALUE:08X}u\n#define ACCELGEN_CORE_READ(i) (0x{AXI_CORE_READS:03X}u + 4u * (unsigned)(i))\n\n");
    s += "/* The core's read registers (ACCELGEN_CORE_READ(ACCELGEN_CORE_CYCLES), ...) */\n";
    for r in crate::READ_REGISTERS {
        s += &format!("#define ACCELGEN_CORE_{} {}u /* {} */\n", r.name, r.addr, r.doc);
    }
    s += "\n#endif\n";
    s
}

/// How a generated `accelgen_regs.json` begins (so `accelgen generate` knows it may replace it).
pub const JSON_MARKER: &str = "{\n  \"generated_by\": \"accelgen";

/// The machine-readable map `accelgen_regs.json`: every register with name, offset, access,
/// fields (name, lsb, bits, doc) and doc.
pub fn json_map(preset: &str) -> String {
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let regs: Vec<String> = AXI_REGISTERS
        .iter()
        .map(|r| {
            let fields: Vec<String> = r
                .fields
                .iter()
                .map(|f| format!("{{\"name\": \"{}\", \"lsb\": {}, \"bits\": {}, \"doc\": \"{}\"}}", f.name, f.lsb, f.bits, q(f.doc)))
                .collect();
            format!(
                "    {{\"name\": \"{}\", \"offset\": {}, \"access\": \"{}\", \"fields\": [{}], \"doc\": \"{}\"}}",
                r.name,
                r.offset,
                r.access.name(),
                fields.join(", "),
                q(r.doc)
            )
        })
        .collect();
    format!(
        "{{\n  \"generated_by\": \"accelgen generate (do not edit)\",\n  \"preset\": \"{}\",\n  \"id\": {AXI_ID_VALUE},\n  \"registers\": [\n{}\n  ]\n}}\n",
        q(preset),
        regs.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets word-aligned, increasing, below the core reads; fields inside 32 bits and not
    /// overlapping.
    #[test]
    fn the_map_is_well_formed() {
        for w in AXI_REGISTERS.windows(2) {
            assert!(w[0].offset < w[1].offset, "{} before {}", w[0].name, w[1].name);
        }
        for r in AXI_REGISTERS {
            assert_eq!(r.offset % 4, 0, "{}", r.name);
            assert!(r.offset <= AXI_CORE_READS, "{}", r.name);
            let mut used = 0u64;
            for f in r.fields {
                let m = ((1u64 << f.bits) - 1) << f.lsb;
                assert!(u32::try_from(m).is_ok() && used & m == 0, "{}.{}", r.name, f.name);
                used |= m;
            }
        }
        assert_eq!(axi_register("PROG_HI"), 0x20);
    }

    /// The header defines every register and field once; the JSON parses and lists the same.
    #[test]
    fn header_and_json_list_every_register() {
        let h = c_header("tiny");
        let text = json_map("tiny");
        assert!(text.starts_with(JSON_MARKER));
        let j: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let regs = j["registers"].as_array().unwrap();
        assert_eq!(regs.len(), AXI_REGISTERS.len());
        for (r, v) in AXI_REGISTERS.iter().zip(regs) {
            assert!(h.contains(&format!("#define ACCELGEN_{}_OFFSET 0x{:03X}u", r.name, r.offset)), "{}", r.name);
            assert_eq!((v["name"].as_str(), v["offset"].as_u64(), v["access"].as_str()), (Some(r.name), Some(u64::from(r.offset)), Some(r.access.name())));
            assert_eq!(v["fields"].as_array().unwrap().len(), r.fields.len());
        }
        for r in crate::READ_REGISTERS {
            assert!(h.contains(&format!("#define ACCELGEN_CORE_{} {}u", r.name, r.addr)), "{}", r.name);
        }
    }
}
