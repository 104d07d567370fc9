//! The accelgen instruction set (patents.md §3).
//!
//! **One table** ([`TABLE`]) lists every opcode: its name, code, target functional module, fields
//! and their widths. It drives the encoder and decoder here, the compressor ([`compress`]), the
//! disassembler ([`Instr::disassemble`]) and the table in `docs/isa.md` ([`markdown_table`]); adding
//! an opcode is one row.
//!
//! Encoding: an instruction is `OPCODE_BITS` of opcode followed by its fields in table order,
//! least-significant bit first; its length is fixed by its opcode. Each functional module has one
//! control register; every opcode of a module writes its own fields of that register.

pub mod compress;
pub mod soc;

/// Bits of the opcode at the start of every instruction.
pub const OPCODE_BITS: u32 = 5;

/// The functional modules, each with one control register (claim), plus control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Module {
    /// Internal memory access: load/store descriptors.
    Mem,
    /// The PE array: convolution setup.
    Pe,
    /// Accumulation.
    Acc,
    /// Activation: bias, requantization, relu.
    Act,
    /// Pooling: window, stride, mode, shape, clock divider.
    Pool,
    /// Synchronisation and program control (no module register).
    Ctrl,
}

impl Module {
    /// The modules that own a register, in register-file order.
    pub const WITH_REGISTER: [Module; 5] = [Module::Mem, Module::Pe, Module::Acc, Module::Act, Module::Pool];

    /// The module's bit in the `modules` mask of `RUN` and `SYNC`: its place in
    /// [`Module::WITH_REGISTER`] (bit order mem, pe, acc, act, pool); `Ctrl` has none (0).
    pub const fn mask(self) -> u64 {
        let mut i = 0;
        while i < Module::WITH_REGISTER.len() {
            if Module::WITH_REGISTER[i] as u8 == self as u8 {
                return 1 << i;
            }
            i += 1;
        }
        0
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Module::Mem => "mem",
            Module::Pe => "pe",
            Module::Acc => "acc",
            Module::Act => "act",
            Module::Pool => "pool",
            Module::Ctrl => "ctrl",
        }
    }
}

/// `RUN`/`SYNC` mask bit of the data mover.
pub const M_MEM: u64 = Module::Mem.mask();
/// Mask bit of the conv engine (`pe`; `acc` and `act` are parts of it).
pub const M_PE: u64 = Module::Pe.mask();
/// Mask bit of accumulation (part of the conv engine).
pub const M_ACC: u64 = Module::Acc.mask();
/// Mask bit of activation (part of the conv engine).
pub const M_ACT: u64 = Module::Act.mask();
/// Mask bit of the pooling unit.
pub const M_POOL: u64 = Module::Pool.mask();
/// Every module of the mask.
pub const M_ALL: u64 = M_MEM | M_PE | M_ACC | M_ACT | M_POOL;

/// One of `accel_top`'s error codes (STATUS bits 8-11; docs/accelerator.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode {
    /// The code (never 0: 0 is no error).
    pub code: u8,
    /// What stopped the program.
    pub meaning: &'static str,
}

/// The decompressor reported a malformed instruction stream.
pub const ERR_STREAM: u8 = 1;
/// A transfer reached past an on-chip buffer.
pub const ERR_BOUNDS: u8 = 2;
/// An instruction reached the dispatcher that it cannot execute (a compressed form, `NOP`).
pub const ERR_NOT_DISPATCHABLE: u8 = 3;
/// The program was larger than the instruction buffer.
pub const ERR_PROGRAM_SIZE: u8 = 4;
/// The watchdog: an instruction waited too long for a module.
pub const ERR_WATCHDOG: u8 = 5;
/// A `RUN` of a module whose registers hold a zero size, stride or tile count.
pub const ERR_BAD_PARAMETERS: u8 = 6;
/// The memory answered a transfer with an error (on `accel_axi`: an AXI response other than OKAY).
pub const ERR_BUS: u8 = 7;

