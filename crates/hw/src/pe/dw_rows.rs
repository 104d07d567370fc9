//! # DwRows: the row sums of the depthwise mode (issue #30, docs/conv-array.md)
//!
//! The hardware of the row-sum mapping that `accelgen_compiler::dw_map` specifies. The PE array
//! keeps its structure (one input port per row, the datum shifted PE to PE along the row, K
//! kernels per PE): what changes is where products go. Row r streams one channel of a pass's
//! channel group, its padded rows one after the other; the PEs of a row form `G` *column groups*
//! of `KW` PEs (`G` = ⌊C / KW⌋; the columns beyond G·KW are idle), and in sub-cycle s column group
//! g computes kernel row dy = g·k + s (k: the run's sub-cycles per slot) of the window whose left
//! column is the datum its last PE, column g·KW + KW − 1, holds. The compiler places the weights
//! so that PE (r, g·KW + j) holds `w[dy][KW − 1 − j]` as kernel s (zero where KW − 1 − j ≥ kw:
//! kernels narrower than KW).
//!
//! Each row and group sums its KW products (the PEs' registered products, a cycle after the
//! sub-cycle), and keeps its oldest PE's position: (y, x) in padded coordinates, counted from the
//! pass's first datum (tag bit `TAG_SWAP`) on the data entering that PE. The sum is a
//! contribution to output (oy, ox) = ((y − dy) / sh, x / sw) when the window exists: the datum is
//! valid, dy < kh, x ≤ `p_xlast` = (Wo − 1)·sw with x a multiple of sw, y ≥ dy, y − dy ≤
//! `p_ylast` = (Ho − 1)·sh with y − dy a multiple of sh (strides 1 and 2).
//!
//! Contributions meet in *line FIFOs*, `kh_max − 1` per row: kernel row 0's sum enters FIFO 0;
//! kernel row dy (0 < dy < kh − 1) takes the oldest entry of FIFO dy − 1, adds its sum and
//! enters FIFO dy; kernel row kh − 1 takes the oldest entry of FIFO kh − 2, adds its sum, and the
//! output is complete. Output rows are finished in raster order within a kernel row, so a FIFO's
//! order is the order its consumer needs; a FIFO holds at most about one output row, Wo + a few
//! entries (the compiler checks Wo against `line_depth`). In a slot the groups compute different
//! kernel rows, so each FIFO has at most one writer and one reader a cycle, and at most one group
//! completes an output a cycle. **Global mode** (`p_global`, global average pooling: a 1×1
//! kernel over the whole map) adds every contribution into one register per row and completes the
//! output at position (`p_ylast`, `p_xlast`).
//!
//! Completed outputs enter the row's *output FIFO*. Rows lag each other (the skew lines of the
//! array delay row r by r slots), so the rows' outputs are taken in lockstep: `ready` when every
//! row's output FIFO holds one, `pop` takes one from each, and `o_sum` gives it a cycle later, as
//! the accumulation columns' drain reads do.
//!
//! Pipeline: cycle f + 1 (the products of sub-cycle f) forms the group sums and the window
//! test (stage P), registered; f + 2 reads the line FIFO the contribution needs (stage Q); f + 3
//! adds and decides where the sum goes (stage R), registered; f + 4 writes the next line FIFO or
//! the output FIFO (stage S). A FIFO entry is read a whole output row after it is written, so
//! the later write changes no order. `fault` pulses (a cycle
//! later) for each cycle in which a line FIFO was read while empty or written while full, or an
//! output FIFO written while full or read while empty: a run the compiler should not have issued
//! (the testbench's invariant counter `dw_fifo_faults` counts the pulses).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock`, `start` | in | 1, 1 | clock; a run starts (FIFOs empty, registers cleared) |
//! | `strobe`, `sub` | in | 1, 4 | last fast cycle of a slot (PE input registers load); the sub-cycle index |
//! | `prod` | in | 32 × R·G·KW | PE (r, c)'s product, sign-extended (entry r·G·KW + c), a cycle after its sub-cycle |
//! | `tv`, `tf` | in | 1 × R·G, 1 × R·G | the datum entering column g·KW + KW − 1 of row r at the strobe (entry r·G + g) is valid (tag bit `TAG_VALID`), is its pass's first (`TAG_SWAP`) |
//! | `p_k`, `p_kh` | in | 16, 16 | sub-cycles per slot; kernel height (1 ..= `kh_max`) |
//! | `p_wp`, `p_xlast`, `p_ylast` | in | 16 × 3 | padded width; (Wo − 1)·sw; (Ho − 1)·sh |
//! | `p_sw2`, `p_sh2`, `p_global` | in | 1 × 3 | horizontal, vertical stride 2; global mode |
//! | `pop` | in | 1 | take one output from every row |
//! | `o_sum` | out | 32 × R | the outputs taken, a cycle after `pop` |
//! | `ready` | out | 1 | every row's output FIFO holds an output |
//! | `fault` | out | 1 | pulse: a FIFO was read empty or written full in the cycle before |

use crate::mem::SyncRam;
use crate::vec_of;
use rust_hdl::prelude::*;

/// Generator parameters of the depthwise row sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DwRowsParams {
    /// PE rows R.
    pub rows: usize,
    /// PE columns C.
    pub cols: usize,
    /// PEs per column group, KW: the widest kernel the mode runs.
    pub kw: usize,
    /// The tallest kernel the mode runs, `kh_max` (line FIFOs per row: `kh_max` − 1).
    pub kh_max: usize,
    /// Entries of each line FIFO (a power of two): the widest output row plus a few.
    pub line_depth: usize,
    /// Entries of each output FIFO (a power of two).
    pub out_depth: usize,
}

impl DwRowsParams {
    /// Column groups G = ⌊C / KW⌋.
    pub fn groups(&self) -> usize {
        self.cols / self.kw
    }

