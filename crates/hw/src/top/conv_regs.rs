//! # ConvRegs: the conv engine's control registers in `accel_top`
//!
//! One control register per functional module (patents.md §3): `PE_SHAPE`, `PE_KERNEL`,
//! `ACC_TILES`, `ACT_REQUANT`, `ACT_SCALE` and `PE_PAD` write the conv engine's fields, which this block holds and
//! drives into the engine's parameter ports, together with the derived parameters (products of
//! fields, in two registered stages: H·W, Ho·Wo, sh·W, ph·W, the passes
//! ic_tiles·oc_tiles·kh·kw and k·Ho·Wo, k the kernels the run uses: `PE_KERNEL.k`, or K where
//! it is 0) and the double-buffering bases. `bad` flags a zero size, stride or tile count, or a
//! `PE_KERNEL.k` of 1 or above K (a `RUN` of the engine with them is refused): each size instruction's
//! fields are checked as it is written, and the flag is registered.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `we`, `op`, `payload` | in | 1, 5, 64 | an accepted instruction, a cycle after its acceptance |
//! | `clear` | in | 1 | a program starts: every field written with zeros, as after reset |
//! | `geom` | out | [`ConvGeometry`] | the engine's layer parameters |
//! | `p_rq_en`, `p_mult`, `p_shift`, `p_zp`, `p_relu`, `p_sig`, `p_exp`, `p_pc` | out | 1, 16, 8, 8, 1, 24, 8, 1 | the engine's requantizer parameters (ONNX Runtime's mode is `geom.ort`; `p_pc`: per-channel scales) |
//! | `p_pad` | out | 8 | the value padding pixels stream as |
//! | `p_kg` | out | 16 | row groups, `PE_SHAPE.kg` (PE row r reads (r mod kg) input rows further) |
//! | `bad` | out | 1 | a zero size, stride or tile count, or a `k` of 1 or above K |
//!
//! The dispatcher lets nothing read the parameters until three cycles after the last write
//! (the write's cycle and the two product stages).

use rust_hdl::prelude::*;

use crate::isa::{opcode_const, InstrFields};
use crate::pe::ConvGeometry;

