//! # ConvRegs: the conv engine's control registers in `accel_top`
//!
//! One control register per functional module (patents.md §3): `PE_SHAPE`, `PE_KERNEL`,
//! `ACC_TILES` and `ACT_REQUANT` write the conv engine's fields, which this block holds and
//! drives into the engine's parameter ports, together with the derived parameters (products of
//! fields, in two registered stages: H·W, Ho·Wo, sh·W, ph·W, the passes
//! ic_tiles·oc_tiles·kh·kw and K·Ho·Wo) and the double-buffering bases. `bad` flags a zero size,
//! stride or tile count (a `RUN` of the engine with them is refused), registered.
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `we`, `op`, `payload` | in | 1, 5, 64 | an accepted instruction, a cycle after its acceptance |
//! | `p_*` | out | as the engine's | the engine's parameters |
//! | `bad` | out | 1 | a zero size, stride or tile count |
//!
//! The dispatcher lets nothing read the parameters until three cycles after the last write
//! (the write's cycle and the two product stages).

use rust_hdl::prelude::*;

use crate::isa::{opcode_const, InstrFields};

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
    /// Input height H.
    pub p_h: Signal<Out, Bits<16>>,
    /// Input width W.
    pub p_w: Signal<Out, Bits<16>>,
    /// Output width Wo.
    pub p_wo: Signal<Out, Bits<16>>,
    /// Kernel height.
    pub p_kh: Signal<Out, Bits<16>>,
    /// Kernel width.
    pub p_kw: Signal<Out, Bits<16>>,
    /// Vertical stride.
    pub p_sh: Signal<Out, Bits<16>>,
    /// Horizontal stride.
    pub p_sw: Signal<Out, Bits<16>>,
    /// Vertical padding.
    pub p_ph: Signal<Out, Bits<16>>,
    /// Horizontal padding.
    pub p_pw: Signal<Out, Bits<16>>,
    /// Input-channel tiles.
    pub p_ic_tiles: Signal<Out, Bits<16>>,
    /// Output-channel tiles.
    pub p_oc_tiles: Signal<Out, Bits<16>>,
    /// H·W.
    pub p_plane: Signal<Out, Bits<16>>,
    /// Ho·Wo.
    pub p_pixels: Signal<Out, Bits<16>>,
    /// sh·W.
    pub p_shw: Signal<Out, Bits<16>>,
    /// ph·W.
    pub p_phw: Signal<Out, Bits<16>>,
    /// Passes.
    pub p_passes: Signal<Out, Bits<16>>,
    /// K·Ho·Wo.
    pub p_kp: Signal<Out, Bits<16>>,
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
    /// Add to kept sums.
    pub p_keep: Signal<Out, Bit>,
    /// Keep the sums (no drain).
    pub p_nodrain: Signal<Out, Bit>,
    /// First-cache base.
    pub p_fbase: Signal<Out, Bits<16>>,
    /// Output-buffer base.
    pub p_obase: Signal<Out, Bits<16>>,
    /// A zero size, stride or tile count.
    pub bad: Signal<Out, Bit>,
    op_pe_shape: Constant<Bits<5>>,
    op_pe_kernel: Constant<Bits<5>>,
    op_acc_tiles: Constant<Bits<5>>,
    op_act_requant: Constant<Bits<5>>,
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
    rq_en: DFF<Bit>,
    mult: DFF<Bits<16>>,
    shift: DFF<Bits<8>>,
    zp: DFF<Bits<8>>,
    relu: DFF<Bit>,
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
    /// The registers of an engine with `kernels` kernels per PE and the given first-cache and
    /// output-buffer depths.
    pub fn new(kernels: usize, first_cache_depth: usize, output_depth: usize) -> Self {
        let op = opcode_const;
        block_with_defaults!(ConvRegs {
            op_pe_shape: op("PE_SHAPE"),
            op_pe_kernel: op("PE_KERNEL"),
            op_acc_tiles: op("ACC_TILES"),
            op_act_requant: op("ACT_REQUANT"),
            kernels: Constant::new((kernels as u64).into()),
            fc_half: Constant::new(((first_cache_depth / 2) as u64).into()),
            out_half: Constant::new(((output_depth / 2) as u64).into()),
        } defaults {
            clock, we, op, payload, p_h, p_w, p_wo, p_kh, p_kw, p_sh, p_sw, p_ph, p_pw, p_ic_tiles,
            p_oc_tiles, p_plane, p_pixels, p_shw, p_phw, p_passes, p_kp, p_rq_en, p_mult, p_shift,
            p_zp, p_relu, p_keep, p_nodrain, p_fbase, p_obase, bad, h, w, ho, wo, kh, kw, sh, sw, ph,
            pw, ic, oc, keep, drain, fhalf, ohalf, rq_en, mult, shift, zp, relu, plane, pixels, shw,
            phw, tiles, taps, passes, kp, bad_r, mx_plane, mx_pixels, mx_shw, mx_phw, mx_tiles,
            mx_taps, mx_passes, mx_kp,
        })
    }
}

