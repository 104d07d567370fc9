//! Instruction fields as the hardware decodes them, with widths and offsets from the opcode table
//! (`accelgen_isa::field`), so no decoder writes a bit position by hand.
//!
//! rust-hdl's `#[hdl_gen]` turns a call `x.get_value_NAME()` into the Verilog slice
//! `x[OFFSET +: WIDTH]`, where OFFSET and WIDTH are `x.get_my_offset_NAME()` and
//! `x.get_my_width_NAME()` evaluated in Rust when the Verilog is generated (the hook it has for
//! `LogicStruct` fields). [`InstrFields`] gives every `Bits<N>` those three methods for each field
//! listed below, computed from the table; in simulation `get_value_NAME` is the same slice. The
//! emitted Verilog is what a hand-written `x.get_bits::<WIDTH>(OFFSET)` gives (offsets are 32-bit
//! literals either way), so moving a decoder onto the table changes no emitted line.
//!
//! Adding a decoded field is one line in the list; a field the table does not have stops the build.

use rust_hdl::prelude::*;

macro_rules! instr_fields {
    ($($name:ident = $op:literal . $field:literal),* $(,)?) => { paste::paste! {
        /// Every decoded field: (Rust name, opcode, field), in the order listed.
        pub const DECODED_FIELDS: &[(&str, &str, &str)] = &[$((stringify!($name), $op, $field)),*];

        /// Field slices of an instruction word (opcode in bits 0..5) for `#[hdl_gen]` code.
        pub trait InstrFields {
            /// The opcode.
            fn get_value_opcode(&self) -> Bits<{ accelgen_isa::OPCODE_BITS as usize }>;
            /// Width of the opcode (for the Verilog slice).
            fn get_my_width_opcode(&self) -> usize;
            /// First bit of the opcode (for the Verilog slice).
            fn get_my_offset_opcode(&self) -> u32;
            $(
                #[doc = concat!("`", $op, ".", $field, "`.")]
                fn [<get_value_ $name>](&self) -> Bits<{ accelgen_isa::field($op, $field).bits as usize }>;
                #[doc = concat!("Width of `", $op, ".", $field, "` (for the Verilog slice).")]
                fn [<get_my_width_ $name>](&self) -> usize;
                #[doc = concat!("First bit of `", $op, ".", $field, "` (for the Verilog slice).")]
                fn [<get_my_offset_ $name>](&self) -> u32;
            )*
        }

        impl<const N: usize> InstrFields for Bits<N> {
            fn get_value_opcode(&self) -> Bits<{ accelgen_isa::OPCODE_BITS as usize }> {
                self.get_bits::<{ accelgen_isa::OPCODE_BITS as usize }>(0)
            }
            fn get_my_width_opcode(&self) -> usize {
                accelgen_isa::OPCODE_BITS as usize
            }
            fn get_my_offset_opcode(&self) -> u32 {
                0
            }
            $(
                fn [<get_value_ $name>](&self) -> Bits<{ accelgen_isa::field($op, $field).bits as usize }> {
                    self.get_bits::<{ accelgen_isa::field($op, $field).bits as usize }>(accelgen_isa::field($op, $field).offset as usize)
                }
                fn [<get_my_width_ $name>](&self) -> usize {
                    accelgen_isa::field($op, $field).bits as usize
                }
                fn [<get_my_offset_ $name>](&self) -> u32 {
                    accelgen_isa::field($op, $field).offset
                }
            )*
        }
    }};
}

