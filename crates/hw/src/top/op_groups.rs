//! # OpGroups: which dispatch group an opcode belongs to
//!
//! The instruction queue (which decodes an arriving instruction's wait class) and the dispatcher
//! (which carries out an accepted one) sort opcodes into the same groups; this block is that one
//! decode, its opcodes taken from the opcode table (`accelgen_isa::TABLE`) as constants; the
//! register-write groups are the table's modules (an opcode added to the table for the conv
//! engine or the pooling unit is routed there with no change here).
//! Purely combinational, with no control input (docs/architecture.md, the rule on false loops).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `op` | in | 5 | an opcode |
//! | `xfer`, `store`, `copy`, `ladd` | out | 1 | `MEM_LOAD`/`MEM_STORE`/`MEM_COPY`/`MEM_LOADADD`; `MEM_STORE`; `MEM_COPY`; `MEM_LOADADD` |
//! | `mem_shape`, `mem_rows` | out | 1 | `MEM_SHAPE`; `MEM_ROWS` |
//! | `conv_reg` | out | 1 | a conv engine register write (`PE_SHAPE`, `PE_KERNEL`, `PE_PAD`, `PE_ROWTAP`, `PE_COLS`, `ACC_TILES`, `ACT_REQUANT`, `ACT_SCALE`, `ACT_ADDK`, `ACT_ADD`) |
//! | `pool_reg` | out | 1 | a pooling unit register write (`POOL_WINDOW`, `POOL_SHAPE`, `POOL_CLOCK`, `POOL_GEOM`) |
//! | `pool_clock`, `run`, `sync`, `is_end` | out | 1 | `POOL_CLOCK`; `RUN`; `SYNC`; `END` (`end` is a Verilog keyword) |

use rust_hdl::prelude::*;

use crate::isa::{opcode_const, opcode_set};
use accelgen_isa::Module;

/// The opcode groups of dispatch.
#[derive(LogicBlock)]
pub struct OpGroups {
    /// An opcode.
    pub op: Signal<In, Bits<5>>,
    /// A transfer (`MEM_LOAD`, `MEM_STORE`, `MEM_COPY`, `MEM_LOADADD`).
    pub xfer: Signal<Out, Bit>,
    /// `MEM_LOADADD`.
    pub ladd: Signal<Out, Bit>,
    /// `MEM_STORE`.
    pub store: Signal<Out, Bit>,
    /// `MEM_COPY`.
    pub copy: Signal<Out, Bit>,
    /// `MEM_SHAPE`.
    pub mem_shape: Signal<Out, Bit>,
    /// `MEM_ROWS`.
    pub mem_rows: Signal<Out, Bit>,
    /// A conv engine register write.
    pub conv_reg: Signal<Out, Bit>,
    /// A pooling unit register write.
    pub pool_reg: Signal<Out, Bit>,
    /// `POOL_CLOCK`.
    pub pool_clock: Signal<Out, Bit>,
    /// `RUN`.
    pub run: Signal<Out, Bit>,
    /// `SYNC`.
    pub sync: Signal<Out, Bit>,
    /// `END`.
    pub is_end: Signal<Out, Bit>,
    op_mem_load: Constant<Bits<5>>,
    op_mem_store: Constant<Bits<5>>,
    op_mem_copy: Constant<Bits<5>>,
    op_mem_ladd: Constant<Bits<5>>,
    op_mem_shape: Constant<Bits<5>>,
    op_mem_rows: Constant<Bits<5>>,
    op_pool_clock: Constant<Bits<5>>,
    op_run: Constant<Bits<5>>,
    op_sync: Constant<Bits<5>>,
    /// The conv engine's opcodes (modules `pe`, `acc`, `act` of the table) and the pooling
    /// unit's (`pool`), as opcode sets (bit `code` set for a member).
    conv_ops: Constant<Bits<32>>,
    pool_ops: Constant<Bits<32>>,
    op_end: Constant<Bits<5>>,
}