impl Logic for ConvRegs {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, h, w, ho, wo, kh, kw, sh, sw, ph, pw, ic, oc, keep, drain, fhalf, ohalf,
            rq_en, mult, shift, zp, relu, plane, pixels, shw, phw, tiles, taps, passes, kp, bad_r
        );
        if self.we.val() & (self.op.val() == self.op_pe_shape.val()) {
            self.h.d.next = bit_cast::<16, 10>(self.payload.val().get_value_pe_h());
            self.w.d.next = bit_cast::<16, 10>(self.payload.val().get_value_pe_w());
            self.ho.d.next = bit_cast::<16, 10>(self.payload.val().get_value_pe_ho());
            self.wo.d.next = bit_cast::<16, 10>(self.payload.val().get_value_pe_wo());
        }
        if self.we.val() & (self.op.val() == self.op_pe_kernel.val()) {
            self.kh.d.next = bit_cast::<16, 4>(self.payload.val().get_value_pe_kh());
            self.kw.d.next = bit_cast::<16, 4>(self.payload.val().get_value_pe_kw());
            self.sh.d.next = bit_cast::<16, 3>(self.payload.val().get_value_pe_sh());
            self.sw.d.next = bit_cast::<16, 3>(self.payload.val().get_value_pe_sw());
            self.ph.d.next = bit_cast::<16, 3>(self.payload.val().get_value_pe_ph());
            self.pw.d.next = bit_cast::<16, 3>(self.payload.val().get_value_pe_pw());
        }
        if self.we.val() & (self.op.val() == self.op_acc_tiles.val()) {
            self.ic.d.next = bit_cast::<16, 8>(self.payload.val().get_value_acc_ic_tiles());
            self.oc.d.next = bit_cast::<16, 8>(self.payload.val().get_value_acc_oc_tiles());
            self.keep.d.next = self.payload.val().get_value_acc_keep().any();
            self.drain.d.next = self.payload.val().get_value_acc_drain().any();
            self.fhalf.d.next = self.payload.val().get_value_acc_fhalf().any();
            self.ohalf.d.next = self.payload.val().get_value_acc_ohalf().any();
        }
        if self.we.val() & (self.op.val() == self.op_act_requant.val()) {
            self.rq_en.d.next = self.payload.val().get_value_act_en().any();
            self.mult.d.next = bit_cast::<16, 15>(self.payload.val().get_value_act_multiplier());
            self.shift.d.next = bit_cast::<8, 6>(self.payload.val().get_value_act_shift());
            self.zp.d.next = self.payload.val().get_value_act_zero_point();
            self.relu.d.next = self.payload.val().get_value_act_relu().any();
        }

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
        self.mx_kp.next = self.pixels.q.val() * self.kernels.val();
        self.kp.d.next = self.mx_kp.val().get_bits::<16>(0);
        self.bad_r.d.next = !self.h.q.val().any()
            | !self.w.q.val().any()
            | !self.ho.q.val().any()
            | !self.wo.q.val().any()
            | !self.kh.q.val().any()
            | !self.kw.q.val().any()
            | !self.sh.q.val().any()
            | !self.sw.q.val().any()
            | !self.ic.q.val().any()
            | !self.oc.q.val().any();

        // ---- The engine's ports.
        self.p_h.next = self.h.q.val();
        self.p_w.next = self.w.q.val();
        self.p_wo.next = self.wo.q.val();
        self.p_kh.next = self.kh.q.val();
        self.p_kw.next = self.kw.q.val();
        self.p_sh.next = self.sh.q.val();
        self.p_sw.next = self.sw.q.val();
        self.p_ph.next = self.ph.q.val();
        self.p_pw.next = self.pw.q.val();
        self.p_ic_tiles.next = self.ic.q.val();
        self.p_oc_tiles.next = self.oc.q.val();
        self.p_plane.next = self.plane.q.val();
        self.p_pixels.next = self.pixels.q.val();
        self.p_shw.next = self.shw.q.val();
        self.p_phw.next = self.phw.q.val();
        self.p_passes.next = self.passes.q.val();
        self.p_kp.next = self.kp.q.val();
        self.p_rq_en.next = self.rq_en.q.val();
        self.p_mult.next = self.mult.q.val();
        self.p_shift.next = self.shift.q.val();
        self.p_zp.next = self.zp.q.val();
        self.p_relu.next = self.relu.q.val();
        self.p_keep.next = self.keep.q.val();
        self.p_nodrain.next = !self.drain.q.val();
        self.p_fbase.next = 0.into();
        if self.fhalf.q.val() {
            self.p_fbase.next = self.fc_half.val();
        }
        self.p_obase.next = 0.into();
        if self.ohalf.q.val() {
            self.p_obase.next = self.out_half.val();
        }
        self.bad.next = self.bad_r.q.val();
    }
}