/// Every error code, in code order: the hardware, the command's messages and the docs read it.
pub const ERRORS: &[ErrorCode] = &[
    ErrorCode { code: ERR_STREAM, meaning: "malformed instruction stream" },
    ErrorCode { code: ERR_BOUNDS, meaning: "a transfer reached past an on-chip buffer" },
    ErrorCode { code: ERR_NOT_DISPATCHABLE, meaning: "an instruction the dispatcher cannot execute" },
    ErrorCode { code: ERR_PROGRAM_SIZE, meaning: "the program is larger than the instruction buffer" },
    ErrorCode { code: ERR_WATCHDOG, meaning: "watchdog: an instruction waited too long for a module" },
    ErrorCode { code: ERR_BAD_PARAMETERS, meaning: "a RUN with a zero size, stride or tile count in its registers" },
    ErrorCode { code: ERR_BUS, meaning: "the memory bus answered a transfer with an error (AXI SLVERR or DECERR)" },
];

/// What an error code means (`unknown` for a code the table does not have).
pub fn error_meaning(code: u64) -> &'static str {
    ERRORS.iter().find(|e| u64::from(e.code) == code).map_or("unknown", |e| e.meaning)
}

/// One of `accel_top`'s host registers (docs/accelerator.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    /// Its address on the host port (`reg_raddr` for reads, `reg_addr` for writes).
    pub addr: u8,
    /// Its name.
    pub name: &'static str,
    /// What it holds, or what a write does.
    pub doc: &'static str,
}

/// The registers the host reads (`reg_raddr` → `reg_rdata` a cycle later), 32 bits each.
pub const READ_REGISTERS: &[Register] = &[
    Register { addr: 0, name: "STATUS", doc: "bit 0 busy, 1 done, 2 error, 3 decoding, 4 conv engine done, 5 pooling done, 8-11 error code, 12 program overflow" },
    Register { addr: 1, name: "CYCLES", doc: "cycles since start" },
    Register { addr: 2, name: "INSTRUCTIONS", doc: "instructions dispatched" },
    Register { addr: 3, name: "DISPATCH_STALLS", doc: "cycles an instruction waited for a module" },
    Register { addr: 4, name: "CONV_BUSY", doc: "cycles the conv engine was busy" },
    Register { addr: 5, name: "POOL_BUSY", doc: "cycles the pooling unit was busy" },
    Register { addr: 6, name: "MEM_BUSY", doc: "cycles the data mover was busy" },
    Register { addr: 7, name: "MEM_STALLS", doc: "cycles a memory request waited for `m_req_ready`" },
    Register { addr: 8, name: "WORDS", doc: "program words accepted" },
    Register { addr: 9, name: "POOL_DIV", doc: "the pooling unit's clock divider in force" },
    Register { addr: 10, name: "POOL_ENABLED", doc: "cycles the pooling unit was busy with its clock enable high" },
    Register { addr: 11, name: "MEM_WAIT", doc: "cycles an instruction waited for the data mover (busy while the instruction needs it idle)" },
    Register { addr: 12, name: "CONV_WAIT", doc: "cycles an instruction waited for the conv engine (busy while the instruction needs it idle)" },
    Register { addr: 13, name: "POOL_WAIT", doc: "cycles an instruction waited for the pooling unit (busy while the instruction needs it idle)" },
];

/// The registers the host writes (`reg_we`, `reg_addr`, `reg_wdata`).
pub const WRITE_REGISTERS: &[Register] = &[
    Register { addr: 0, name: "DATA", doc: "append a program word to the instruction buffer (`isa.buffer_depth` words; one past capacity sets the overflow flag and is dropped)" },
    Register { addr: 1, name: "CTRL", doc: "bit 0 start (clears the counters and status and puts every module register, `MEM_SHAPE`, `MEM_ROWS` and the pooling divider back to their reset values, so a loaded program runs again the same: write the next input into memory and start; refused with error 4 after an overflow), bit 1 clear (status, buffer pointer)" },
    Register { addr: 2, name: "WATCHDOG", doc: "the most cycles one instruction may wait for a module; 0 (reset) is no limit" },
];

