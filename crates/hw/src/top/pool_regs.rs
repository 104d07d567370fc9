//! # PoolRegs: the pooling unit's control registers in `accel_top`
//!
//! `POOL_WINDOW`, `POOL_SHAPE` and `POOL_GEOM` write the pooling unit's fields (one control
//! register per functional module, patents.md §3), which this block holds and drives into the
//! unit's parameter ports, with the derived hb·W and kh·kw (registered products). `bad` flags a
//! zero size, stride or band geometry (a `RUN` of the unit with them is refused), registered.
//! (`POOL_CLOCK`'s divider is taken by the dispatcher at acceptance: it is applied at the next
//! "convolution done" event, not with the other parameters.)
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `we`, `op`, `payload` | in | 1, 5, 64 | an accepted instruction, a cycle after its acceptance |
//! | `clear` | in | 1 | a program starts: every field written with zeros, as after reset |
//! | `p_*` | out | as the unit's | the unit's parameters (`p_w`, `p_ph`, `p_hbw` also the mover's feature-memory layout) |
//! | `bad` | out | 1 | a zero size, stride or band geometry |

use rust_hdl::prelude::*;

use crate::isa::{opcode_const, InstrFields};

/// The pooling unit's registers.
#[derive(LogicBlock)]
pub struct PoolRegs {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Write the instruction's fields.
    pub we: Signal<In, Bit>,
    /// Its opcode.
    pub op: Signal<In, Bits<5>>,
    /// Its payload.
    pub payload: Signal<In, Bits<64>>,
    /// A program starts: every register back to its reset value.
    pub clear: Signal<In, Bit>,
    /// Channels.
    pub p_c: Signal<Out, Bits<16>>,
    /// Input height.
    pub p_h: Signal<Out, Bits<16>>,
    /// Input width.
    pub p_w: Signal<Out, Bits<16>>,
    /// Output height.
    pub p_ho: Signal<Out, Bits<16>>,
    /// Output width.
    pub p_wo: Signal<Out, Bits<16>>,
    /// Window height.
    pub p_kh: Signal<Out, Bits<16>>,
    /// Window width.
    pub p_kw: Signal<Out, Bits<16>>,
    /// Vertical stride.
    pub p_sh: Signal<Out, Bits<16>>,
    /// Horizontal stride.
    pub p_sw: Signal<Out, Bits<16>>,
    /// Top padding (0..=3).
    pub p_ph: Signal<Out, Bits<2>>,
    /// Left padding.
    pub p_pw: Signal<Out, Bits<16>>,
    /// hb·W.
    pub p_hbw: Signal<Out, Bits<16>>,
    /// Columns per band read.
    pub p_xcols: Signal<Out, Bits<16>>,
    /// kh·kw.
    pub p_count: Signal<Out, Bits<16>>,
    /// Average (else max).
    pub p_avg: Signal<Out, Bit>,
    /// A zero size, stride or band geometry.
    pub bad: Signal<Out, Bit>,
    /// The payload written: the instruction's, or zeros on `clear`.
    pl: Signal<Local, Bits<64>>,
    op_pool_window: Constant<Bits<5>>,
    op_pool_shape: Constant<Bits<5>>,
    op_pool_geom: Constant<Bits<5>>,
    c: DFF<Bits<16>>,
    h: DFF<Bits<16>>,
    w: DFF<Bits<16>>,
    ho: DFF<Bits<16>>,
    wo: DFF<Bits<16>>,
    avg: DFF<Bit>,
    kh: DFF<Bits<16>>,
    kw: DFF<Bits<16>>,
    sh: DFF<Bits<16>>,
    sw: DFF<Bits<16>>,
    ph: DFF<Bits<2>>,
    pw: DFF<Bits<16>>,
    hb: DFF<Bits<16>>,
    xcols: DFF<Bits<16>>,
    hbw: DFF<Bits<16>>,
    count: DFF<Bits<16>>,
    bad_r: DFF<Bit>,
    /// Products before their registers (the compiler keeps each below 2^16).
    mx_hbw: Signal<Local, Bits<32>>,
    mx_count: Signal<Local, Bits<32>>,
}

