//! # SignExt: an int8 sign-extended to 16 bits
//!
//! A block rather than an expression so that a vector of them (one per memory bank) stays a set
//! of plain connections in the parent: rust-hdl emits an expression on an indexed signal inside a
//! loop as one case per index, and a block's output is a wire.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `a` | in | 8 | int8 |
//! | `y` | out | 16 | the same value in 16 bits |

use rust_hdl::prelude::*;

/// Sign extension of an int8 to 16 bits.
#[derive(LogicBlock, Default)]
pub struct SignExt {
    /// int8 in.
    pub a: Signal<In, Bits<8>>,
    /// The same value in 16 bits.
    pub y: Signal<Out, Bits<16>>,
}

impl Logic for SignExt {
    #[hdl_gen]
    fn update(&mut self) {
        if self.a.val().get_bit(7) {
            self.y.next = bit_cast::<16, 8>(self.a.val()) | bits::<16>(0xFF00);
        } else {
            self.y.next = bit_cast::<16, 8>(self.a.val());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every int8: the output is its 16-bit two's complement.
    #[test]
    fn every_int8_extends_to_its_16_bit_value() {
        let mut s = SignExt::default();
        s.connect_all();
        for v in -128i64..=127 {
            s.a.next = ((v as u8) as u64).into();
            assert!(simulate(&mut s, 10), "settles");
            assert_eq!(s.y.val(), bits::<16>((v as i16 as u16) as u64), "{v}");
        }
    }
}