/// The address of read register `name` (an unknown name stops the build in a constant).
pub const fn read_register(name: &str) -> u8 {
    let mut i = 0;
    while i < READ_REGISTERS.len() {
        if str_eq(READ_REGISTERS[i].name, name) {
            return READ_REGISTERS[i].addr;
        }
        i += 1;
    }
    panic!("no read register of that name");
}

/// The address of write register `name`.
pub const fn write_register(name: &str) -> u8 {
    let mut i = 0;
    while i < WRITE_REGISTERS.len() {
        if str_eq(WRITE_REGISTERS[i].name, name) {
            return WRITE_REGISTERS[i].addr;
        }
        i += 1;
    }
    panic!("no write register of that name");
}

/// One field of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Name (as in the disassembly).
    pub name: &'static str,
    /// Width in bits.
    pub bits: u32,
}

/// One row of the opcode table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpInfo {
    /// Mnemonic.
    pub name: &'static str,
    /// Opcode value.
    pub code: u8,
    /// Target module.
    pub module: Module,
    /// Fields, in encoding order.
    pub fields: &'static [Field],
    /// What it does.
    pub doc: &'static str,
}

impl OpInfo {
    /// Length in bits: the opcode and the fields, then zero bits up to a multiple of
    /// [`ALIGN_BITS`] (instructions start on 4-bit boundaries of the packed stream, so the
    /// hardware unpacker picks among 16 positions in a 64-bit word, not 64: docs/isa.md).
    pub const fn len(&self) -> u32 {
        self.field_bits().div_ceil(ALIGN_BITS) * ALIGN_BITS
    }

    /// The opcode's and the fields' bits, without the alignment.
    pub const fn field_bits(&self) -> u32 {
        let mut n = OPCODE_BITS;
        let mut i = 0;
        while i < self.fields.len() {
            n += self.fields[i].bits;
            i += 1;
        }
        n
    }

    /// Never true: every instruction has an opcode (clippy's len/is_empty pairing).
    pub fn is_empty(&self) -> bool {
        false
    }
}

const fn f(name: &'static str, bits: u32) -> Field {
    Field { name, bits }
}

/// Instruction lengths are multiples of this many bits.
pub const ALIGN_BITS: u32 = 4;

/// Opcode of the no-op (eight zero bits; the packer never writes one).
pub const NOP: u8 = 0;
/// Opcode that ends a program.
pub const END: u8 = 31;