    /// Output FIFO entries for `rows` rows: the rows' lag (one slot per row, at most an output
    /// per slot) twice over, at least 4.
    pub fn out_depth_for(rows: usize) -> usize {
        (2 * rows).next_power_of_two().max(4)
    }
}

/// The depthwise row sums of all R rows.
#[derive(LogicBlock)]
pub struct DwRows {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// A run starts.
    pub start: Signal<In, Bit>,
    /// Last fast cycle of a slot.
    pub strobe: Signal<In, Bit>,
    /// Sub-cycle index of this cycle.
    pub sub: Signal<In, Bits<4>>,
    /// PE (r, c)'s registered product, sign-extended, entry r·G·KW + c.
    pub prod: Vec<Signal<In, Bits<32>>>,
    /// The datum entering each group's last PE at the strobe is valid, entry r·G + g.
    pub tv: Vec<Signal<In, Bit>>,
    /// It is its pass's first datum.
    pub tf: Vec<Signal<In, Bit>>,
    /// Sub-cycles per slot, k.
    pub p_k: Signal<In, Bits<16>>,
    /// Kernel height.
    pub p_kh: Signal<In, Bits<16>>,
    /// Padded input width.
    pub p_wp: Signal<In, Bits<16>>,
    /// Left column of the last window of a row, (Wo − 1)·sw.
    pub p_xlast: Signal<In, Bits<16>>,
    /// Top row of the last window, (Ho − 1)·sh.
    pub p_ylast: Signal<In, Bits<16>>,
    /// Horizontal stride 2.
    pub p_sw2: Signal<In, Bit>,
    /// Vertical stride 2.
    pub p_sh2: Signal<In, Bit>,
    /// Global mode: one output per row and pass, the sum of every contribution.
    pub p_global: Signal<In, Bit>,
    /// Take one output from every row.
    pub pop: Signal<In, Bit>,
    /// The outputs taken, a cycle after `pop`.
    pub o_sum: Vec<Signal<Out, Bits<32>>>,
    /// Every row's output FIFO holds an output.
    pub ready: Signal<Out, Bit>,
    /// Pulse: a FIFO was read empty or written full in the cycle before.
    pub fault: Signal<Out, Bit>,
    // Positions of each group's last PE's datum: now (y, x, v) and a cycle ago (py, px, pv).
    y: Vec<DFF<Bits<16>>>,
    x: Vec<DFF<Bits<16>>>,
    v: Vec<DFF<Bit>>,
    py: Vec<DFF<Bits<16>>>,
    px: Vec<DFF<Bits<16>>>,
    pv: Vec<DFF<Bit>>,
    /// The sub-cycle a cycle ago (of the products present now).
    psub: DFF<Bits<16>>,
    /// g·k per group (a chain of adds).
    gk: Vec<Signal<Local, Bits<16>>>,
    /// Kernel row of each group's products now.
    dy: Vec<Signal<Local, Bits<16>>>,
    /// Top row of the window: y − dy.
    ym: Vec<Signal<Local, Bits<16>>>,
    /// Running sums along each group (the last of a group is its sum).
    part: Vec<Signal<Local, Bits<32>>>,
    /// The group's sum is a contribution.
    pval: Vec<Signal<Local, Bit>>,
    /// Group 0's window is the one at (`p_ylast`, `p_xlast`) (global mode's last), per row.
    plast: Vec<Signal<Local, Bit>>,
    // Stage Q and stage R registers, per row and group.
    qv: Vec<DFF<Bit>>,
    qdy: Vec<DFF<Bits<16>>>,
    qsum: Vec<DFF<Bits<32>>>,
    /// Group 0's window is the last (global mode), per row.
    qlast: Vec<DFF<Bit>>,
    rv: Vec<DFF<Bit>>,
    rdy: Vec<DFF<Bits<16>>>,
    rsum: Vec<DFF<Bits<32>>>,
    rlast: Vec<DFF<Bit>>,
    /// Line FIFOs, entry r·(kh_max − 1) + i.
    line: Vec<SyncRam<Bits<32>>>,
    lwr: Vec<DFF<Bits<16>>>,
    lrd: Vec<DFF<Bits<16>>>,
    lcnt: Vec<DFF<Bits<16>>>,
    lpush: Vec<Signal<Local, Bit>>,
    /// Stage S: the line-FIFO writes and the outputs stage R decided, registered (timing: the
    /// RAM read, the add and the write's data select are not one path).
    spush: Vec<DFF<Bit>>,
    spdata: Vec<DFF<Bits<32>>>,
    semit: Vec<DFF<Bit>>,
    sedata: Vec<DFF<Bits<32>>>,
    lpop: Vec<Signal<Local, Bit>>,
    lpdata: Vec<Signal<Local, Bits<32>>>,
    /// Each group's contribution plus what it took from its line FIFO (stage R).
    add: Vec<Signal<Local, Bits<32>>>,
    /// The group completes an output (stage R).
    fin: Vec<Signal<Local, Bit>>,
    /// A row completes an output, and its value.
    emit: Vec<Signal<Local, Bit>>,
    edata: Vec<Signal<Local, Bits<32>>>,
    /// Global mode's running sums.
    acc: Vec<DFF<Bits<32>>>,
    /// Output FIFOs, one per row.
    outq: Vec<SyncRam<Bits<32>>>,
    owr: Vec<DFF<Bits<16>>>,
    ord: Vec<DFF<Bits<16>>>,
    ocnt: Vec<DFF<Bits<16>>>,
    fault_r: DFF<Bit>,
    lmask: Constant<Bits<16>>,
    ldepth: Constant<Bits<16>>,
    omask: Constant<Bits<16>>,
    odepth: Constant<Bits<16>>,
    /// 0, 1, …, `kh_max` − 1: kernel-row numbers to compare with.
    lidx: Vec<Constant<Bits<16>>>,
    /// Generator constants bound as one-value loops in `update` (skipped by the derive).
    _kw: usize,
    _groups: usize,
    _lines: usize,
}