impl Default for PoolRegs {
    fn default() -> Self {
        let op = opcode_const;
        block_with_defaults!(PoolRegs {
            op_pool_window: op("POOL_WINDOW"),
            op_pool_shape: op("POOL_SHAPE"),
            op_pool_geom: op("POOL_GEOM"),
        } defaults {
            clock, we, op, payload, clear, pl, p_c, p_h, p_w, p_ho, p_wo, p_kh, p_kw, p_sh, p_sw, p_ph, p_pw,
            p_hbw, p_xcols, p_count, p_avg, bad, c, h, w, ho, wo, avg, kh, kw, sh, sw, ph, pw, hb,
            xcols, hbw, count, bad_r, mx_hbw, mx_count,
        })
    }
}

impl Logic for PoolRegs {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, c, h, w, ho, wo, avg, kh, kw, sh, sw, ph, pw, hb, xcols, hbw, count, bad_r);
        self.pl.next = self.payload.val();
        if self.clear.val() {
            self.pl.next = 0.into();
        }
        if (self.we.val() & (self.op.val() == self.op_pool_window.val())) | self.clear.val() {
            self.avg.d.next = self.pl.val().get_value_pool_avg().any();
            self.kh.d.next = bit_cast::<16, 4>(self.pl.val().get_value_pool_kh());
            self.kw.d.next = bit_cast::<16, 4>(self.pl.val().get_value_pool_kw());
            self.sh.d.next = bit_cast::<16, 4>(self.pl.val().get_value_pool_sh());
            self.sw.d.next = bit_cast::<16, 4>(self.pl.val().get_value_pool_sw());
            self.ph.d.next = self.pl.val().get_value_pool_ph();
            self.pw.d.next = bit_cast::<16, 2>(self.pl.val().get_value_pool_pw());
        }
        if (self.we.val() & (self.op.val() == self.op_pool_shape.val())) | self.clear.val() {
            self.c.d.next = bit_cast::<16, 12>(self.pl.val().get_value_pool_c());
            self.h.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pool_h());
            self.w.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pool_w());
            self.ho.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pool_ho());
            self.wo.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pool_wo());
        }
        if (self.we.val() & (self.op.val() == self.op_pool_geom.val())) | self.clear.val() {
            self.hb.d.next = bit_cast::<16, 10>(self.pl.val().get_value_pool_hb());
            self.xcols.d.next = bit_cast::<16, 12>(self.pl.val().get_value_pool_xcols());
        }
        self.mx_hbw.next = self.hb.q.val() * self.w.q.val();
        self.hbw.d.next = self.mx_hbw.val().get_bits::<16>(0);
        self.mx_count.next = self.kh.q.val() * self.kw.q.val();
        self.count.d.next = self.mx_count.val().get_bits::<16>(0);
        self.bad_r.d.next = !self.c.q.val().any()
            | !self.h.q.val().any()
            | !self.w.q.val().any()
            | !self.ho.q.val().any()
            | !self.wo.q.val().any()
            | !self.kh.q.val().any()
            | !self.kw.q.val().any()
            | !self.sh.q.val().any()
            | !self.sw.q.val().any()
            | !self.hb.q.val().any()
            | !self.xcols.q.val().any();
        self.p_c.next = self.c.q.val();
        self.p_h.next = self.h.q.val();
        self.p_w.next = self.w.q.val();
        self.p_ho.next = self.ho.q.val();
        self.p_wo.next = self.wo.q.val();
        self.p_kh.next = self.kh.q.val();
        self.p_kw.next = self.kw.q.val();
        self.p_sh.next = self.sh.q.val();
        self.p_sw.next = self.sw.q.val();
        self.p_ph.next = self.ph.q.val();
        self.p_pw.next = self.pw.q.val();
        self.p_hbw.next = self.hbw.q.val();
        self.p_xcols.next = self.xcols.q.val();
        self.p_count.next = self.count.q.val();
        self.p_avg.next = self.avg.q.val();
        self.bad.next = self.bad_r.q.val();
    }
}