/// The opcode table.
pub const TABLE: &[OpInfo] = &[
    OpInfo { name: "NOP", code: NOP, module: Module::Ctrl, fields: &[], doc: "no operation: eight bits (the opcode and three zero bits) that issue nothing (the packer never writes one; zero bits after `END` are not read)" },
    OpInfo {
        name: "MEM_LOAD",
        code: 1,
        module: Module::Mem,
        fields: &[f("target", 2), f("addr", 26), f("words", 20)],
        doc: "load `words` elements from external memory at byte address `addr` into target 0 first cache, 1 weight buffer, 2 bias buffer (with `MEM_SHAPE.half`: the scale bank, each channel's `ACT_SCALE` scale word, placed as the biases), 3 feature memory (memory is packed: one byte per int8 element, four little-endian bytes per int32 bias or scale word)",
    },
    OpInfo {
        name: "MEM_STORE",
        code: 2,
        module: Module::Mem,
        fields: &[f("source", 1), f("addr", 26), f("words", 20)],
        doc: "store `words` elements of source 0 conv output buffer, 1 pooling output to external memory at byte address `addr` (one byte each; four, little-endian int32, for conv sums when `ACT_REQUANT.en` is 0)",
    },
    OpInfo {
        name: "PE_SHAPE",
        code: 3,
        module: Module::Pe,
        fields: &[f("h", 10), f("w", 10), f("ho", 10), f("wo", 10), f("kg", 3)],
        doc: "geometry of a conv run: input rows loaded and width, output rows and width of the band; `kg` ≥ 2: PE row r reads its first-cache bank (r mod `kg`) input rows further down, so consecutive rows carry consecutive kernel rows of one input; 1: tap rows, each PE row reads at the offset and pads by the tap of its `PE_ROWTAP` entry (docs/conv-array.md; 0 after reset: every row at the same address)",
    },
    OpInfo {
        name: "PE_KERNEL",
        code: 4,
        module: Module::Pe,
        fields: &[f("kh", 5), f("kw", 5), f("sh", 3), f("sw", 3), f("ph", 3), f("pw", 3), f("k", 3)],
        doc: "kernel, stride and padding of a conv run (`ph`: padding rows above the first loaded row; rows past the loaded ones are padding too); `k`: kernels each PE uses per input period (0: all K of the configuration; 2..=7 and at most K: that many, a slow cycle of `k` fast cycles and output tiles of C·`k` channels, docs/conv-array.md; 1 or more than K is refused)",
    },
    OpInfo {
        name: "ACC_TILES",
        code: 5,
        module: Module::Acc,
        fields: &[f("ic_tiles", 8), f("oc_tiles", 8), f("keep", 1), f("drain", 1), f("fhalf", 1), f("ohalf", 1)],
        doc: "accumulation: input- and output-channel tiles of the run; `keep` adds to the sums a previous run kept (a later input-channel group), `drain` adds the bias, requantizes and writes the output buffer (the last group; else the sums are kept, at most 2 output tiles); `fhalf`, `ohalf`: the run reads the first cache and writes the output buffer from their upper half (double buffering)",
    },
    OpInfo {
        name: "ACT_REQUANT",
        code: 6,
        module: Module::Act,
        fields: &[f("en", 1), f("multiplier", 15), f("shift", 6), f("zero_point", 8), f("relu", 1)],
        doc: "activation: requantization (multiplier, shift, zero point two's complement) and relu",
    },
    OpInfo {
        name: "POOL_WINDOW",
        code: 7,
        module: Module::Pool,
        fields: &[f("avg", 1), f("kh", 4), f("kw", 4), f("sh", 4), f("sw", 4), f("ph", 2), f("pw", 2)],
        doc: "pooling mode (1 average), window, stride, padding",
    },
    OpInfo {
        name: "POOL_SHAPE",
        code: 8,
        module: Module::Pool,
        fields: &[f("c", 12), f("h", 10), f("w", 10), f("ho", 10), f("wo", 10)],
        doc: "geometry of a pooling run: channels, input height and width, output height and width",
    },
    OpInfo {
        name: "POOL_CLOCK",
        code: 9,
        module: Module::Pool,
        fields: &[f("divider", 8)],
        doc: "pooling clock divider, applied when the running convolution is done",
    },
    OpInfo {
        name: "RUN",
        code: 10,
        module: Module::Ctrl,
        fields: &[f("modules", 5)],
        doc: "start the modules in the mask (bit order mem, pe, acc, act, pool)",
    },
    OpInfo {
        name: "SYNC",
        code: 11,
        module: Module::Ctrl,
        fields: &[f("modules", 5)],
        doc: "wait until the modules in the mask are done",
    },
    OpInfo {
        name: "MEM_ADD",
        code: MEM_ADD,
        module: Module::Mem,
        fields: &[f("slot", 3), f("delta", 18)],
        doc: "compressed form of a transfer: the last issued `MEM_LOAD` of target `slot` (0-3) or `MEM_STORE` of source `slot`-4 (4, 5) again with `addr` + `delta` (two's complement) and the same `words`; the decompressor writes the full instruction",
    },
    OpInfo {
        name: "REPEAT",
        code: REPEAT,
        module: Module::Ctrl,
        fields: &[f("dist", 8), f("count", 12)],
        doc: "compressed form of a run: issue `count`+1 instructions, each a copy of the one issued `dist`+1 places back, a transfer's `addr` continued by its step from the one 2(`dist`+1) back (same opcode and target; else copied as is); expanded by the decompressor",
    },
    OpInfo {
        name: "MEM_SHAPE",
        code: 14,
        module: Module::Mem,
        fields: &[f("len", 20), f("stride", 26), f("half", 1)],
        doc: "shape of the following transfers: external memory is accessed in chunks of `len` elements (0: one chunk), `stride` bytes apart; a chunk is one channel of the on-chip layout; `half`: first-cache loads and output-buffer stores use the buffer's upper half, bias-buffer loads go to the scale bank",
    },
    OpInfo {
        name: "MEM_ROWS",
        code: 19,
        module: Module::Mem,
        fields: &[f("run", 12), f("rows", 12), f("step", 26), f("bcast", 1)],
        doc: "row level of the following transfers' external side: with `run` ≠ 0, each chunk is `rows` runs of `run` elements, `step` bytes apart (element j of a chunk at its start + (j / `run`)·`step` + (j mod `run`)·size, j < `run`·`rows`; `rows` 0 counts as 4,096), so a tile of a wider tensor moves as one transfer, a chunk per channel; `MEM_SHAPE.len` still places the chunks on chip (the compiler sets it to `run`·`rows`); `run` 0 (reset): each chunk is contiguous; `bcast`: a first-cache load writes each chunk into every bank (the PE rows read it at their own row offsets, `PE_SHAPE.kg`), 0 after reset",
    },
    OpInfo {
        name: "POOL_GEOM",
        code: 15,
        module: Module::Pool,
        fields: &[f("hb", 10), f("xcols", 12)],
        doc: "pooling derived geometry: feature-memory rows per channel and bank, ceil((h + padding above and below) / k); padded columns read per row band, a multiple of n",
    },
    OpInfo {
        name: "MEM_COPY",
        code: 16,
        module: Module::Mem,
        fields: &[f("words", 20)],
        doc: "copy `words` values on chip from the conv output buffer (the store layout of source 0, `MEM_SHAPE` len and half) into the feature memory (the load layout of target 3): pooling takes the conv output without a round trip through external memory",
    },
    OpInfo {
        name: "PE_PAD",
        code: 17,
        module: Module::Pe,
        fields: &[f("value", 8)],
        doc: "the value padding pixels stream into the PE array (two's complement; an imported model's input zero point, docs/onnx.md); 0 after reset",
    },
    OpInfo {
        name: "ACT_SCALE",
        code: 18,
        module: Module::Act,
        fields: &[f("ort", 1), f("sig", 24), f("exp", 8), f("per_channel", 1)],
        doc: "ONNX Runtime's requantization: with `ort`, y = round_half_even(float32(acc) · float32(sig · 2^exp)) + zero point, the product rounded to float32 first, computed exactly in integers (docs/onnx.md); ACT_REQUANT's `zero_point`, `relu` and `en` apply, its `multiplier` and `shift` do not; `exp` two's complement; with `per_channel`, each output channel's scale comes from the scale bank (one 32-bit word per channel, `sig` in bits 23:0 and `exp` in 31:24, loaded by `MEM_LOAD` target 2 with `MEM_SHAPE.half`, placed as the biases) and `sig`, `exp` are unused; `ort`, `per_channel` 0 after reset",
    },
    OpInfo {
        name: "PE_ROWTAP",
        code: 20,
        module: Module::Pe,
        fields: &[f("group", 3), f("row", 6), f("off", 16), f("dy", 4), f("dx", 4)],
        doc: "tap rows (`PE_SHAPE.kg` = 1): in the passes of input-channel tile `group` (0-7), PE row `row` reads its first-cache bank `off` entries past the slot's address (16-bit wrap) and streams the padding value where the slot's padded input pixel moved by (`dy`, `dx`) is padding, so each row carries its own (input channel, kernel tap) pair (docs/conv-array.md); every entry 0 after reset",
    },
    OpInfo {
        name: "PE_COLS",
        code: 21,
        module: Module::Pe,
        fields: &[f("groups", 2), f("shift", 4)],
        doc: "column groups of a conv run: the C PE columns split into 2^`groups` groups (1, 2 or 4; C divisible by it) of w = C / 2^`groups` columns; group g accumulates the slot of output column x + g·`shift` into output column x, the run's slots are ho × (wo + (2^`groups` − 1)·`shift`) a pass, and at the drain column c < w takes the sum of columns c, c + w, … (output tiles of w·k channels; docs/conv-array.md); 0 after reset: one group",
    },
    OpInfo {
        name: "MEM_LOADADD",
        code: 22,
        module: Module::Mem,
        fields: &[f("addr", 26), f("words", 20)],
        doc: "load-add, a residual add on the conv output before it is stored: element i of `words` int8 elements at external byte address `addr` (read as `MEM_LOAD` reads them: `MEM_SHAPE` chunks, `MEM_ROWS` runs) meets the conv output buffer element that a `MEM_STORE` of source 0 with the same shape reads as its element i (`MEM_SHAPE.len` and `half`, the run's kernels); the add unit (`ACT_ADDK`, `ACT_ADD`) sums the two and writes the int8 result back to that place of the output buffer, so the next store stores the sums (docs/accelerator.md); needs requantized output (`ACT_REQUANT.en`)",
    },
    OpInfo {
        name: "ACT_ADDK",
        code: 23,
        module: Module::Act,
        fields: &[f("which", 2), f("bits", 32)],
        doc: "a constant of the add unit, float32 bits (ONNX Runtime's QLinearAdd, docs/arithmetic.md): `which` 0 r_a = scale_a / scale_y, 1 r_b = scale_b / scale_y, 2 fixed = zp_y − fma(r_a, zp_a, r_b · zp_b); 3 is refused; each 0 after reset",
    },
    OpInfo {
        name: "ACT_ADD",
        code: 24,
        module: Module::Act,
        fields: &[f("qmin", 8), f("swap", 1)],
        doc: "the add unit's lowest output `qmin` (two's complement: −128, or the output zero point under a fused ReLU) and its operand order: y = max(clamp(round_half_even(fma(a, r_a, fma(b, r_b, fixed))), −128, 127), qmin) with a the conv output element and b the `MEM_LOADADD` element, or the other way round with `swap`; 0 after reset",
    },
    OpInfo { name: "END", code: END, module: Module::Ctrl, fields: &[], doc: "end of program" },
];