impl DwRows {
    /// The row sums of `p` (G ≥ 1, `kh_max` ≥ 2, power-of-two depths).
    pub fn new(p: &DwRowsParams) -> DwRows {
        let g = p.groups();
        assert!(p.kw >= 1 && g >= 1 && p.rows >= 1, "validated by the configuration");
        assert!(p.kh_max >= 2 && p.line_depth.is_power_of_two() && p.out_depth.is_power_of_two());
        assert!(p.line_depth < 1 << 16 && p.out_depth < 1 << 16);
        let (rg, nl) = (p.rows * g, p.rows * (p.kh_max - 1));
        DwRows {
            clock: Default::default(),
            start: Default::default(),
            strobe: Default::default(),
            sub: Default::default(),
            prod: vec_of(rg * p.kw),
            tv: vec_of(rg),
            tf: vec_of(rg),
            p_k: Default::default(),
            p_kh: Default::default(),
            p_wp: Default::default(),
            p_xlast: Default::default(),
            p_ylast: Default::default(),
            p_sw2: Default::default(),
            p_sh2: Default::default(),
            p_global: Default::default(),
            pop: Default::default(),
            o_sum: vec_of(p.rows),
            ready: Default::default(),
            fault: Default::default(),
            y: vec_of(rg),
            x: vec_of(rg),
            v: vec_of(rg),
            py: vec_of(rg),
            px: vec_of(rg),
            pv: vec_of(rg),
            psub: Default::default(),
            gk: vec_of(g),
            dy: vec_of(g),
            ym: vec_of(rg),
            part: vec_of(rg * p.kw),
            pval: vec_of(rg),
            plast: vec_of(p.rows),
            qv: vec_of(rg),
            qdy: vec_of(rg),
            qsum: vec_of(rg),
            qlast: vec_of(p.rows),
            rv: vec_of(rg),
            rdy: vec_of(rg),
            rsum: vec_of(rg),
            rlast: vec_of(p.rows),
            line: (0..nl).map(|_| SyncRam::collision_free(p.line_depth)).collect(),
            lwr: vec_of(nl),
            lrd: vec_of(nl),
            lcnt: vec_of(nl),
            lpush: vec_of(nl),
            spush: vec_of(nl),
            spdata: vec_of(nl),
            semit: vec_of(p.rows),
            sedata: vec_of(p.rows),
            lpop: vec_of(nl),
            lpdata: vec_of(nl),
            add: vec_of(rg),
            fin: vec_of(rg),
            emit: vec_of(p.rows),
            edata: vec_of(p.rows),
            acc: vec_of(p.rows),
            outq: (0..p.rows).map(|_| SyncRam::collision_free(p.out_depth)).collect(),
            owr: vec_of(p.rows),
            ord: vec_of(p.rows),
            ocnt: vec_of(p.rows),
            fault_r: Default::default(),
            lmask: Constant::new((p.line_depth as u64 - 1).into()),
            ldepth: Constant::new((p.line_depth as u64).into()),
            omask: Constant::new((p.out_depth as u64 - 1).into()),
            odepth: Constant::new((p.out_depth as u64).into()),
            lidx: (0..p.kh_max).map(|i| Constant::new((i as u64).into())).collect(),
            _kw: p.kw,
            _groups: g,
            _lines: p.kh_max - 1,
        }
    }
}