/// The conv engine's registers.
#[derive(LogicBlock)]
pub struct ConvRegs {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Write the instruction's fields.
    pub we: Signal<In, Bit>,
    /// Its opcode.
    pub op: Signal<In, Bits<5>>,
    /// Its payload.
    pub payload: Signal<In, Bits<64>>,
    /// A program starts: every register back to its reset value (a started program finds the
    /// registers as after reset, however the last one left them).
    pub clear: Signal<In, Bit>,
    /// The engine's layer parameters (its `p_*` ports but the requantizer's).
    pub geom: Signal<Out, ConvGeometry>,
    /// Requantize.
    pub p_rq_en: Signal<Out, Bit>,
    /// Multiplier.
    pub p_mult: Signal<Out, Bits<16>>,
    /// Shift.
    pub p_shift: Signal<Out, Bits<8>>,
    /// Zero point.
    pub p_zp: Signal<Out, Bits<8>>,
    /// ReLU.
    pub p_relu: Signal<Out, Bit>,
    /// Its scale's significand.
    pub p_sig: Signal<Out, Bits<24>>,
    /// Its scale's exponent.
    pub p_exp: Signal<Out, Bits<8>>,
    /// Per-channel scales (`ACT_SCALE.per_channel`).
    pub p_pc: Signal<Out, Bit>,
    /// The padding value.
    pub p_pad: Signal<Out, Bits<8>>,
    /// Row groups (`PE_SHAPE.kg`).
    pub p_kg: Signal<Out, Bits<16>>,
    /// A zero size, stride or tile count.
    pub bad: Signal<Out, Bit>,
    /// Column groups (`PE_COLS`): slots per row, Wo + (groups − 1)·shift (`geom.wo` is Wo).
    pub p_wos: Signal<Out, Bits<16>>,
    /// log2 of the column groups.
    pub p_cg: Signal<Out, Bits<2>>,
    /// The shift between groups.
    pub p_gs: Signal<Out, Bits<16>>,
    /// `PE_ROWTAP` (the engine keeps the tap-row table): write entry (`rt_grp`, `rt_row`) with
    /// `rt_data` (off in bits 15..0, dy in 31..16, dx in 47..32); `rt_clr` clears every entry.
    pub rt_we: Signal<Out, Bit>,
    pub rt_clr: Signal<Out, Bit>,
    pub rt_grp: Signal<Out, Bits<3>>,
    pub rt_row: Signal<Out, Bits<6>>,
    pub rt_data: Signal<Out, Bits<48>>,
    /// The payload written: the instruction's, or zeros on `clear`.
    pl: Signal<Local, Bits<64>>,
    /// Opcodes, by module: the PE array's, accumulation's, activation's.
    op_pe_shape: Constant<Bits<5>>,
    op_pe_kernel: Constant<Bits<5>>,
    op_pe_pad: Constant<Bits<5>>,
    op_pe_rowtap: Constant<Bits<5>>,
    op_pe_cols: Constant<Bits<5>>,
    /// The `PE_COLS.groups` values the array's C columns allow (bit g: 2^g groups divide C).
    cg_allowed: Constant<Bits<4>>,
    /// `PE_COLS`: log2 of the column groups, the shift between groups, and a group count the
    /// columns do not allow (0 after reset and `clear`).
    cg: DFF<Bits<2>>,
    gs: DFF<Bits<16>>,
    bad_cols: DFF<Bit>,
    /// Derived: the slot row width wo + (groups − 1)·shift (first stage), the slots Ho·that
    /// (second stage).
    wos: DFF<Bits<16>>,
    slots: DFF<Bits<16>>,
    mx_slots: Signal<Local, Bits<32>>,
    /// (groups − 1)·shift.
    gext: Signal<Local, Bits<16>>,
    op_acc_tiles: Constant<Bits<5>>,
    op_act_requant: Constant<Bits<5>>,
    op_act_scale: Constant<Bits<5>>,
    /// K.
    kernels: Constant<Bits<16>>,
    /// Upper halves of the first cache and the output buffer.
    fc_half: Constant<Bits<16>>,
    out_half: Constant<Bits<16>>,
    h: DFF<Bits<16>>,
    w: DFF<Bits<16>>,
    ho: DFF<Bits<16>>,
    wo: DFF<Bits<16>>,
    kh: DFF<Bits<16>>,
    kw: DFF<Bits<16>>,
    sh: DFF<Bits<16>>,
    sw: DFF<Bits<16>>,
    ph: DFF<Bits<16>>,
    pw: DFF<Bits<16>>,
    ic: DFF<Bits<16>>,
    oc: DFF<Bits<16>>,
    keep: DFF<Bit>,
    drain: DFF<Bit>,
    fhalf: DFF<Bit>,
    ohalf: DFF<Bit>,
    /// Each size instruction's fields are non-zero (`PE_SHAPE`'s sizes, `PE_KERNEL`'s sizes and
    /// strides, `ACC_TILES`'s tile counts), checked as it is written.
    ok_shape: DFF<Bit>,
    ok_kernel: DFF<Bit>,
    ok_tiles: DFF<Bit>,
    rq_en: DFF<Bit>,
    mult: DFF<Bits<16>>,
    shift: DFF<Bits<8>>,
    zp: DFF<Bits<8>>,
    relu: DFF<Bit>,
    ort: DFF<Bit>,
    sig: DFF<Bits<24>>,
    exp: DFF<Bits<8>>,
    pc: DFF<Bit>,
    pad: DFF<Bits<8>>,
    /// Derived parameters: first stage H·W, Ho·Wo, sh·W, ph·W, tiles, taps; second stage passes,
    /// K·Ho·Wo.
    plane: DFF<Bits<16>>,
    pixels: DFF<Bits<16>>,
    shw: DFF<Bits<16>>,
    phw: DFF<Bits<16>>,
    tiles: DFF<Bits<16>>,
    taps: DFF<Bits<16>>,
    passes: DFF<Bits<16>>,
    kp: DFF<Bits<16>>,
    /// `PE_KERNEL.k` as written (0 after reset and `clear`).
    kk: DFF<Bits<16>>,
    /// `PE_SHAPE.kg`.
    kg: DFF<Bits<16>>,
    /// Kernels each PE uses, k: `kk`, or K where that is 0.
    keff: Signal<Local, Bits<16>>,
    /// `PE_KERNEL.k` of the payload, widened; it is 0 or 2..=K.
    kf: Signal<Local, Bits<16>>,
    kf_ok: Signal<Local, Bit>,
    bad_r: DFF<Bit>,
    /// Products before their registers (the compiler keeps each below 2^16).
    mx_plane: Signal<Local, Bits<32>>,
    mx_pixels: Signal<Local, Bits<32>>,
    mx_shw: Signal<Local, Bits<32>>,
    mx_phw: Signal<Local, Bits<32>>,
    mx_tiles: Signal<Local, Bits<32>>,
    mx_taps: Signal<Local, Bits<32>>,
    mx_passes: Signal<Local, Bits<32>>,
    mx_kp: Signal<Local, Bits<32>>,
}

