//! # IntFma: `fma(x, r, c)` of an int8 `x` and float32 `r`, `c`, rounded once to float32
//!
//! The element-wise add unit's step ([`AddUnit`](crate::add::AddUnit)): ONNX Runtime's QLinearAdd
//! kernel computes `fma(a, r_a, fma(b, r_b, fixed))` with the x86-64 fused multiply-add, which
//! rounds the exact `x·r + c` once to float32 (round to nearest, ties to even). This block
//! computes the same in integers ([`accelgen_golden::ort_add::QAdd::fused_int`] is its
//! specification), one value per cycle.
//!
//! Values travel as a float32's parts: a sign, a zero flag, a 24-bit significand `m` with bit 23
//! set and the exponent `e` of its lowest bit (10 bits, two's complement): `±m · 2^e`. `r` is
//! normal (the add unit's ratios are positive); `c` is normal or zero. The compiler keeps the operands in the range where
//! no exponent leaves 10 bits and no result is subnormal
//! ([`QAdd::unit_constants`](accelgen_golden::ort_add::QAdd::unit_constants)).
//!
//! Both terms are placed in a 64-bit window: the one whose upper bound `2^(U+1)` is larger (the
//! *big* term) with bit `U` at bit 61, the other shifted right by the difference of the bounds,
//! its lost bits kept as one sticky bit at bit 0. The product `|x|·m_r` (32 bits) has its leading
//! one at `U_p = e_r + 24 + h_x` or one below (`h_x`: the leading one of `|x|`), `c` at
//! `U_c = e_c + 23`. The sum is exact while the small term's bits stay in the window (a shift of
//! at most 29 places); past that the small term is below 2^32 and the sum above 2^59, so the
//! float32 rounding's half bit is at bit 35 or higher and the sticky bit at bit 0 (an odd
//! position) decides only ties and direction, as the lost bits would.
//! - s1: `|x|` times the significand of `r` in two 8 × 12 multipliers ([`RegMul`]); `U_p`, `U_c`;
//! - s2: the product; both terms placed; the shift;
//! - s3: the small term shifted right with its sticky bit;
//! - s4: the sum or difference (two's complement, 64 bits);
//! - s5: sign and magnitude;
//! - s6: the magnitude's leading zeros (eight [`Lz8`] and a priority on bytes);
//! - s7: the magnitude shifted to bit 63;
//! - s8: rounded to 24 bits, ties to even (a carry gives 2^23 and the next exponent).
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock` | in | 1 | clock |
//! | `x` | in | 8 | int8 operand |
//! | `r_neg`, `r_sig`, `r_exp` | in | 1, 24, 10 | `r` (normal): sign, significand, exponent of its lowest bit |
//! | `c_neg`, `c_zero`, `c_sig`, `c_exp` | in | 1, 1, 24, 10 | `c`: sign, zero, significand, exponent |
//! | `neg`, `zero`, `sig`, `exp` | out | 1, 1, 24, 10 | the float32 result, [`FMA_REGS`] cycles after the operands |

use crate::pe::{Lz8, RegMul};
use rust_hdl::prelude::*;

/// Registers between the operands and the result.
pub const FMA_REGS: usize = 8;

/// Fused multiply-add of an int8 and two float32 values, in integers.
#[derive(LogicBlock)]
pub struct IntFma {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Integer operand (int8).
    pub x: Signal<In, Bits<8>>,
    /// `r` is negative.
    pub r_neg: Signal<In, Bit>,
    /// Significand of `r` (bit 23 set).
    pub r_sig: Signal<In, Bits<24>>,
    /// Exponent of `r`'s lowest bit (two's complement).
    pub r_exp: Signal<In, Bits<10>>,
    /// `c` is negative.
    pub c_neg: Signal<In, Bit>,
    /// `c` is zero.
    pub c_zero: Signal<In, Bit>,
    /// Significand of `c` (bit 23 set unless zero).
    pub c_sig: Signal<In, Bits<24>>,
    /// Exponent of `c`'s lowest bit.
    pub c_exp: Signal<In, Bits<10>>,
    /// Result: negative.
    pub neg: Signal<Out, Bit>,
    /// Result: zero.
    pub zero: Signal<Out, Bit>,
    /// Result: significand (bit 23 set unless zero).
    pub sig: Signal<Out, Bits<24>>,
    /// Result: exponent of the significand's lowest bit.
    pub exp: Signal<Out, Bits<10>>,
    /// s1: `|x|` times the low and the high 12 bits of `r`'s significand.
    m_lo: RegMul<8, 12, 20>,
    m_hi: RegMul<8, 12, 20>,
    xabs: Signal<Local, Bits<8>>,
    lz_x: Lz8,
    s1_pneg: DFF<Bit>,
    s1_pzero: DFF<Bit>,
    s1_lzx: DFF<Bits<3>>,
    s1_up: DFF<Bits<10>>,
    s1_uc: DFF<Bits<10>>,
    s1_cneg: DFF<Bit>,
    s1_czero: DFF<Bit>,
    s1_csig: DFF<Bits<24>>,
    /// s2: the terms placed in the window, the right shift of the small one, the big one's bound.
    prod: Signal<Local, Bits<32>>,
    pw: Signal<Local, Bits<64>>,
    cw: Signal<Local, Bits<64>>,
    diff: Signal<Local, Bits<10>>,
    ndiff: Signal<Local, Bits<10>>,
    s2_big: DFF<Bits<64>>,
    s2_small: DFF<Bits<64>>,
    s2_d: DFF<Bits<6>>,
    s2_ubig: DFF<Bits<10>>,
    s2_bneg: DFF<Bit>,
    s2_sneg: DFF<Bit>,
    s2_zero: DFF<Bit>,
    /// s3: the small term aligned, its sticky bit at bit 0.
    lost: Signal<Local, Bits<64>>,
    s3_big: DFF<Bits<64>>,
    s3_small: DFF<Bits<64>>,
    s3_sub: DFF<Bit>,
    s3_bneg: DFF<Bit>,
    s3_ubig: DFF<Bits<10>>,
    s3_zero: DFF<Bit>,
    /// s4: the sum (two's complement).
    s4_sum: DFF<Bits<64>>,
    s4_bneg: DFF<Bit>,
    s4_ubig: DFF<Bits<10>>,
    s4_zero: DFF<Bit>,
    /// s5: sign and magnitude.
    s5_abs: DFF<Bits<64>>,
    s5_neg: DFF<Bit>,
    s5_ubig: DFF<Bits<10>>,
    s5_zero: DFF<Bit>,
    /// s6: leading zeros of the magnitude.
    lz: Vec<Lz8>,
    /// The leading zeros above each byte: 56 − 8·i.
    byte_lz: Vec<Constant<Bits<7>>>,
    hi_off: Signal<Local, Bits<7>>,
    hi_n: Signal<Local, Bits<3>>,
    lzn: Signal<Local, Bits<7>>,
    s6_abs: DFF<Bits<64>>,
    s6_lz: DFF<Bits<7>>,
    s6_neg: DFF<Bit>,
    s6_ubig: DFF<Bits<10>>,
    s6_zero: DFF<Bit>,
    /// s7: the magnitude with its leading one at bit 63.
    s7_norm: DFF<Bits<64>>,
    s7_lz: DFF<Bits<7>>,
    s7_neg: DFF<Bit>,
    s7_ubig: DFF<Bits<10>>,
    s7_zero: DFF<Bit>,
    /// s8: rounded.
    top: Signal<Local, Bits<25>>,
    rounded: Signal<Local, Bits<25>>,
    s8_sig: DFF<Bits<24>>,
    s8_exp: DFF<Bits<10>>,
    s8_neg: DFF<Bit>,
    s8_zero: DFF<Bit>,
}

impl Default for IntFma {
    fn default() -> Self {
        block_with_defaults!(IntFma {
            m_lo: RegMul::unsigned(),
            m_hi: RegMul::unsigned(),
            lz: crate::vec_of(8),
            byte_lz: (0..8).map(|i| Constant::new(bits::<7>(56 - 8 * i))).collect(),
        } defaults {
            clock, x, r_neg, r_sig, r_exp, c_neg, c_zero, c_sig, c_exp, neg, zero, sig, exp, xabs, lz_x,
            s1_pneg, s1_pzero, s1_lzx, s1_up, s1_uc, s1_cneg, s1_czero, s1_csig,
            prod, pw, cw, diff, ndiff, s2_big, s2_small, s2_d, s2_ubig, s2_bneg, s2_sneg, s2_zero,
            lost, s3_big, s3_small, s3_sub, s3_bneg, s3_ubig, s3_zero,
            s4_sum, s4_bneg, s4_ubig, s4_zero, s5_abs, s5_neg, s5_ubig, s5_zero,
            hi_off, hi_n, lzn, s6_abs, s6_lz, s6_neg, s6_ubig, s6_zero, s7_norm, s7_lz, s7_neg, s7_ubig, s7_zero,
            top, rounded, s8_sig, s8_exp, s8_neg, s8_zero,
        })
    }
}

impl Logic for IntFma {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_pneg, s1_pzero, s1_lzx, s1_up, s1_uc, s1_cneg, s1_czero, s1_csig, s2_big, s2_small, s2_d, s2_ubig, s2_bneg,
            s2_sneg, s2_zero, s3_big, s3_small, s3_sub, s3_bneg, s3_ubig, s3_zero, s4_sum, s4_bneg, s4_ubig, s4_zero, s5_abs, s5_neg,
            s5_ubig, s5_zero, s6_abs, s6_lz, s6_neg, s6_ubig, s6_zero, s7_norm, s7_lz, s7_neg, s7_ubig, s7_zero, s8_sig, s8_exp, s8_neg,
            s8_zero
        );
        self.m_lo.clock.next = self.clock.val();
        self.m_hi.clock.next = self.clock.val();

        // ---- s1: |x| (−128 gives 128, 8 unsigned bits) times the two halves of r's significand;
        // the bounds U_p = e_r + 24 + h_x = e_r + 31 − lz(|x|) and U_c = e_c + 23.
        self.xabs.next = self.x.val();
        if self.x.val().get_bit(7) {
            self.xabs.next = bits::<8>(0) - self.x.val();
        }
        self.lz_x.x.next = self.xabs.val();
        self.m_lo.a.next = self.xabs.val();
        self.m_lo.b.next = self.r_sig.val().get_bits::<12>(0);
        self.m_hi.a.next = self.xabs.val();
        self.m_hi.b.next = self.r_sig.val().get_bits::<12>(12);
        self.s1_pneg.d.next = self.x.val().get_bit(7) ^ self.r_neg.val();
        self.s1_pzero.d.next = self.lz_x.zero.val();
        self.s1_lzx.d.next = self.lz_x.n.val();
        self.s1_up.d.next = self.r_exp.val() + 31 - bit_cast::<10, 3>(self.lz_x.n.val());
        self.s1_uc.d.next = self.c_exp.val() + 23;
        self.s1_cneg.d.next = self.c_neg.val();
        self.s1_czero.d.next = self.c_zero.val();
        self.s1_csig.d.next = self.c_sig.val();

        // ---- s2: the product; each term with bit U at bit 61 (the product shifted by
        // 61 − (24 + h_x) = 30 + lz(|x|), c by 38); the one with the larger bound is big. A zero
        // term is never big and adds nothing.
        self.prod.next = (bit_cast::<32, 20>(self.m_hi.p.val()) << 12) + bit_cast::<32, 20>(self.m_lo.p.val());
        self.pw.next = bit_cast::<64, 32>(self.prod.val()) << (bit_cast::<7, 3>(self.s1_lzx.q.val()) + bits::<7>(30));
        self.cw.next = bit_cast::<64, 24>(self.s1_csig.q.val()) << 38;
        self.diff.next = self.s1_up.q.val() - self.s1_uc.q.val();
        self.ndiff.next = self.s1_uc.q.val() - self.s1_up.q.val();
        self.s2_zero.d.next = self.s1_pzero.q.val() & self.s1_czero.q.val();
        if (!self.diff.val().get_bit(9) & !self.s1_pzero.q.val()) | self.s1_czero.q.val() {
            self.s2_big.d.next = self.pw.val();
            self.s2_small.d.next = self.cw.val();
            if self.s1_czero.q.val() {
                self.s2_small.d.next = bits::<64>(0);
            }
            self.s2_bneg.d.next = self.s1_pneg.q.val();
            self.s2_sneg.d.next = self.s1_cneg.q.val();
            self.s2_ubig.d.next = self.s1_up.q.val();
            self.s2_d.d.next = self.diff.val().get_bits::<6>(0);
            if self.diff.val().get_bits::<4>(6).any() {
                self.s2_d.d.next = bits::<6>(63);
            }
        } else {
            self.s2_big.d.next = self.cw.val();
            self.s2_small.d.next = self.pw.val();
            if self.s1_pzero.q.val() {
                self.s2_small.d.next = bits::<64>(0);
            }
            self.s2_bneg.d.next = self.s1_cneg.q.val();
            self.s2_sneg.d.next = self.s1_pneg.q.val();
            self.s2_ubig.d.next = self.s1_uc.q.val();
            self.s2_d.d.next = self.ndiff.val().get_bits::<6>(0);
            if self.ndiff.val().get_bits::<4>(6).any() {
                self.s2_d.d.next = bits::<6>(63);
            }
        }

        // ---- s3: the small term shifted right; the bits it loses as one sticky bit at bit 0.
        // (The mask of the lost bits without a carry chain: all ones shifted, inverted.)
        self.lost.next = self.s2_small.q.val() & !((!bits::<64>(0)) << self.s2_d.q.val());
        self.s3_small.d.next = self.s2_small.q.val() >> self.s2_d.q.val();
        if self.lost.val().any() {
            self.s3_small.d.next = (self.s2_small.q.val() >> self.s2_d.q.val()) | bits::<64>(1);
        }
        self.s3_big.d.next = self.s2_big.q.val();
        self.s3_sub.d.next = self.s2_bneg.q.val() ^ self.s2_sneg.q.val();
        self.s3_bneg.d.next = self.s2_bneg.q.val();
        self.s3_ubig.d.next = self.s2_ubig.q.val();
        self.s3_zero.d.next = self.s2_zero.q.val();

        // ---- s4: sum or difference (both terms below 2^62: no overflow).
        if self.s3_sub.q.val() {
            self.s4_sum.d.next = self.s3_big.q.val() - self.s3_small.q.val();
        } else {
            self.s4_sum.d.next = self.s3_big.q.val() + self.s3_small.q.val();
        }
        self.s4_bneg.d.next = self.s3_bneg.q.val();
        self.s4_ubig.d.next = self.s3_ubig.q.val();
        self.s4_zero.d.next = self.s3_zero.q.val();

        // ---- s5: sign and magnitude (a negative difference: the small term was the larger).
        self.s5_abs.d.next = self.s4_sum.q.val();
        self.s5_neg.d.next = self.s4_bneg.q.val();
        if self.s4_sum.q.val().get_bit(63) {
            self.s5_abs.d.next = bits::<64>(0) - self.s4_sum.q.val();
            self.s5_neg.d.next = !self.s4_bneg.q.val();
        }
        self.s5_ubig.d.next = self.s4_ubig.q.val();
        self.s5_zero.d.next = self.s4_zero.q.val();

        // ---- s6: leading zeros: each byte's count, the highest non-zero byte's wins.
        self.hi_off.next = bits::<7>(64);
        self.hi_n.next = bits::<3>(0);
        for i in 0..8 {
            self.lz[i].x.next = self.s5_abs.q.val().get_bits::<8>(8 * i);
            if !self.lz[i].zero.val() {
                self.hi_off.next = self.byte_lz[i].val();
                self.hi_n.next = self.lz[i].n.val();
            }
        }
        self.lzn.next = self.hi_off.val() + bit_cast::<7, 3>(self.hi_n.val());
        self.s6_abs.d.next = self.s5_abs.q.val();
        self.s6_lz.d.next = self.lzn.val();
        self.s6_neg.d.next = self.s5_neg.q.val();
        self.s6_ubig.d.next = self.s5_ubig.q.val();
        self.s6_zero.d.next = self.s5_zero.q.val() | !self.s5_abs.q.val().any();

        // ---- s7: normalized.
        self.s7_norm.d.next = self.s6_abs.q.val() << (self.s6_lz.q.val() & 63);
        self.s7_lz.d.next = self.s6_lz.q.val();
        self.s7_neg.d.next = self.s6_neg.q.val();
        self.s7_ubig.d.next = self.s6_ubig.q.val();
        self.s7_zero.d.next = self.s6_zero.q.val();

        // ---- s8: bits 63..40 kept, bit 39 the half, bits 38..0 sticky; ties to even. The
        // window's bit 0 has exponent U − 61, the kept bits' lowest U − 21 − lz.
        self.top.next = bit_cast::<25, 24>(self.s7_norm.q.val().get_bits::<24>(40));
        self.rounded.next = self.top.val();
        if self.s7_norm.q.val().get_bit(39) & (self.s7_norm.q.val().get_bits::<39>(0).any() | self.s7_norm.q.val().get_bit(40)) {
            self.rounded.next = self.top.val() + 1;
        }
        self.s8_sig.d.next = self.rounded.val().get_bits::<24>(0);
        self.s8_exp.d.next = self.s7_ubig.q.val() - 21 - bit_cast::<10, 7>(self.s7_lz.q.val());
        if self.rounded.val().get_bit(24) {
            self.s8_sig.d.next = bits::<24>(0x80_0000);
            self.s8_exp.d.next = self.s7_ubig.q.val() - 20 - bit_cast::<10, 7>(self.s7_lz.q.val());
        }
        self.s8_neg.d.next = self.s7_neg.q.val();
        self.s8_zero.d.next = self.s7_zero.q.val();
        self.neg.next = self.s8_neg.q.val();
        self.zero.next = self.s8_zero.q.val();
        self.sig.next = self.s8_sig.q.val();
        self.exp.next = self.s8_exp.q.val();
    }
}

crate::clocked!(IntFma);

/// A float32 (normal or zero) as the parts the add unit carries: `(neg, zero, sig, exp)` with
/// `v = ±sig · 2^exp`; `exp` as a 10-bit two's-complement pattern.
pub fn f32_unit_parts(v: f32) -> (bool, bool, u64, u64) {
    let b = v.to_bits();
    let e8 = (b >> 23) & 0xFF;
    let exp = (e8 as i32 - 150) as u64 & 0x3FF;
    (b >> 31 == 1, e8 == 0, (b & 0x7F_FFFF | 0x80_0000) as u64, exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// One value per cycle against `f32::mul_add` (the x86-64 fused multiply-add): every int8,
    /// ratios `r` from 2^-32 to 2^32 (some negative), addends of every magnitude the add unit meets, zero,
    /// near-cancellations (`c = −round(x·r)`) and ties.
    #[test]
    fn every_result_equals_the_float32_fused_multiply_add() {
        let mut rng = Rng::from_env("int-fma", 21);
        let f = |rng: &mut Rng, lo: i64, hi: i64| {
            let m = 1.0 + rng.below(1 << 23) as f32 / (1u32 << 23) as f32;
            m * 2f32.powi(rng.range(lo, hi) as i32)
        };
        let mut cases = vec![];
        for i in 0..12_000 {
            let x = rng.range(-128, 127) as i32;
            let r = if i % 5 == 0 { 2f32.powi(rng.range(-32, 31) as i32) } else { f(&mut rng, -32, 31) };
            let r = if i % 7 == 3 { -r } else { r };
            let c = match i % 6 {
                0 => 0.0,
                1 => -(x as f32 * r),
                2 if x != 0 => -(x as f32 * r) + f(&mut rng, -40, -1) * (x as f32 * r).abs(),
                3 => (x as f32 * r).round() + 0.5, // a tie after the sum, in some cases
                _ => {
                    let v = f(&mut rng, -70, 40);
                    if rng.below(2) == 0 {
                        v
                    } else {
                        -v
                    }
                }
            };
            // the unit's domain: c zero or normal, within the add unit's range
            assert!(c == 0.0 || (2f32.powi(-80)..2f32.powi(50)).contains(&c.abs()), "{c:e}");
            cases.push((x, r, c));
        }
        // Exact ties: x·r at half a unit of c = ±2^k (odd x, r = 2^(k−24)), both directions.
        for k in [-20, 0, 7, 30] {
            for x in [-7, -3, -1, 1, 3, 5, 127, -127] {
                for s in [1.0f32, -1.0] {
                    cases.push((x, 2f32.powi(k - 24), s * 2f32.powi(k)));
                }
            }
        }
        let mut h = Harness::new(IntFma::default()).unwrap();
        let mut got = vec![];
        for t in 0..cases.len() + FMA_REGS - 1 {
            let (x, r, c) = cases.get(t).copied().unwrap_or((0, 1.0, 0.0));
            let (rn, _, rs, re) = f32_unit_parts(r);
            let (cn, cz, cs, ce) = f32_unit_parts(c);
            let u = &mut h.uut;
            u.x.next = (x as u8 as u64).into();
            u.r_neg.next = rn;
            u.r_sig.next = rs.into();
            u.r_exp.next = re.into();
            u.c_neg.next = cn;
            u.c_zero.next = cz;
            u.c_sig.next = cs.into();
            u.c_exp.next = ce.into();
            h.step().unwrap();
            if t + 1 >= FMA_REGS {
                let u = &h.uut;
                let e = ((u.exp.val().index() as i32) << 22) >> 22;
                let v = if u.zero.val() { 0.0 } else { u.sig.val().index() as f64 * 2f64.powi(e) };
                got.push((if u.neg.val() { -v } else { v }, u.zero.val(), u.sig.val().index()));
            }
        }
        for (&(x, r, c), &(v, zero, sig)) in cases.iter().zip(&got) {
            let want = (x as f32).mul_add(r, c);
            assert!(zero || (0x80_0000..0x100_0000).contains(&sig), "fma({x}, {r:e}, {c:e}): significand {sig:#x}");
            assert_eq!(v, want as f64, "fma({x}, {r:e}, {c:e})");
        }
        assert_eq!(got.len(), cases.len());
    }
}