instr_fields! {
    load_target = "MEM_LOAD"."target",
    load_addr = "MEM_LOAD"."addr",
    load_words = "MEM_LOAD"."words",
    store_source = "MEM_STORE"."source",
    store_addr = "MEM_STORE"."addr",
    store_words = "MEM_STORE"."words",
    copy_words = "MEM_COPY"."words",
    ladd_addr = "MEM_LOADADD"."addr",
    ladd_words = "MEM_LOADADD"."words",
    addk_which = "ACT_ADDK"."which",
    addk_bits = "ACT_ADDK"."bits",
    add_qmin = "ACT_ADD"."qmin",
    add_swap = "ACT_ADD"."swap",
    shape_len = "MEM_SHAPE"."len",
    shape_stride = "MEM_SHAPE"."stride",
    shape_half = "MEM_SHAPE"."half",
    rows_run = "MEM_ROWS"."run",
    rows_rows = "MEM_ROWS"."rows",
    rows_step = "MEM_ROWS"."step",
    rows_bcast = "MEM_ROWS"."bcast",
    pe_h = "PE_SHAPE"."h",
    pe_w = "PE_SHAPE"."w",
    pe_ho = "PE_SHAPE"."ho",
    pe_wo = "PE_SHAPE"."wo",
    pe_kg = "PE_SHAPE"."kg",
    pe_kh = "PE_KERNEL"."kh",
    pe_kw = "PE_KERNEL"."kw",
    pe_sh = "PE_KERNEL"."sh",
    pe_sw = "PE_KERNEL"."sw",
    pe_ph = "PE_KERNEL"."ph",
    pe_pw = "PE_KERNEL"."pw",
    pe_k = "PE_KERNEL"."k",
    acc_ic_tiles = "ACC_TILES"."ic_tiles",
    acc_oc_tiles = "ACC_TILES"."oc_tiles",
    acc_keep = "ACC_TILES"."keep",
    acc_drain = "ACC_TILES"."drain",
    acc_fhalf = "ACC_TILES"."fhalf",
    acc_ohalf = "ACC_TILES"."ohalf",
    act_en = "ACT_REQUANT"."en",
    act_multiplier = "ACT_REQUANT"."multiplier",
    act_shift = "ACT_REQUANT"."shift",
    act_zero_point = "ACT_REQUANT"."zero_point",
    act_relu = "ACT_REQUANT"."relu",
    act_ort = "ACT_SCALE"."ort",
    act_sig = "ACT_SCALE"."sig",
    act_exp = "ACT_SCALE"."exp",
    act_per_channel = "ACT_SCALE"."per_channel",
    pe_pad = "PE_PAD"."value",
    rt_group = "PE_ROWTAP"."group",
    rt_row = "PE_ROWTAP"."row",
    rt_off = "PE_ROWTAP"."off",
    rt_dy = "PE_ROWTAP"."dy",
    rt_dx = "PE_ROWTAP"."dx",
    cols_groups = "PE_COLS"."groups",
    cols_shift = "PE_COLS"."shift",
    pool_avg = "POOL_WINDOW"."avg",
    pool_kh = "POOL_WINDOW"."kh",
    pool_kw = "POOL_WINDOW"."kw",
    pool_sh = "POOL_WINDOW"."sh",
    pool_sw = "POOL_WINDOW"."sw",
    pool_ph = "POOL_WINDOW"."ph",
    pool_pw = "POOL_WINDOW"."pw",
    pool_c = "POOL_SHAPE"."c",
    pool_h = "POOL_SHAPE"."h",
    pool_w = "POOL_SHAPE"."w",
    pool_ho = "POOL_SHAPE"."ho",
    pool_wo = "POOL_SHAPE"."wo",
    pool_divider = "POOL_CLOCK"."divider",
    pool_hb = "POOL_GEOM"."hb",
    pool_xcols = "POOL_GEOM"."xcols",
    run_modules = "RUN"."modules",
    sync_modules = "SYNC"."modules",
    add_slot = "MEM_ADD"."slot",
    add_delta = "MEM_ADD"."delta",
    repeat_dist = "REPEAT"."dist",
    repeat_count = "REPEAT"."count",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_slice_is_the_tables_field() {
        // A word with a distinct value in every bit position's neighbourhood: the slice of each
        // field, read through the trait, equals the bits the encoder put there.
        for &(name, op, field) in DECODED_FIELDS {
            let info = accelgen_isa::op_named(op).unwrap();
            let values: Vec<u64> = info.fields.iter().enumerate().map(|(i, f)| (i as u64 * 5 + 1) & ((1 << f.bits) - 1)).collect();
            let word = accelgen_isa::Instr::new(op, &values).unwrap().encode();
            let i = info.fields.iter().position(|f| f.name == field).unwrap();
            let pos = accelgen_isa::field(op, field);
            let b = Bits::<64>::from(word as u64);
            assert_eq!(b.get_bits::<32>(pos.offset as usize).index() as u64 & ((1 << pos.bits) - 1), values[i], "{name}");
        }
        let w = Bits::<64>::from(accelgen_isa::Instr::new("MEM_SHAPE", &[3, 70000, 1]).unwrap().encode() as u64);
        assert_eq!(w.get_value_shape_len().index(), 3);
        assert_eq!(w.get_value_shape_stride().index(), 70000);
        assert_eq!(w.get_value_shape_half().index(), 1);
        assert_eq!(w.get_my_offset_shape_stride(), 25);
        assert_eq!(w.get_my_width_shape_stride(), 26);
    }
}

/// The opcode `name` of the opcode table as a 5-bit constant, for a block that compares an
/// instruction's opcode with it.
pub fn opcode_const(name: &str) -> rust_hdl::prelude::Constant<rust_hdl::prelude::Bits<5>> {
    rust_hdl::prelude::Constant::new(u64::from(accelgen_isa::opcode(name)).into())
}

/// The opcodes of the table that `pick` selects, as a 32-bit set (bit `code` set): a block tests
/// an opcode's membership with one shift, and an opcode added to the table joins its group.
pub fn opcode_set(pick: impl Fn(&accelgen_isa::OpInfo) -> bool) -> rust_hdl::prelude::Constant<rust_hdl::prelude::Bits<32>> {
    let set = accelgen_isa::TABLE.iter().filter(|o| pick(o)).fold(0u64, |s, o| s | 1 << o.code);
    rust_hdl::prelude::Constant::new(set.into())
}