crate::clocked!(PoolRegs);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use crate::top::testing::{payload, pulse_clear, write_all};

    /// Random field values written through the three pooling instructions (and a conv
    /// instruction that must change nothing): two cycles later every unit parameter equals its
    /// field, hb·W and kh·kw equal the products, and `bad` flags a zero size; a program start
    /// (`clear`) then puts every parameter back to its reset value.
    #[test]
    fn every_parameter_is_its_field_or_the_product_of_its_fields() {
        let mut rng = Rng::from_env("pool-regs", 41);
        let mut h = crate::sim::Harness::new(PoolRegs::default()).unwrap();
        for _ in 0..40 {
            let r = |rng: &mut Rng, bits: u32| rng.below(1 << bits);
            let (avg, kh, kw, sh, sw, ph, pw) = (r(&mut rng, 1), r(&mut rng, 4), r(&mut rng, 4), r(&mut rng, 4), r(&mut rng, 4), r(&mut rng, 2), r(&mut rng, 2));
            let (c, hh, w, ho, wo) = (r(&mut rng, 5), r(&mut rng, 6), r(&mut rng, 6), r(&mut rng, 6), r(&mut rng, 6));
            let (hb, xcols) = (r(&mut rng, 5), r(&mut rng, 7));
            let words = [
                ("POOL_WINDOW", payload("POOL_WINDOW", &[("avg", avg), ("kh", kh), ("kw", kw), ("sh", sh), ("sw", sw), ("ph", ph), ("pw", pw)])),
                ("POOL_SHAPE", payload("POOL_SHAPE", &[("c", c), ("h", hh), ("w", w), ("ho", ho), ("wo", wo)])),
                ("POOL_GEOM", payload("POOL_GEOM", &[("hb", hb), ("xcols", xcols)])),
                ("PE_SHAPE", payload("PE_SHAPE", &[("h", 9), ("w", 9), ("ho", 3), ("wo", 3)])),
            ];
            write_all(&mut h, &words, 2, |u, we, op, pl| {
                u.we.next = we;
                u.op.next = op.into();
                u.payload.next = pl.into();
            });
            let u = &h.uut;
            let v = |s: &Signal<Out, Bits<16>>| s.val().index() as u64;
            let got = [
                v(&u.p_c), v(&u.p_h), v(&u.p_w), v(&u.p_ho), v(&u.p_wo), v(&u.p_kh), v(&u.p_kw), v(&u.p_sh), v(&u.p_sw),
                u.p_ph.val().index() as u64, v(&u.p_pw), v(&u.p_hbw), v(&u.p_xcols), v(&u.p_count),
            ];
            assert_eq!(got, [c, hh, w, ho, wo, kh, kw, sh, sw, ph, pw, hb * w, xcols, kh * kw]);
            assert_eq!(u.p_avg.val(), avg == 1);
            assert_eq!(u.bad.val(), [c, hh, w, ho, wo, kh, kw, sh, sw, hb, xcols].contains(&0));
        }
        // A program start (`clear`): every parameter as after reset.
        let outputs = |u: &PoolRegs| {
            let v = |s: &Signal<Out, Bits<16>>| s.val().index() as u64;
            ([v(&u.p_c), v(&u.p_h), v(&u.p_w), v(&u.p_ho), v(&u.p_wo), v(&u.p_kh), v(&u.p_kw), v(&u.p_sh), v(&u.p_sw), u.p_ph.val().index() as u64, v(&u.p_pw), v(&u.p_hbw), v(&u.p_xcols), v(&u.p_count)], u.p_avg.val(), u.bad.val())
        };
        let mut fresh = crate::sim::Harness::new(PoolRegs::default()).unwrap();
        write_all(&mut fresh, &[], 2, |u, we, op, pl| {
            u.we.next = we;
            u.op.next = op.into();
            u.payload.next = pl.into();
        });
        assert_ne!(outputs(&h.uut), outputs(&fresh.uut), "the last writes changed the registers");
        pulse_clear(&mut h, 2, |u, c| u.clear.next = c);
        assert_eq!(outputs(&h.uut), outputs(&fresh.uut));
    }
}
