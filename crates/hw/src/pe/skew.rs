//! # SkewLine: delays a row's input by its row index in slow cycles
//!
//! Row r of the array receives pixel p one slow cycle after row r−1 does, so the partial sum of
//! pixel p leaving PE (r−1, c) meets pixel p entering PE (r, c). The first cache is read once per
//! pixel for all rows at once; row r's datum and tag wait here for r slow cycles (registers load on
//! the strobe only). Row 0 has no skew line.
//!
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `strobe` | in | 1 | slow-cycle strobe |
//! | `x_in`, `tag_in` | in | 8, 5 | the row's datum and tag from the first cache |
//! | `x_out`, `tag_out` | out | 8, 5 | the same, `depth` slow cycles later |

use crate::pe::Tag;
use rust_hdl::prelude::*;

/// A `depth`-stage strobe-enabled delay line of datum and tag.
#[derive(LogicBlock)]
pub struct SkewLine {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Slow-cycle strobe.
    pub strobe: Signal<In, Bit>,
    /// Datum in.
    pub x_in: Signal<In, Bits<8>>,
    /// Tag in.
    pub tag_in: Signal<In, Tag>,
    /// Datum out.
    pub x_out: Signal<Out, Bits<8>>,
    /// Tag out.
    pub tag_out: Signal<Out, Tag>,
    /// Datum stages.
    x: Vec<DFF<Bits<8>>>,
    /// Tag stages.
    tag: Vec<DFF<Tag>>,
}

impl SkewLine {
    /// A line of `depth ≥ 1` stages.
    pub fn new(depth: usize) -> Self {
        assert!(depth >= 1, "a skew line needs at least one register");
        SkewLine {
            clock: Default::default(),
            strobe: Default::default(),
            x_in: Default::default(),
            tag_in: Default::default(),
            x_out: Default::default(),
            tag_out: Default::default(),
            x: (0..depth).map(|_| Default::default()).collect(),
            tag: (0..depth).map(|_| Default::default()).collect(),
        }
    }
}

impl Logic for SkewLine {
    #[hdl_gen]
    fn update(&mut self) {
        for i in 0..self.x.len() {
            self.x[i].clock.next = self.clock.val();
            self.x[i].d.next = self.x[i].q.val();
            self.tag[i].clock.next = self.clock.val();
            self.tag[i].d.next = self.tag[i].q.val();
        }
        if self.strobe.val() {
            self.x[0].d.next = self.x_in.val();
            self.tag[0].d.next = self.tag_in.val();
            for i in 1..self.x.len() {
                self.x[i].d.next = self.x[i - 1].q.val();
                self.tag[i].d.next = self.tag[i - 1].q.val();
            }
        }
        for last in (self.x.len() - 1)..self.x.len() {
            self.x_out.next = self.x[last].q.val();
            self.tag_out.next = self.tag[last].q.val();
        }
    }
}