/// Opcode of the transfer delta form (never written to a module register).
pub const MEM_ADD: u8 = 12;
/// Opcode of the repeat form (never written to a module register).
pub const REPEAT: u8 = 13;

/// True for the forms that exist only in compressed streams (`MEM_ADD`, `REPEAT`): the compiler
/// never emits them and the decompressor expands them.
pub fn is_compressed_form(code: u8) -> bool {
    code == MEM_ADD || code == REPEAT
}

/// Where a field sits in an instruction: its first bit (the opcode is bits 0..OPCODE_BITS) and
/// its width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldPos {
    /// First bit.
    pub offset: u32,
    /// Width in bits.
    pub bits: u32,
}

pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The position of field `field` of opcode `op` in `table`; in a constant context an unknown
/// name stops the build.
pub const fn field_in(table: &[OpInfo], op: &str, field: &str) -> FieldPos {
    let mut i = 0;
    while i < table.len() {
        if str_eq(table[i].name, op) {
            let mut offset = OPCODE_BITS;
            let mut j = 0;
            while j < table[i].fields.len() {
                let f = table[i].fields[j];
                if str_eq(f.name, field) {
                    return FieldPos { offset, bits: f.bits };
                }
                offset += f.bits;
                j += 1;
            }
            panic!("the opcode has no field of that name");
        }
        i += 1;
    }
    panic!("no opcode of that name");
}