impl Default for OpGroups {
    fn default() -> Self {
        let op = opcode_const;
        block_with_defaults!(OpGroups {
            op_mem_load: op("MEM_LOAD"),
            op_mem_store: op("MEM_STORE"),
            op_mem_copy: op("MEM_COPY"),
            op_mem_ladd: op("MEM_LOADADD"),
            op_mem_shape: op("MEM_SHAPE"),
            op_mem_rows: op("MEM_ROWS"),
            op_pool_clock: op("POOL_CLOCK"),
            op_run: op("RUN"),
            op_sync: op("SYNC"),
            conv_ops: opcode_set(|o| matches!(o.module, Module::Pe | Module::Acc | Module::Act)),
            pool_ops: opcode_set(|o| o.module == Module::Pool),
            op_end: op("END"),
        } defaults {
            op, xfer, ladd, store, copy, mem_shape, mem_rows, conv_reg, pool_reg, pool_clock, run, sync, is_end,
        })
    }
}

impl Logic for OpGroups {
    #[hdl_gen]
    fn update(&mut self) {
        self.store.next = self.op.val() == self.op_mem_store.val();
        self.copy.next = self.op.val() == self.op_mem_copy.val();
        self.ladd.next = self.op.val() == self.op_mem_ladd.val();
        self.xfer.next = (self.op.val() == self.op_mem_load.val())
            | (self.op.val() == self.op_mem_store.val())
            | (self.op.val() == self.op_mem_copy.val())
            | (self.op.val() == self.op_mem_ladd.val());
        self.mem_shape.next = self.op.val() == self.op_mem_shape.val();
        self.mem_rows.next = self.op.val() == self.op_mem_rows.val();
        self.conv_reg.next = self.conv_ops.val().get_bit(self.op.val().index());
        self.pool_reg.next = self.pool_ops.val().get_bit(self.op.val().index());
        self.pool_clock.next = self.op.val() == self.op_pool_clock.val();
        self.run.next = self.op.val() == self.op_run.val();
        self.sync.next = self.op.val() == self.op_sync.val();
        self.is_end.next = self.op.val() == self.op_end.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accelgen_isa::TABLE;

    /// Every opcode of the table (and every unused code) lands in the groups its mnemonic names,
    /// the groups written out here by name: a reordered or renumbered table changes nothing.
    #[test]
    fn every_opcode_is_in_the_groups_its_name_says() {
        let mut g = OpGroups::default();
        g.connect_all();
        check_all(&g).unwrap();
        for code in 0..32u64 {
            let name = TABLE.iter().find(|i| u64::from(i.code) == code).map_or("", |i| i.name);
            g.op.next = code.into();
            assert!(simulate(&mut g, 100), "settles");
            let got = [
                g.xfer.val(), g.ladd.val(), g.store.val(), g.copy.val(), g.mem_shape.val(), g.mem_rows.val(), g.conv_reg.val(), g.pool_reg.val(),
                g.pool_clock.val(), g.run.val(), g.sync.val(), g.is_end.val(),
            ];
            let want = [
                ["MEM_LOAD", "MEM_STORE", "MEM_COPY", "MEM_LOADADD"].contains(&name),
                name == "MEM_LOADADD",
                name == "MEM_STORE",
                name == "MEM_COPY",
                name == "MEM_SHAPE",
                name == "MEM_ROWS",
                ["PE_SHAPE", "PE_KERNEL", "ACC_TILES", "ACT_REQUANT", "ACT_SCALE", "PE_PAD", "PE_ROWTAP", "PE_COLS", "ACT_ADDK", "ACT_ADD"].contains(&name),
                ["POOL_WINDOW", "POOL_SHAPE", "POOL_CLOCK", "POOL_GEOM"].contains(&name),
                name == "POOL_CLOCK",
                name == "RUN",
                name == "SYNC",
                name == "END",
            ];
            assert_eq!(got, want, "opcode {code} ({name})");
        }
    }

}