impl Logic for DwRows {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, psub, fault_r);
        self.fault_r.d.next = false;
        self.psub.d.next = bit_cast::<16, 4>(self.sub.val());
        // g·k per group.
        self.gk[0].next = 0.into();
        for g in 1..self.gk.len() {
            self.gk[g].next = self.gk[g - 1].val() + self.p_k.val();
        }
        for g in 0..self.gk.len() {
            self.dy[g].next = self.gk[g].val() + self.psub.q.val();
        }
            for ng in self._groups..(self._groups + 1) {
                for kw in self._kw..(self._kw + 1) {
                    for nl in self._lines..(self._lines + 1) {
                        // ---- Positions: the datum entering each group's last PE at the strobe.
                        for i in 0..self.y.len() {
                            self.y[i].clock.next = self.clock.val();
                            self.x[i].clock.next = self.clock.val();
                            self.v[i].clock.next = self.clock.val();
                            self.py[i].clock.next = self.clock.val();
                            self.px[i].clock.next = self.clock.val();
                            self.pv[i].clock.next = self.clock.val();
                            self.y[i].d.next = self.y[i].q.val();
                            self.x[i].d.next = self.x[i].q.val();
                            self.v[i].d.next = self.v[i].q.val();
                            if self.strobe.val() {
                                self.v[i].d.next = self.tv[i].val();
                                if self.tv[i].val() {
                                    if self.tf[i].val() {
                                        self.y[i].d.next = 0.into();
                                        self.x[i].d.next = 0.into();
                                    } else if self.x[i].q.val() + 1 == self.p_wp.val() {
                                        self.y[i].d.next = self.y[i].q.val() + 1;
                                        self.x[i].d.next = 0.into();
                                    } else {
                                        self.x[i].d.next = self.x[i].q.val() + 1;
                                    }
                                }
                            }
                            if self.start.val() {
                                self.v[i].d.next = false;
                            }
                            self.py[i].d.next = self.y[i].q.val();
                            self.px[i].d.next = self.x[i].q.val();
                            self.pv[i].d.next = self.v[i].q.val();
                        }
                        // ---- Stage P: group sums and the window test.
                        for r in 0..self.o_sum.len() {
                            for g in 0..self._groups {
                                self.part[(r * ng + g) * kw].next = self.prod[(r * ng + g) * kw].val();
                                for j in 1..self._kw {
                                    self.part[(r * ng + g) * kw + j].next =
                                        self.part[(r * ng + g) * kw + j - 1].val() + self.prod[(r * ng + g) * kw + j].val();
                                }
                                self.ym[r * ng + g].next = self.py[r * ng + g].q.val() - self.dy[g].val();
                                self.pval[r * ng + g].next = self.pv[r * ng + g].q.val()
                                    & (self.dy[g].val() < self.p_kh.val())
                                    & (self.px[r * ng + g].q.val() <= self.p_xlast.val())
                                    & !(self.p_sw2.val() & self.px[r * ng + g].q.val().get_bit(0))
                                    & (self.py[r * ng + g].q.val() >= self.dy[g].val())
                                    & (self.ym[r * ng + g].val() <= self.p_ylast.val())
                                    & !(self.p_sh2.val() & self.ym[r * ng + g].val().get_bit(0));
                            }
                        }
                        for r in 0..self.o_sum.len() {
                            self.plast[r].next = (self.px[r * ng].q.val() == self.p_xlast.val()) & (self.ym[r * ng].val() == self.p_ylast.val());
                        }
                        for i in 0..self.y.len() {
                            self.qv[i].clock.next = self.clock.val();
                            self.qdy[i].clock.next = self.clock.val();
                            self.qsum[i].clock.next = self.clock.val();
                            self.rv[i].clock.next = self.clock.val();
                            self.rdy[i].clock.next = self.clock.val();
                            self.rsum[i].clock.next = self.clock.val();
                            self.qv[i].d.next = self.pval[i].val() & !self.start.val();
                            self.qsum[i].d.next = self.part[i * kw + kw - 1].val();
                            self.rv[i].d.next = self.qv[i].q.val() & !self.start.val();
                            self.rdy[i].d.next = self.qdy[i].q.val();
                            self.rsum[i].d.next = self.qsum[i].q.val();
                        }
                        for r in 0..self.o_sum.len() {
                            for g in 0..self._groups {
                                self.qdy[r * ng + g].d.next = self.dy[g].val();
                            }
                            self.qlast[r].clock.next = self.clock.val();
                            self.rlast[r].clock.next = self.clock.val();
                            self.qlast[r].d.next = self.plast[r].val();
                            self.rlast[r].d.next = self.qlast[r].q.val();
                        }
                        // ---- Stage Q: read the line FIFO a contribution continues; stage R:
                        // add, and write the next line FIFO or complete the output.
                        for r in 0..self.o_sum.len() {
                            for i in 0..self._lines {
                                self.lpop[r * nl + i].next = false;
                                self.lpush[r * nl + i].next = false;
                                self.lpdata[r * nl + i].next = 0.into();
                                for g in 0..self._groups {
                                    if self.qv[r * ng + g].q.val() & (self.qdy[r * ng + g].q.val() == self.lidx[i + 1].val()) {
                                        self.lpop[r * nl + i].next = true;
                                    }
                                }
                            }
                            self.emit[r].next = false;
                            self.edata[r].next = 0.into();
                            for g in 0..self._groups {
                                self.add[r * ng + g].next = self.rsum[r * ng + g].q.val();
                                for i in 0..self._lines {
                                    if self.rdy[r * ng + g].q.val() == self.lidx[i + 1].val() {
                                        self.add[r * ng + g].next = self.rsum[r * ng + g].q.val() + self.line[r * nl + i].r_data.val();
                                    }
                                }
                                self.fin[r * ng + g].next = self.rdy[r * ng + g].q.val() + 1 == self.p_kh.val();
                                if self.rv[r * ng + g].q.val() & !self.p_global.val() {
                                    if self.fin[r * ng + g].val() {
                                        self.emit[r].next = true;
                                        self.edata[r].next = self.add[r * ng + g].val();
                                    } else {
                                        for i in 0..self._lines {
                                            if self.rdy[r * ng + g].q.val() == self.lidx[i].val() {
                                                self.lpush[r * nl + i].next = true;
                                                self.lpdata[r * nl + i].next = self.add[r * ng + g].val();
                                            }
                                        }
                                    }
                                }
                            }
                            // Global mode: group 0 alone computes kernel row 0 of a 1×1 kernel.
                            self.acc[r].clock.next = self.clock.val();
                            self.acc[r].d.next = self.acc[r].q.val();
                            if self.rv[r * ng].q.val() & self.p_global.val() {
                                if self.rlast[r].q.val() {
                                    self.emit[r].next = true;
                                    self.edata[r].next = self.acc[r].q.val() + self.rsum[r * ng].q.val();
                                    self.acc[r].d.next = 0.into();
                                } else {
                                    self.acc[r].d.next = self.acc[r].q.val() + self.rsum[r * ng].q.val();
                                }
                            }
                            if self.start.val() {
                                self.acc[r].d.next = 0.into();
                            }
                            for i in 0..self._lines {
                                self.line[r * nl + i].clock.next = self.clock.val();
                                self.lwr[r * nl + i].clock.next = self.clock.val();
                                self.lrd[r * nl + i].clock.next = self.clock.val();
                                self.lcnt[r * nl + i].clock.next = self.clock.val();
                                self.line[r * nl + i].r_en.next = self.lpop[r * nl + i].val();
                                self.line[r * nl + i].r_addr.next = self.lrd[r * nl + i].q.val() & self.lmask.val();
                                self.spush[r * nl + i].clock.next = self.clock.val();
                                self.spdata[r * nl + i].clock.next = self.clock.val();
                                self.spush[r * nl + i].d.next = self.lpush[r * nl + i].val() & !self.start.val();
                                self.spdata[r * nl + i].d.next = self.lpdata[r * nl + i].val();
                                self.line[r * nl + i].w_en.next = self.spush[r * nl + i].q.val();
                                self.line[r * nl + i].w_addr.next = self.lwr[r * nl + i].q.val() & self.lmask.val();
                                self.line[r * nl + i].w_data.next = self.spdata[r * nl + i].q.val();
                                self.lwr[r * nl + i].d.next = self.lwr[r * nl + i].q.val();
                                self.lrd[r * nl + i].d.next = self.lrd[r * nl + i].q.val();
                                self.lcnt[r * nl + i].d.next = self.lcnt[r * nl + i].q.val();
                                if self.spush[r * nl + i].q.val() {
                                    self.lwr[r * nl + i].d.next = self.lwr[r * nl + i].q.val() + 1;
                                    if self.lcnt[r * nl + i].q.val() == self.ldepth.val() {
                                        self.fault_r.d.next = true;
                                    }
                                }
                                if self.lpop[r * nl + i].val() {
                                    self.lrd[r * nl + i].d.next = self.lrd[r * nl + i].q.val() + 1;
                                    if self.lcnt[r * nl + i].q.val() == 0 {
                                        self.fault_r.d.next = true;
                                    }
                                }
                                if self.spush[r * nl + i].q.val() & !self.lpop[r * nl + i].val() {
                                    self.lcnt[r * nl + i].d.next = self.lcnt[r * nl + i].q.val() + 1;
                                }
                                if self.lpop[r * nl + i].val() & !self.spush[r * nl + i].q.val() {
                                    self.lcnt[r * nl + i].d.next = self.lcnt[r * nl + i].q.val() - 1;
                                }
                                if self.start.val() {
                                    self.lwr[r * nl + i].d.next = 0.into();
                                    self.lrd[r * nl + i].d.next = 0.into();
                                    self.lcnt[r * nl + i].d.next = 0.into();
                                }
                            }
                        }
                    }
                }
            }
        // ---- Output FIFOs, taken in lockstep.
        self.ready.next = true;
        for r in 0..self.o_sum.len() {
            self.outq[r].clock.next = self.clock.val();
            self.owr[r].clock.next = self.clock.val();
            self.ord[r].clock.next = self.clock.val();
            self.ocnt[r].clock.next = self.clock.val();
            self.semit[r].clock.next = self.clock.val();
            self.sedata[r].clock.next = self.clock.val();
            self.semit[r].d.next = self.emit[r].val() & !self.start.val();
            self.sedata[r].d.next = self.edata[r].val();
            self.outq[r].w_en.next = self.semit[r].q.val();
            self.outq[r].w_addr.next = self.owr[r].q.val() & self.omask.val();
            self.outq[r].w_data.next = self.sedata[r].q.val();
            self.outq[r].r_en.next = self.pop.val();
            self.outq[r].r_addr.next = self.ord[r].q.val() & self.omask.val();
            self.o_sum[r].next = self.outq[r].r_data.val();
            self.owr[r].d.next = self.owr[r].q.val();
            self.ord[r].d.next = self.ord[r].q.val();
            self.ocnt[r].d.next = self.ocnt[r].q.val();
            if self.ocnt[r].q.val() == 0 {
                self.ready.next = false;
            }
            if self.semit[r].q.val() {
                self.owr[r].d.next = self.owr[r].q.val() + 1;
                if self.ocnt[r].q.val() == self.odepth.val() {
                    self.fault_r.d.next = true;
                }
            }
            if self.pop.val() {
                self.ord[r].d.next = self.ord[r].q.val() + 1;
                if self.ocnt[r].q.val() == 0 {
                    self.fault_r.d.next = true;
                }
            }
            if self.semit[r].q.val() & !self.pop.val() {
                self.ocnt[r].d.next = self.ocnt[r].q.val() + 1;
            }
            if self.pop.val() & !self.semit[r].q.val() {
                self.ocnt[r].d.next = self.ocnt[r].q.val() - 1;
            }
            if self.start.val() {
                self.owr[r].d.next = 0.into();
                self.ord[r].d.next = 0.into();
                self.ocnt[r].d.next = 0.into();
            }
        }
        self.fault.next = self.fault_r.q.val();
    }
}