/// The position of a field in [`TABLE`]: what the hardware decoders slice.
pub const fn field(op: &str, field: &str) -> FieldPos {
    field_in(TABLE, op, field)
}

/// The code of opcode `op` in [`TABLE`] (an unknown name stops the build).
pub const fn opcode(op: &str) -> u8 {
    let mut i = 0;
    while i < TABLE.len() {
        if str_eq(TABLE[i].name, op) {
            return TABLE[i].code;
        }
        i += 1;
    }
    panic!("no opcode of that name");
}

/// The table row of an opcode.
pub fn op(code: u8) -> Option<&'static OpInfo> {
    TABLE.iter().find(|o| o.code == code)
}

/// The table row of a mnemonic.
pub fn op_named(name: &str) -> Option<&'static OpInfo> {
    TABLE.iter().find(|o| o.name == name)
}

/// The longest instruction in bits.
pub fn max_len() -> u32 {
    TABLE.iter().map(|o| o.len()).max().unwrap_or(OPCODE_BITS)
}

/// One instruction: an opcode and a value per field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Instr {
    /// Opcode.
    pub code: u8,
    /// Field values, in table order.
    pub values: Vec<u64>,
}

impl Instr {
    /// An instruction by mnemonic and field values; errors name the field and its range.
    pub fn new(name: &str, values: &[u64]) -> Result<Instr, String> {
        let info = op_named(name).ok_or_else(|| format!("unknown instruction {name}"))?;
        if values.len() != info.fields.len() {
            return Err(format!("{name} takes {} fields, got {}", info.fields.len(), values.len()));
        }
        for (f, &v) in info.fields.iter().zip(values) {
            if v >> f.bits != 0 {
                return Err(format!(
                    "{name}.{} = {v} is out of range: allowed 0..={}",
                    f.name,
                    (1u64 << f.bits) - 1
                ));
            }
        }
        Ok(Instr { code: info.code, values: values.to_vec() })
    }