impl ConvRegs {
    /// The registers of an engine with `kernels` kernels per PE, `cols` PE columns and the given
    /// first-cache and output-buffer depths.
    pub fn new(kernels: usize, cols: usize, first_cache_depth: usize, output_depth: usize) -> Self {
        let allowed = (0..3u64).filter(|g| cols % (1 << g) == 0).fold(0u64, |m, g| m | 1 << g);
        let op = opcode_const;
        block_with_defaults!(ConvRegs {
            op_pe_shape: op("PE_SHAPE"),
            op_pe_kernel: op("PE_KERNEL"),
            op_acc_tiles: op("ACC_TILES"),
            op_act_requant: op("ACT_REQUANT"),
            op_act_scale: op("ACT_SCALE"),
            op_pe_pad: op("PE_PAD"),
            op_pe_rowtap: op("PE_ROWTAP"),
            op_pe_cols: op("PE_COLS"),
            cg_allowed: Constant::new(allowed.into()),
            kernels: Constant::new((kernels as u64).into()),
            fc_half: Constant::new(((first_cache_depth / 2) as u64).into()),
            out_half: Constant::new(((output_depth / 2) as u64).into()),
        } defaults {
            clock, we, op, payload, clear, pl, geom, p_rq_en, p_mult, p_shift, p_zp, p_relu, p_sig, p_exp, p_pc, p_pad, bad, h, w, ho, wo,
            kh, kw, sh, sw, ph, pw, ic, oc, keep, drain, fhalf, ohalf, ok_shape, ok_kernel, ok_tiles,
            ort, sig, exp, pc, pad, rq_en, mult, shift, zp, relu, plane, pixels, shw,
            phw, tiles, taps, passes, kp, bad_r, mx_plane, mx_pixels, mx_shw, mx_phw, mx_tiles,
            mx_taps, mx_passes, mx_kp, kk, keff, kf, kf_ok, kg, p_kg, rt_we, rt_clr, rt_grp, rt_row, rt_data,
            cg, gs, bad_cols, wos, slots, mx_slots, gext, p_wos, p_cg, p_gs,
        })
    }
}