impl crate::sim::Clocked for ConvRegs {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use crate::top::testing::{payload, write_all};

    /// Random field values written through the four conv instructions (and a pooling
    /// instruction that must change nothing): three cycles later every engine parameter equals
    /// its field, the derived ones equal the products, and `bad` flags a zero size.
    #[test]
    fn every_parameter_is_its_field_or_the_product_of_its_fields() {
        let mut rng = Rng::from_env("conv-regs", 37);
        let (k, fc, od) = (3u64, 512u64, 1024u64);
        let mut h = crate::sim::Harness::new(ConvRegs::new(k as usize, fc as usize, od as usize)).unwrap();
        for _ in 0..40 {
            let r = |rng: &mut Rng, bits: u32| rng.below(1 << bits);
            let (hh, w, ho, wo) = (r(&mut rng, 6), r(&mut rng, 6), r(&mut rng, 6), r(&mut rng, 6));
            let (kh, kw, sh, sw, ph, pw) = (r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 3));
            let (ic, oc, keep, drain, fh, oh) = (r(&mut rng, 3), r(&mut rng, 3), r(&mut rng, 1), r(&mut rng, 1), r(&mut rng, 1), r(&mut rng, 1));
            let (en, mult, shift, zp, relu) = (r(&mut rng, 1), r(&mut rng, 15), r(&mut rng, 6), r(&mut rng, 8), r(&mut rng, 1));
            let words = [
                ("PE_SHAPE", payload("PE_SHAPE", &[("h", hh), ("w", w), ("ho", ho), ("wo", wo)])),
                ("PE_KERNEL", payload("PE_KERNEL", &[("kh", kh), ("kw", kw), ("sh", sh), ("sw", sw), ("ph", ph), ("pw", pw)])),
                ("ACC_TILES", payload("ACC_TILES", &[("ic_tiles", ic), ("oc_tiles", oc), ("keep", keep), ("drain", drain), ("fhalf", fh), ("ohalf", oh)])),
                ("ACT_REQUANT", payload("ACT_REQUANT", &[("en", en), ("multiplier", mult), ("shift", shift), ("zero_point", zp), ("relu", relu)])),
                ("POOL_SHAPE", payload("POOL_SHAPE", &[("c", 7), ("h", 9), ("w", 9), ("ho", 3), ("wo", 3)])),
            ];
            write_all(&mut h, &words, 3, |u, we, op, pl| {
                u.we.next = we;
                u.op.next = op.into();
                u.payload.next = pl.into();
            });
            let u = &h.uut;
            let v = |s: &Signal<Out, Bits<16>>| s.val().index() as u64;
            let got = [
                v(&u.p_h), v(&u.p_w), v(&u.p_wo), v(&u.p_kh), v(&u.p_kw), v(&u.p_sh), v(&u.p_sw), v(&u.p_ph), v(&u.p_pw),
                v(&u.p_ic_tiles), v(&u.p_oc_tiles), v(&u.p_plane), v(&u.p_pixels), v(&u.p_shw), v(&u.p_phw),
                v(&u.p_passes), v(&u.p_kp), v(&u.p_mult), v(&u.p_fbase), v(&u.p_obase),
            ];
            let want = [
                hh, w, wo, kh, kw, sh, sw, ph, pw, ic, oc, hh * w, ho * wo, sh * w, ph * w, ic * oc * kh * kw, k * ho * wo,
                mult, fh * fc / 2, oh * od / 2,
            ];
            assert_eq!(got, want);
            assert_eq!(
                (u.p_rq_en.val(), u.p_shift.val().index() as u64, u.p_zp.val().index() as u64, u.p_relu.val()),
                (en == 1, shift, zp, relu == 1)
            );
            assert_eq!((u.p_keep.val(), u.p_nodrain.val()), (keep == 1, drain == 0));
            assert_eq!(u.bad.val(), [hh, w, ho, wo, kh, kw, sh, sw, ic, oc].contains(&0));
        }
    }
}