    /// Its table row (the opcode is always valid for a constructed instruction).
    pub fn info(&self) -> &'static OpInfo {
        op(self.code).expect("constructed instructions have table opcodes")
    }

    /// Length in bits.
    pub fn len(&self) -> u32 {
        self.info().len()
    }

    /// Never true (clippy's len/is_empty pairing).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The encoded bits, LSB first (opcode in the low bits).
    pub fn encode(&self) -> u128 {
        let mut bits = self.code as u128;
        let mut at = OPCODE_BITS;
        for (f, &v) in self.info().fields.iter().zip(&self.values) {
            bits |= (v as u128) << at;
            at += f.bits;
        }
        bits
    }

    /// Decodes the instruction whose opcode is in the low bits of `bits` (more bits may follow).
    pub fn decode(bits: u128) -> Result<Instr, String> {
        let code = (bits & ((1 << OPCODE_BITS) - 1)) as u8;
        let info = op(code).ok_or_else(|| format!("illegal opcode {code}"))?;
        let mut at = OPCODE_BITS;
        let mut values = Vec::with_capacity(info.fields.len());
        for f in info.fields {
            values.push(((bits >> at) & ((1u128 << f.bits) - 1)) as u64);
            at += f.bits;
        }
        Ok(Instr { code, values })
    }

    /// `MEM_LOAD target=1 addr=4096 words=2304`.
    pub fn disassemble(&self) -> String {
        let info = self.info();
        let mut s = info.name.to_string();
        for (f, v) in info.fields.iter().zip(&self.values) {
            s += &format!(" {}={v}", f.name);
        }
        s
    }
}