impl Logic for ConvRegs {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, h, w, ho, wo, kh, kw, sh, sw, ph, pw, ic, oc, keep, drain, fhalf, ohalf,
            ok_shape, ok_kernel, ok_tiles, ort, sig, exp, pc, pad, rq_en, mult, shift, zp, relu, plane, pixels, shw, phw, tiles, taps, passes, kp, bad_r, kk, kg,
            cg, gs, bad_cols, wos, slots
        );
        self.pl.next = self.payload.val();
        if self.clear.val() {
            self.pl.next = 0.into();
        }
        if (self.we.val() & (self.op.val() == self.op_pe_shape.val())) | self.clear.val() {
            self.h.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pe_h());
            self.w.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pe_w());
            self.ho.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pe_ho());
            self.wo.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pe_wo());
            self.kg.d.next = bit_cast::<16, 3>(self.pl.val().get_value_pe_kg());
            self.ok_shape.d.next = self.pl.val().get_value_pe_h().any()
                & self.pl.val().get_value_pe_w().any()
                & self.pl.val().get_value_pe_ho().any()
                & self.pl.val().get_value_pe_wo().any();
        }
        self.kf.next = bit_cast::<16, 3>(self.pl.val().get_value_pe_k());
        self.kf_ok.next = !self.kf.val().any() | (self.kf.val().get_bits::<2>(1).any() & (self.kf.val() <= self.kernels.val()));
        if (self.we.val() & (self.op.val() == self.op_pe_kernel.val())) | self.clear.val() {
            self.kk.d.next = self.kf.val();
            self.kh.d.next = bit_cast::<16, 5>(self.pl.val().get_value_pe_kh());
            self.kw.d.next = bit_cast::<16, 5>(self.pl.val().get_value_pe_kw());
            self.sh.d.next = bit_cast::<16, 3>(self.pl.val().get_value_pe_sh());
            self.sw.d.next = bit_cast::<16, 3>(self.pl.val().get_value_pe_sw());
            self.ph.d.next = bit_cast::<16, 3>(self.pl.val().get_value_pe_ph());
            self.pw.d.next = bit_cast::<16, 3>(self.pl.val().get_value_pe_pw());
            self.ok_kernel.d.next = self.pl.val().get_value_pe_kh().any()
                & self.pl.val().get_value_pe_kw().any()
                & self.pl.val().get_value_pe_sh().any()
                & self.pl.val().get_value_pe_sw().any()
                & self.kf_ok.val();
        }
        if (self.we.val() & (self.op.val() == self.op_acc_tiles.val())) | self.clear.val() {
            self.ic.d.next = bit_cast::<16, 8>(self.pl.val().get_value_acc_ic_tiles());
            self.oc.d.next = bit_cast::<16, 8>(self.pl.val().get_value_acc_oc_tiles());
            self.keep.d.next = self.pl.val().get_value_acc_keep().any();
            self.drain.d.next = self.pl.val().get_value_acc_drain().any();
            self.fhalf.d.next = self.pl.val().get_value_acc_fhalf().any();
            self.ohalf.d.next = self.pl.val().get_value_acc_ohalf().any();
            self.ok_tiles.d.next = self.pl.val().get_value_acc_ic_tiles().any() & self.pl.val().get_value_acc_oc_tiles().any();
        }
        if (self.we.val() & (self.op.val() == self.op_act_requant.val())) | self.clear.val() {
            self.rq_en.d.next = self.pl.val().get_value_act_en().any();
            self.mult.d.next = bit_cast::<16, 15>(self.pl.val().get_value_act_multiplier());
            self.shift.d.next = bit_cast::<8, 6>(self.pl.val().get_value_act_shift());
            self.zp.d.next = self.pl.val().get_value_act_zero_point();
            self.relu.d.next = self.pl.val().get_value_act_relu().any();
        }

        if (self.we.val() & (self.op.val() == self.op_act_scale.val())) | self.clear.val() {
            self.ort.d.next = self.pl.val().get_value_act_ort().any();
            self.sig.d.next = self.pl.val().get_value_act_sig();
            self.exp.d.next = self.pl.val().get_value_act_exp();
            self.pc.d.next = self.pl.val().get_value_act_per_channel().any();
        }
        if (self.we.val() & (self.op.val() == self.op_pe_pad.val())) | self.clear.val() {
            self.pad.d.next = self.pl.val().get_value_pe_pad();
        }

        if (self.we.val() & (self.op.val() == self.op_pe_cols.val())) | self.clear.val() {
            self.cg.d.next = self.pl.val().get_value_cols_groups();
            self.gs.d.next = bit_cast::<16, 4>(self.pl.val().get_value_cols_shift());
            self.bad_cols.d.next = !self.cg_allowed.val().get_bit(self.pl.val().get_value_cols_groups().index());
        }

        // The tap-row table lives in the engine: its write port.
        self.rt_we.next = self.we.val() & (self.op.val() == self.op_pe_rowtap.val());
        self.rt_clr.next = self.clear.val();
        self.rt_grp.next = self.payload.val().get_value_rt_group();
        self.rt_row.next = self.payload.val().get_value_rt_row();
        self.rt_data.next = bit_cast::<48, 16>(self.payload.val().get_value_rt_off())
            | (bit_cast::<48, 4>(self.payload.val().get_value_rt_dy()) << 16)
            | (bit_cast::<48, 4>(self.payload.val().get_value_rt_dx()) << 32);

        // ---- Derived parameters: two registered stages of products.
        self.mx_plane.next = self.h.q.val() * self.w.q.val();
        self.plane.d.next = self.mx_plane.val().get_bits::<16>(0);
        self.mx_pixels.next = self.ho.q.val() * self.wo.q.val();
        self.pixels.d.next = self.mx_pixels.val().get_bits::<16>(0);
        self.mx_shw.next = self.sh.q.val() * self.w.q.val();
        self.shw.d.next = self.mx_shw.val().get_bits::<16>(0);
        self.mx_phw.next = self.ph.q.val() * self.w.q.val();
        self.phw.d.next = self.mx_phw.val().get_bits::<16>(0);
        self.mx_tiles.next = self.ic.q.val() * self.oc.q.val();
        self.tiles.d.next = self.mx_tiles.val().get_bits::<16>(0);
        self.mx_taps.next = self.kh.q.val() * self.kw.q.val();
        self.taps.d.next = self.mx_taps.val().get_bits::<16>(0);
        self.mx_passes.next = self.tiles.q.val() * self.taps.q.val();
        self.passes.d.next = self.mx_passes.val().get_bits::<16>(0);
        self.keff.next = self.kk.q.val();
        if !self.kk.q.val().any() {
            self.keff.next = self.kernels.val();
        }
        self.gext.next = bits::<16>(0);
        if self.cg.q.val() == 1 {
            self.gext.next = self.gs.q.val();
        } else if self.cg.q.val() == 2 {
            self.gext.next = self.gs.q.val() + (self.gs.q.val() << 1);
        }
        self.wos.d.next = self.wo.q.val() + self.gext.val();
        self.mx_slots.next = self.ho.q.val() * self.wos.q.val();
        self.slots.d.next = self.mx_slots.val().get_bits::<16>(0);
        self.mx_kp.next = self.pixels.q.val() * self.keff.val();
        self.kp.d.next = self.mx_kp.val().get_bits::<16>(0);
        self.bad_r.d.next = !(self.ok_shape.q.val() & self.ok_kernel.q.val() & self.ok_tiles.q.val() & !self.bad_cols.q.val());

        // ---- The engine's ports.
        self.geom.next.h = self.h.q.val();
        self.geom.next.w = self.w.q.val();
        self.geom.next.wo = self.wo.q.val();
        self.geom.next.kh = self.kh.q.val();
        self.geom.next.kw = self.kw.q.val();
        self.geom.next.sh = self.sh.q.val();
        self.geom.next.sw = self.sw.q.val();
        self.geom.next.ph = self.ph.q.val();
        self.geom.next.pw = self.pw.q.val();
        self.geom.next.ic_tiles = self.ic.q.val();
        self.geom.next.oc_tiles = self.oc.q.val();
        self.geom.next.plane = self.plane.q.val();
        self.geom.next.pixels = self.pixels.q.val();
        self.geom.next.slots = self.slots.q.val();
        self.p_wos.next = self.wos.q.val();
        self.p_cg.next = self.cg.q.val();
        self.p_gs.next = self.gs.q.val();
        self.geom.next.shw = self.shw.q.val();
        self.geom.next.phw = self.phw.q.val();
        self.geom.next.passes = self.passes.q.val();
        self.geom.next.kp = self.kp.q.val();
        self.geom.next.k = self.keff.val();
        self.geom.next.keep = self.keep.q.val();
        self.geom.next.nodrain = !self.drain.q.val();
        self.geom.next.fbase = bits::<16>(0);
        if self.fhalf.q.val() {
            self.geom.next.fbase = self.fc_half.val();
        }
        self.geom.next.obase = bits::<16>(0);
        if self.ohalf.q.val() {
            self.geom.next.obase = self.out_half.val();
        }
        self.geom.next.ort = self.ort.q.val() & self.rq_en.q.val();
        self.p_rq_en.next = self.rq_en.q.val();
        self.p_mult.next = self.mult.q.val();
        self.p_shift.next = self.shift.q.val();
        self.p_zp.next = self.zp.q.val();
        self.p_relu.next = self.relu.q.val();
        self.p_sig.next = self.sig.q.val();
        self.p_exp.next = self.exp.q.val();
        self.p_pc.next = self.pc.q.val();
        self.p_pad.next = self.pad.q.val();
        self.p_kg.next = self.kg.q.val();
        self.bad.next = self.bad_r.q.val();
    }
}