crate::clocked!(DwRows);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pe::{Pe, PeFault, PeParams, RegMul, TAG_BANK, TAG_PAD, TAG_SWAP, TAG_VALID};
    use crate::sim::Harness;
    use crate::testutil::Rng;

    /// What the test drives this cycle (plain values: the bench's `update` applies them).
    #[derive(Clone, Debug, Default)]
    struct Drive {
        strobe: bool,
        sub: u64,
        k: u64,
        x: Vec<u8>,
        tag: Vec<u8>,
        w_we: bool,
        w_sel: u64,
        w_bank: bool,
        w_data: Vec<u8>,
        start: bool,
        pop: bool,
        kh: u64,
        wp: u64,
        xlast: u64,
        ylast: u64,
        sw2: bool,
        sh2: bool,
        global: bool,
    }

    /// R rows of C real PEs, their products formed on their observation ports (`x_out` ×
    /// `w_used`, registered: the multiply the PE itself does, a cycle after its sub-cycle), and
    /// the row sums. The wiring of the rows (datum and tag PE to PE, each group's entering tag)
    /// is the conv engine's; the rows' inputs come from the test.
    #[derive(LogicBlock)]
    struct DwBench {
        clock: Signal<In, Clock>,
        pes: Vec<Pe>,
        muls: Vec<RegMul<8, 8, 16>>,
        dw: DwRows,
        _d: Drive,
        _p: DwRowsParams,
    }

    impl Logic for DwBench {
        fn update(&mut self) {
            let (p, d) = (self._p, &self._d);
            let (nr, nc, kw, ng) = (p.rows, p.cols, p.kw, p.groups());
            let ksel = |s: u64| Bits::<16>::from(1u64 << s);
            for r in 0..nr {
                for c in 0..nc {
                    let i = r * nc + c;
                    let (x_in, tag_in) = if c == 0 {
                        (Bits::<8>::from(u64::from(d.x[r])), Bits::<8>::from(u64::from(d.tag[r])))
                    } else {
                        (self.pes[i - 1].x_out.val(), self.pes[i - 1].tag_out.val())
                    };
                    let pe = &mut self.pes[i];
                    pe.clock.next = self.clock.val();
                    pe.strobe.next = d.strobe;
                    pe.ksel.next = ksel(d.sub);
                    pe.ksel_nx.next = ksel((d.sub + 1) % d.k.max(1));
                    pe.x_in.next = x_in;
                    pe.tag_in.next = tag_in;
                    pe.psum_in.next = 0.into();
                    pe.sum_at.next = 1.into();
                    pe.w_we.next = d.w_we;
                    pe.w_sel.next = d.w_sel.into();
                    pe.w_bank.next = d.w_bank;
                    pe.w_data.next = u64::from(d.w_data[i]).into();
                    let (a, b) = (pe.x_out.val(), pe.w_used.val());
                    self.muls[i].clock.next = self.clock.val();
                    self.muls[i].a.next = a;
                    self.muls[i].b.next = b;
                }
            }
            let dw = &mut self.dw;
            dw.clock.next = self.clock.val();
            dw.start.next = d.start;
            dw.strobe.next = d.strobe;
            dw.sub.next = d.sub.into();
            dw.p_k.next = d.k.into();
            dw.p_kh.next = d.kh.into();
            dw.p_wp.next = d.wp.into();
            dw.p_xlast.next = d.xlast.into();
            dw.p_ylast.next = d.ylast.into();
            dw.p_sw2.next = d.sw2;
            dw.p_sh2.next = d.sh2;
            dw.p_global.next = d.global;
            dw.pop.next = d.pop;
            for r in 0..nr {
                for c in 0..ng * kw {
                    let v = self.muls[r * nc + c].p.val().index() as u16 as i16 as i32 as u32;
                    dw.prod[r * ng * kw + c].next = u64::from(v).into();
                }
                for g in 0..ng {
                    let cg = g * kw + kw - 1;
                    let tag = if cg == 0 { u64::from(d.tag[r]).into() } else { self.pes[r * nc + cg - 1].tag_out.val() };
                    dw.tv[r * ng + g].next = tag.get_bit(TAG_VALID);
                    dw.tf[r * ng + g].next = tag.get_bit(TAG_SWAP);
                }
            }
        }

        fn connect(&mut self) {
            for pe in &mut self.pes {
                pe.clock.connect();
                pe.strobe.connect();
                pe.ksel.connect();
                pe.ksel_nx.connect();
                pe.x_in.connect();
                pe.tag_in.connect();
                pe.psum_in.connect();
                pe.sum_at.connect();
                pe.w_we.connect();
                pe.w_sel.connect();
                pe.w_bank.connect();
                pe.w_data.connect();
            }
            for m in &mut self.muls {
                m.clock.connect();
                m.a.connect();
                m.b.connect();
            }
            let dw = &mut self.dw;
            dw.clock.connect();
            dw.start.connect();
            dw.strobe.connect();
            dw.sub.connect();
            dw.p_k.connect();
            dw.p_kh.connect();
            dw.p_wp.connect();
            dw.p_xlast.connect();
            dw.p_ylast.connect();
            dw.p_sw2.connect();
            dw.p_sh2.connect();
            dw.p_global.connect();
            dw.pop.connect();
            dw.prod.iter_mut().for_each(|s| s.connect());
            dw.tv.iter_mut().for_each(|s| s.connect());
            dw.tf.iter_mut().for_each(|s| s.connect());
        }
    }

    crate::clocked!(DwBench);

    /// A depthwise layer for the bench: `passes` groups of R channels.
    #[derive(Clone, Debug)]
    struct Layer {
        passes: usize,
        h: usize,
        w: usize,
        kh: usize,
        kw: usize,
        sh: usize,
        sw: usize,
        /// top, left, bottom, right
        pads: [usize; 4],
        pad_value: i8,
        global: bool,
        k: usize,
        x: Vec<i8>,
        wt: Vec<i8>,
    }

    impl Layer {
        fn hp(&self) -> usize {
            self.h + self.pads[0] + self.pads[2]
        }
        fn wp(&self) -> usize {
            self.w + self.pads[1] + self.pads[3]
        }
        fn out(&self) -> (usize, usize) {
            ((self.hp() - self.kh) / self.sh + 1, (self.wp() - self.kw) / self.sw + 1)
        }
        fn xpad(&self, ch: usize, y: usize, x: usize) -> (i8, bool) {
            let (iy, ix) = (y as isize - self.pads[0] as isize, x as isize - self.pads[1] as isize);
            if iy >= 0 && (iy as usize) < self.h && ix >= 0 && (ix as usize) < self.w {
                (self.x[(ch * self.h + iy as usize) * self.w + ix as usize], false)
            } else {
                (self.pad_value, true)
            }
        }
        /// Each channel's outputs in raster order, from the definition of a depthwise
        /// convolution (global: the sum over the padded map of the 1×1 kernel's products).
        fn reference(&self, rows: usize) -> Vec<Vec<i32>> {
            let (ho, wo) = self.out();
            (0..self.passes * rows)
                .map(|ch| {
                    if self.global {
                        let s = (0..self.hp())
                            .flat_map(|y| (0..self.wp()).map(move |x| (y, x)))
                            .map(|(y, x)| i32::from(self.xpad(ch, y, x).0) * i32::from(self.wt[ch]))
                            .sum();
                        return vec![s];
                    }
                    let mut out = Vec::new();
                    for oy in 0..ho {
                        for ox in 0..wo {
                            let mut s = 0i32;
                            for dy in 0..self.kh {
                                for dx in 0..self.kw {
                                    let w = self.wt[(ch * self.kh + dy) * self.kw + dx];
                                    s += i32::from(w) * i32::from(self.xpad(ch, oy * self.sh + dy, ox * self.sw + dx).0);
                                }
                            }
                            out.push(s);
                        }
                    }
                    out
                })
                .collect()
        }
        /// PE (r, c)'s kernel s in pass p: the row-sum mapping's placement.
        fn weight(&self, p: &DwRowsParams, pass: usize, r: usize, c: usize, s: usize) -> i8 {
            let (g, j) = (c / p.kw, c % p.kw);
            if g >= p.groups() {
                return 0;
            }
            let (dy, dx) = (g * self.k + s, p.kw - 1 - j);
            if dy < self.kh && dx < self.kw {
                self.wt[((pass * p.rows + r) * self.kh + dy) * self.kw + dx]
            } else {
                0
            }
        }
    }

    /// Streams the layer through the bench: row r's data r slots after row 0's (the array's
    /// skew), passes back to back where the next pass's weights can be written during the
    /// current one, else after a gap; pops every output as soon as all rows hold one. Returns
    /// each row's outputs and the cycles `fault` pulsed in.
    fn run(p: &DwRowsParams, kernels: usize, l: &Layer, gaps: usize) -> (Vec<Vec<i32>>, u64) {
        let nr = p.rows;
        let pes = (0..nr * p.cols).map(|_| Pe::new(&PeParams { kernels, fault: PeFault::None })).collect();
        let muls = (0..nr * p.cols).map(|_| RegMul::signed()).collect();
        let (ho, wo) = l.out();
        let k = l.k as u64;
        let base = Drive {
            k,
            x: vec![0; nr],
            tag: vec![0; nr],
            w_data: vec![0; nr * p.cols],
            kh: l.kh as u64,
            wp: l.wp() as u64,
            xlast: ((wo - 1) * l.sw) as u64,
            ylast: ((ho - 1) * l.sh) as u64,
            sw2: l.sw == 2,
            sh2: l.sh == 2,
            global: l.global,
            ..Drive::default()
        };
        let bench = DwBench { clock: Default::default(), pes, muls, dw: DwRows::new(p), _d: base.clone(), _p: *p };
        let mut h = Harness::new(bench).unwrap();
        // The slot schedule of row 0: per slot, (pass, y, x) or a bubble; and the slot in which
        // each pass's weights are written (kernel s in sub-cycle s).
        let mut sched: Vec<Option<(usize, usize, usize)>> = vec![None; 2];
        let mut wslot = Vec::new();
        let mut starts: Vec<usize> = Vec::new();
        for pass in 0..l.passes {
            // The bank this pass writes was swapped in by pass − 2 in every PE once its first
            // datum crossed the array (R − 1 slots of skew, C − 1 PEs).
            let free = if pass >= 2 { starts[pass - 2] + nr + p.cols } else { 0 };
            let ws = free.max(sched.len().saturating_sub(1));
            wslot.push(ws);
            // Its first datum loads at the strobe ending the slot before its start: the weights
            // are written a slot before that.
            let start = sched.len().max(ws + 2) + gaps;
            sched.resize(start, None);
            starts.push(start);
            for y in 0..l.hp() {
                for x in 0..l.wp() {
                    sched.push(Some((pass, y, x)));
                }
            }
        }
        let slots = sched.len() + nr + p.cols + 4;
        let want: usize = if l.global { l.passes } else { l.passes * ho * wo };
        let mut got: Vec<Vec<i32>> = vec![Vec::new(); nr];
        let mut d = base.clone();
        d.start = true;
        h.uut._d = d;
        h.step().unwrap();
        let mut slot = 0usize;
        let mut faults = 0u64;
        let mut cycle_budget = (slots + want + 64) * l.k + 64;
        loop {
            for s in 0..l.k {
                let mut d = base.clone();
                d.sub = s as u64;
                d.strobe = s + 1 == l.k;
                if let Some(pass) = wslot.iter().position(|&w| w == slot) {
                    d.w_we = true;
                    d.w_sel = 1 << s;
                    d.w_bank = pass % 2 == 1;
                    for r in 0..nr {
                        for c in 0..p.cols {
                            d.w_data[r * p.cols + c] = l.weight(p, pass, r, c, s) as u8;
                        }
                    }
                }
                if d.strobe {
                    // The datum each row loads at this edge: row r is r slots behind row 0.
                    for r in 0..nr {
                        let t = (slot + 1).checked_sub(r);
                        if let Some(Some((pass, y, x))) = t.and_then(|t| sched.get(t)) {
                            let (v, pad) = l.xpad(pass * nr + r, *y, *x);
                            d.x[r] = v as u8;
                            d.tag[r] = (1 << TAG_VALID)
                                | (u8::from(*y == 0 && *x == 0) << TAG_SWAP)
                                | (u8::from(pad) << TAG_PAD)
                                | (((pass % 2) as u8) << TAG_BANK);
                        }
                    }
                }
                d.pop = h.uut.dw.ready.val();
                h.uut._d = d.clone();
                h.step().unwrap();
                if d.pop {
                    for (r, g) in got.iter_mut().enumerate() {
                        g.push(h.uut.dw.o_sum[r].val().index() as u32 as i32);
                    }
                }
                faults += u64::from(h.uut.dw.fault.val());
                cycle_budget -= 1;
            }
            slot += 1;
            if (slot > slots && got[0].len() >= want) || cycle_budget < l.k {
                break;
            }
        }
        (got, faults)
    }

    fn random_layer(rng: &mut Rng, p: &DwRowsParams, kmax: usize) -> Layer {
        let global = rng.below(6) == 0;
        let (kh, kw, k) = if global {
            (1, 1, rng.range(2, kmax as i64) as usize)
        } else {
            let kw = rng.range(1, p.kw as i64) as usize;
            let k = rng.range(2, kmax as i64) as usize;
            let kh = rng.range(1, (p.kh_max.min(p.groups() * k)) as i64) as usize;
            (kh, kw, k)
        };
        let (sh, sw) = if global { (1, 1) } else { (rng.range(1, 2) as usize, rng.range(1, 2) as usize) };
        let pads = if global {
            [0; 4]
        } else {
            [rng.below(kh as u64) as usize, rng.below(kw as u64) as usize, rng.below(kh as u64) as usize, rng.below(kw as u64) as usize]
        };
        let h = rng.range((kh as i64 - pads[0] as i64 - pads[2] as i64).max(1), 7) as usize;
        let w = rng.range((kw as i64 - pads[1] as i64 - pads[3] as i64).max(1), 9) as usize;
        let passes = rng.range(1, 3) as usize;
        let ch = passes * p.rows;
        Layer {
            passes,
            h,
            w,
            kh,
            kw,
            sh,
            sw,
            pads,
            pad_value: rng.range(-128, 127) as i8,
            global,
            k,
            x: (0..ch * h * w).map(|_| rng.range(-128, 127) as i8).collect(),
            wt: (0..ch * kh * kw).map(|_| rng.range(-128, 127) as i8).collect(),
        }
    }

    /// Random depthwise layers (kernels up to KW × `kh_max`, strides 1 and 2, padding, global
    /// mode) on arrays of 1 to 3 rows and 1 to 10 columns with groups of 1 to 3 PEs, through real
    /// PEs: every output equals the definition of the convolution, in raster order per channel,
    /// and no FIFO faults.
    #[test]
    fn row_sums_equal_the_depthwise_convolution() {
        let mut rng = Rng::from_env("dw-rows", 35);
        let mut seen = [false; 4];
        for case in 0..150 {
            let kw = rng.range(1, 3) as usize;
            let cols = kw * rng.range(1, 3) as usize + rng.below(2) as usize;
            let mut p = DwRowsParams {
                rows: rng.range(1, 3) as usize,
                cols,
                kw,
                kh_max: rng.range(2, 4) as usize,
                line_depth: 16,
                out_depth: DwRowsParams::out_depth_for(3),
            };
            let kernels = rng.range(2, 4) as usize;
            let mut l = random_layer(&mut rng, &p, kernels);
            if case < 4 {
                // The `default` preset's groups (8 columns of 3-PE groups, k = 2) on MobileNet's
                // and DS-CNN's 3×3 layers, stride 1 and 2, and global pooling.
                p = DwRowsParams { rows: 2, cols: 8, kw: 3, kh_max: 3, ..p };
                l = random_layer(&mut rng, &p, 2);
                let (sh, global) = [(1, false), (2, false), (1, true), (2, false)][case];
                (l.kh, l.kw, l.sh, l.sw, l.pads, l.k, l.global) = if global {
                    (1, 1, 1, 1, [0; 4], 2, true)
                } else {
                    (3, 3, sh, sh, [1, 1, 1 + case % 2, 1 + case % 2], 2, false)
                };
                (l.h, l.w) = (5 + case, 4 + case);
                l.x = (0..l.passes * 2 * l.h * l.w).map(|_| rng.range(-128, 127) as i8).collect();
                l.wt = (0..l.passes * 2 * l.kh * l.kw).map(|_| rng.range(-128, 127) as i8).collect();
            }
            seen[0] |= l.global;
            seen[1] |= l.kh == 3 && l.kw == 3;
            seen[2] |= l.sh == 2 && !l.global;
            seen[3] |= p.groups() >= 2 && l.kh > l.k;
            let (got, fault) = run(&p, kernels, &l, rng.below(2) as usize);
            let want = l.reference(p.rows);
            for r in 0..p.rows {
                let w: Vec<i32> = (0..l.passes).flat_map(|pass| want[pass * p.rows + r].clone()).collect();
                assert_eq!(got[r], w, "case {case}, row {r}: {p:?} {l:?}");
            }
            assert_eq!(fault, 0, "case {case}: {p:?} {l:?}");
        }
        assert_eq!(seen, [true; 4], "global, 3×3, stride 2 and kernels taller than a group's sub-cycles all drawn");
    }

    /// A line FIFO shallower than an output row: entries are overwritten before they are taken,
    /// the outputs go wrong and `fault` pulses; deep enough, neither.
    #[test]
    fn a_line_fifo_too_shallow_for_the_row_raises_fault() {
        let mut rng = Rng::from_env("dw-rows-shallow", 36);
        let p = DwRowsParams { rows: 2, cols: 3, kw: 3, kh_max: 3, line_depth: 2, out_depth: 8 };
        let mut l = random_layer(&mut rng, &p, 3);
        (l.global, l.kh, l.kw, l.sh, l.sw, l.pads, l.k, l.h, l.w, l.passes) = (false, 3, 3, 1, 1, [1; 4], 3, 4, 6, 1);
        l.x = (0..2 * 4 * 6).map(|_| rng.range(-128, 127) as i8).collect();
        l.wt = (0..2 * 9).map(|_| rng.range(-128, 127) as i8).collect();
        let (got, fault) = run(&p, 3, &l, 0);
        assert!(fault > 0);
        assert_ne!(got[0], l.reference(2)[0]);
        let deep = DwRowsParams { line_depth: 8, ..p };
        let (got, fault) = run(&deep, 3, &l, 0);
        assert_eq!(fault, 0);
        assert_eq!(got[0], l.reference(2)[0]);
    }
}