/// The opcode table as Markdown (the source of the table in `docs/isa.md`).
pub fn markdown_table() -> String {
    let mut s = String::from("| opcode | name | module | length (bits) | fields (bits) | what it does |\n|---|---|---|---|---|---|\n");
    for o in TABLE {
        let fields: Vec<String> = o.fields.iter().map(|f| format!("{} ({})", f.name, f.bits)).collect();
        s += &format!(
            "| {} | `{}` | {} | {} | {} | {} |\n",
            o.code,
            o.name,
            o.module.name(),
            o.len(),
            if fields.is_empty() { "—".to_string() } else { fields.join(", ") },
            o.doc
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_unique_codes_and_fits_the_opcode_width() {
        for (i, a) in TABLE.iter().enumerate() {
            assert!((a.code as u32) < 1 << OPCODE_BITS, "{}", a.name);
            assert!(a.len() <= 64, "{} is {} bits", a.name, a.len());
            for b in &TABLE[i + 1..] {
                assert_ne!(a.code, b.code, "{} and {}", a.name, b.name);
                assert_ne!(a.name, b.name);
            }
        }
        assert_eq!(op(NOP).unwrap().len(), 8, "the opcode and three zero bits");
        assert_eq!(Instr::decode(0).unwrap().code, NOP, "zero bits are padding");
        for o in TABLE {
            assert_eq!(o.len() % ALIGN_BITS, 0, "{}: a whole number of nibbles", o.name);
            assert!(o.len() >= o.field_bits() && o.len() < o.field_bits() + ALIGN_BITS, "{}", o.name);
        }
    }

    #[test]
    fn every_opcode_round_trips_through_its_encoding() {
        for o in TABLE {
            let values: Vec<u64> = o.fields.iter().map(|f| (1u64 << f.bits) - 1).collect();
            let i = Instr::new(o.name, &values).unwrap();
            assert_eq!(Instr::decode(i.encode()).unwrap(), i, "{}", o.name);
            assert!(i.encode() < 1u128 << o.len());
        }
    }

    #[test]
    fn field_positions_follow_the_table_and_a_field_added_to_a_copy_moves_the_ones_after_it() {
        for o in TABLE {
            let mut at = OPCODE_BITS;
            for f in o.fields {
                assert_eq!(field(o.name, f.name), FieldPos { offset: at, bits: f.bits }, "{}.{}", o.name, f.name);
                at += f.bits;
            }
            assert_eq!(at, o.field_bits());
            assert_eq!(opcode(o.name), o.code);
        }
        // A copy of the table with a 3-bit field inserted first in MEM_LOAD.
        let widened: Vec<Field> = std::iter::once(f("new", 3)).chain(op_named("MEM_LOAD").unwrap().fields.iter().copied()).collect();
        let widened: &'static [Field] = Box::leak(widened.into_boxed_slice());
        let copy: Vec<OpInfo> =
            TABLE.iter().map(|o| if o.name == "MEM_LOAD" { OpInfo { fields: widened, ..*o } } else { *o }).collect();
        for name in ["target", "addr", "words"] {
            let (a, b) = (field("MEM_LOAD", name), field_in(&copy, "MEM_LOAD", name));
            assert_eq!((b.offset, b.bits), (a.offset + 3, a.bits), "{name}");
        }
        assert_eq!(field_in(&copy, "MEM_STORE", "addr"), field("MEM_STORE", "addr"));
    }

    #[test]
    fn out_of_range_fields_and_illegal_opcodes_are_errors() {
        assert_eq!(
            Instr::new("POOL_CLOCK", &[256]).unwrap_err(),
            "POOL_CLOCK.divider = 256 is out of range: allowed 0..=255"
        );
        assert_eq!(Instr::decode(25).unwrap_err(), "illegal opcode 25");
        assert_eq!(
            Instr::new("POOL_CLOCK", &[4]).unwrap().disassemble(),
            "POOL_CLOCK divider=4"
        );
    }
}

/// The host register map as Markdown (the source of the tables in `docs/accelerator.md`).
pub fn register_markdown() -> String {
    let table = |title: &str, regs: &[Register], what: &str| {
        let mut s = format!("{title}\n\n| addr | name | {what} |\n|---|---|---|\n");
        for r in regs {
            s += &format!("| {} | {} | {} |\n", r.addr, r.name, r.doc);
        }
        s
    };
    table("Writes (`reg_we`, `reg_addr`, `reg_wdata`, 64 bits):", WRITE_REGISTERS, "effect")
        + "\n"
        + &table("Reads (`reg_raddr`; `reg_rdata` one cycle later, 32 bits):", READ_REGISTERS, "meaning")
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn docs_accelerator_md_holds_the_current_register_map() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/accelerator.md"))
            .expect("docs/accelerator.md exists");
        assert!(
            doc.contains(&super::register_markdown()),
            "docs/accelerator.md's register tables are stale: paste accelgen_isa::register_markdown() into it"
        );
    }

    #[test]
    fn docs_isa_md_holds_the_current_opcode_table() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/isa.md"))
            .expect("docs/isa.md exists");
        assert!(
            doc.contains(&super::markdown_table()),
            "docs/isa.md's opcode table is stale: paste accelgen_isa::markdown_table() into it"
        );
    }
}