crate::clocked!(ConvRegs);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use crate::top::testing::{payload, pulse_clear, write_all};

    /// Random field values written through the six conv instructions (and a pooling
    /// instruction that must change nothing): three cycles later every engine parameter equals
    /// its field, the derived ones equal the products, and `bad` flags a zero size or a kernel
    /// count `k` of 1 or above K.
    #[test]
    fn every_parameter_is_its_field_or_the_product_of_its_fields() {
        let mut rng = Rng::from_env("conv-regs", 37);
        let (k, fc, od) = (3u64, 512u64, 1024u64);
        let mut h = crate::sim::Harness::new(ConvRegs::new(k as usize, 8, fc as usize, od as usize)).unwrap();
        for _ in 0..40 {
            let r = |rng: &mut Rng, bits: u32| rng.below(1 << bits);
            let (hh, w, ho, wo) = (r(&mut rng, 6), r(&mut rng, 6), r(&mut rng, 6), r(&mut rng, 6));
            let (kh, kw, sh, sw, ph, pw) = (r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 3));
            let (ic, oc, keep, drain, fh, oh) = (r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 1), r(&mut rng, 1), r(&mut rng, 1), r(&mut rng, 1));
            let (en, mult, shift, zp, relu) = (r(&mut rng, 1), r(&mut rng, 15), r(&mut rng, 6), r(&mut rng, 8), r(&mut rng, 1));
            let (ort, sig, exp, pad, pc) = (r(&mut rng, 1), r(&mut rng, 24), r(&mut rng, 8), r(&mut rng, 8), r(&mut rng, 1));
            // Kernels used: 0 (all K = 3), 2 or 3 are allowed; 1 and 4..=7 are refused.
            let kf = [0, 0, 2, 3, 1, 4, 7][rng.below(7) as usize];
            let kg = r(&mut rng, 3);
            let keff = if kf == 0 { k } else { kf };
            // Column groups: 2^groups groups of the 8 columns (3 is refused), `shift` apart.
            let (cg, gs) = (r(&mut rng, 2), r(&mut rng, 4));
            let words = [
                ("PE_SHAPE", payload("PE_SHAPE", &[("h", hh), ("w", w), ("ho", ho), ("wo", wo), ("kg", kg)])),
                ("PE_KERNEL", payload("PE_KERNEL", &[("kh", kh), ("kw", kw), ("sh", sh), ("sw", sw), ("ph", ph), ("pw", pw), ("k", kf)])),
                ("ACC_TILES", payload("ACC_TILES", &[("ic_tiles", ic), ("oc_tiles", oc), ("keep", keep), ("drain", drain), ("fhalf", fh), ("ohalf", oh)])),
                ("ACT_REQUANT", payload("ACT_REQUANT", &[("en", en), ("multiplier", mult), ("shift", shift), ("zero_point", zp), ("relu", relu)])),
                ("ACT_SCALE", payload("ACT_SCALE", &[("ort", ort), ("sig", sig), ("exp", exp), ("per_channel", pc)])),
                ("PE_PAD", payload("PE_PAD", &[("value", pad)])),
                ("PE_COLS", payload("PE_COLS", &[("groups", cg), ("shift", gs)])),
                ("POOL_SHAPE", payload("POOL_SHAPE", &[("c", 7), ("h", 9), ("w", 9), ("ho", 3), ("wo", 3)])),
            ];
            write_all(&mut h, &words, 3, |u, we, op, pl| {
                u.we.next = we;
                u.op.next = op.into();
                u.payload.next = pl.into();
            });
            let u = &h.uut;
            let v = |b: Bits<16>| b.index() as u64;
            let g = u.geom.val();
            let got = [
                v(g.h), v(g.w), v(g.wo), v(g.kh), v(g.kw), v(g.sh), v(g.sw), v(g.ph), v(g.pw),
                v(g.ic_tiles), v(g.oc_tiles), v(g.plane), v(g.pixels), v(g.shw), v(g.phw),
                v(g.passes), v(g.kp), v(u.p_mult.val()), v(g.fbase), v(g.obase), v(g.k),
            ];
            let want = [
                hh, w, wo, kh, kw, sh, sw, ph, pw, ic, oc, hh * w, ho * wo, sh * w, ph * w, ic * oc * kh * kw, keff * ho * wo,
                mult, fh * fc / 2, oh * od / 2, keff,
            ];
            assert_eq!(got, want);
            assert_eq!(
                (u.p_rq_en.val(), u.p_shift.val().index() as u64, u.p_zp.val().index() as u64, u.p_relu.val()),
                (en == 1, shift, zp, relu == 1)
            );
            assert_eq!((g.keep, g.nodrain), (keep == 1, drain == 0));
            assert_eq!(
                (g.ort, u.p_sig.val().index() as u64, u.p_exp.val().index() as u64, u.p_pad.val().index() as u64),
                (ort == 1 && en == 1, sig, exp, pad)
            );
            assert_eq!(u.p_pc.val(), pc == 1);
            assert_eq!(v(u.p_kg.val()), kg);
            let wos = wo + [0, 1, 3, 0][cg as usize] * gs;
            assert_eq!((v(u.p_wos.val()), v(g.slots), u.p_cg.val().index() as u64, v(u.p_gs.val())), (wos, ho * wos, cg, gs), "groups {cg}, shift {gs}");
            assert_eq!(u.bad.val(), [hh, w, ho, wo, kh, kw, sh, sw, ic, oc].contains(&0) || kf == 1 || kf > k || cg == 3, "k field {kf}, groups {cg}");
        }
    }

    /// A program start (`clear`) puts every register back to its reset value: each output of a
    /// block that was written all over equals a freshly reset block's.
    #[test]
    fn clear_returns_every_register_to_its_reset_value() {
        let outputs = |u: &ConvRegs| {
            let v = |b: Bits<16>| b.index() as u64;
            (u.geom.val(), [v(u.p_mult.val()), u.p_shift.val().index() as u64, u.p_zp.val().index() as u64, u.p_sig.val().index() as u64, u.p_exp.val().index() as u64, u.p_pad.val().index() as u64], [u.p_rq_en.val(), u.p_relu.val(), u.p_pc.val(), u.bad.val()], u.p_kg.val())
        };
        let mut fresh = crate::sim::Harness::new(ConvRegs::new(3, 8, 512, 1024)).unwrap();
        write_all(&mut fresh, &[], 3, |u, we, op, pl| {
            u.we.next = we;
            u.op.next = op.into();
            u.payload.next = pl.into();
        });
        let reset = outputs(&fresh.uut);
        let mut h = crate::sim::Harness::new(ConvRegs::new(3, 8, 512, 1024)).unwrap();
        let ones = |op: &str| payload(op, &accelgen_isa::op_named(op).unwrap().fields.iter().map(|f| (f.name, 1u64)).collect::<Vec<_>>());
        let words: Vec<(&str, u64)> = ["PE_SHAPE", "PE_KERNEL", "ACC_TILES", "ACT_REQUANT", "ACT_SCALE", "PE_PAD"].iter().map(|&op| (op, ones(op))).collect();
        write_all(&mut h, &words, 3, |u, we, op, pl| {
            u.we.next = we;
            u.op.next = op.into();
            u.payload.next = pl.into();
        });
        assert_ne!(outputs(&h.uut), reset, "the writes changed the registers");
        pulse_clear(&mut h, 3, |u, c| u.clear.next = c);
        assert_eq!(outputs(&h.uut), reset);
    }
}
