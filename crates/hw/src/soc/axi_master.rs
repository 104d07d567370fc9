//! # AxiMemMaster: the core's memory port as an AXI4 master
//!
//! Each read request of the core's memory port ([`MemPort`](crate::top::MemPort): word
//! address, burst length) becomes one AXI4 read burst of `req_len` + 1 beats at byte address
//! `base + addr · W/8` (`arlen`; the core never asks for more than 256 or across a 4 KiB page of
//! offsets, and `base` is page-aligned). Writes (one word each, with a byte enable per byte) are
//! gathered into bursts: consecutive words join the open burst in a buffer of
//! [`WRITE_BURST`] entries, and the burst closes, its AW going out with `awlen` = beats − 1,
//! when it holds 16 beats, when its last word ends a 4 KiB page, when the next request is not
//! its next word (another address, or a read), or when nothing is queued and the core says its
//! store has no more writes (`req_more` low). Its beats follow on W from the buffer, each
//! word's strobes its byte enables, WLAST on the last. Every transaction is full width
//! (`awsize`/`arsize`), INCR, ID 0, cacheable and bufferable, unprivileged data access.
//! Read data returns to the core in order (one ID); `rready` is the core's `rsp_ready`.
//!
//! Requests enter a two-entry queue; `req_ready` is "the queue is not full", a register, so no
//! path runs from the core's request back into its own ready (Verilator would see a false
//! combinational loop through the core's always block; docs/architecture.md). A read at the
//! queue's head loads the AR registers when they are empty or being taken, a write goes into the
//! write buffer; every AXI output comes from a register (W's data and strobes from the buffer
//! RAMs' read registers), so `valid` is held, with a stable payload, until `ready`.
//!
//! Ordering (AXI orders nothing between its read and write channels): a read is not issued
//! while a write is buffered or outstanding (not yet answered on the B channel), nor a write
//! buffered while a read is outstanding (its data not yet returned), so a load after a store
//! reads what the store wrote and a store after a load does not change what the load reads;
//! `wr_idle` (nothing queued or buffered, no write outstanding) tells the parent when every
//! write has reached memory. At most `read_bursts` read bursts (`memory.read_bursts`) and 255
//! write bursts are outstanding.
//!
//! Errors: a response with `bresp`/`rresp` other than OKAY or an ID other than 0 raises `err`
//! for a cycle (`rlast` ends a burst's count; the core counts its beats itself).
//!
//! | port | dir | bits | meaning |
//! |---|---|---|---|
//! | `clock`, `rstn` | in | 1 | clock; synchronous reset, active low (drops what is held) |
//! | `base` | in | 32 | byte address of word 0 |
//! | `req_valid`, `req_ready`, `req_we`, `req_addr`, `req_len`, `req_wdata`, `req_be` | in/out | | the core's requests |
//! | `req_more` | in | 1 | the core's store has more writes to come |
//! | `rsp_valid`, `rsp_data`; `rsp_ready` | out; in | 1, W; 1 | read data, in request order |
//! | `m_axi_*` | | | the AXI4 master ([`Axi4Master`]) |
//! | `wr_idle` | out | 1 | nothing queued or buffered and no write outstanding |
//! | `err` | out | 1 | an error response this cycle |

use crate::mem::SyncRam;
use crate::soc::Axi4Master;
use rust_hdl::prelude::*;

/// Beats of the longest write burst, and entries of the write buffer.
pub const WRITE_BURST: usize = 16;

/// The AXI4 master of the core's memory port: W-bit words, B = W/8 bytes.
#[derive(LogicBlock)]
pub struct AxiMemMaster<const W: usize, const B: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Reset, active low.
    pub rstn: Signal<In, Bit>,
    /// Byte address of word 0.
    pub base: Signal<In, Bits<32>>,
    /// A request.
    pub req_valid: Signal<In, Bit>,
    /// It is taken.
    pub req_ready: Signal<Out, Bit>,
    /// A write.
    pub req_we: Signal<In, Bit>,
    /// Word address.
    pub req_addr: Signal<In, Bits<26>>,
    /// Beats − 1 of a read burst.
    pub req_len: Signal<In, Bits<8>>,
    /// Write data.
    pub req_wdata: Signal<In, Bits<W>>,
    /// Byte enables (the write strobes).
    pub req_be: Signal<In, Bits<B>>,
    /// More writes of the core's store follow (the open write burst may wait for them).
    pub req_more: Signal<In, Bit>,
    /// Read data valid.
    pub rsp_valid: Signal<Out, Bit>,
    /// Read data.
    pub rsp_data: Signal<Out, Bits<W>>,
    /// The core takes read data.
    pub rsp_ready: Signal<In, Bit>,
    /// The AXI4 master port.
    pub m_axi: Axi4Master<W, B>,
    /// Nothing queued or buffered, no write outstanding.
    pub wr_idle: Signal<Out, Bit>,
    /// No write buffered or outstanding (a read may go).
    idle: Signal<Local, Bit>,
    /// An error response.
    pub err: Signal<Out, Bit>,
    /// The channel registers (the W channel's data and strobes are the buffer RAMs' read
    /// registers).
    ar_v: DFF<Bit>,
    ar_addr: DFF<Bits<32>>,
    ar_len: DFF<Bits<8>>,
    aw_v: DFF<Bit>,
    aw_addr: DFF<Bits<32>>,
    aw_len: DFF<Bits<8>>,
    w_v: DFF<Bit>,
    w_last: DFF<Bit>,
    /// Write bursts issued and not yet answered; read bursts not yet ended (`rlast`).
    wr_out: DFF<Bits<8>>,
    rd_out: DFF<Bits<8>>,
    /// The request queue: entries 0 and 1, written at `q_wp` and read at `q_rp` (timing: a
    /// request's word goes straight into an entry's register, no shift between entries), and
    /// how many are held.
    q_n: DFF<Bits<2>>,
    q_wp: DFF<Bit>,
    q_rp: DFF<Bit>,
    q0_we: DFF<Bit>,
    q0_addr: DFF<Bits<26>>,
    q0_len: DFF<Bits<8>>,
    q0_data: DFF<Bits<W>>,
    q0_be: DFF<Bits<B>>,
    q1_we: DFF<Bit>,
    q1_addr: DFF<Bits<26>>,
    q1_len: DFF<Bits<8>>,
    q1_data: DFF<Bits<W>>,
    q1_be: DFF<Bits<B>>,
    push: Signal<Local, Bit>,
    pop: Signal<Local, Bit>,
    /// The head entry's fields.
    h_we: Signal<Local, Bit>,
    h_addr: Signal<Local, Bits<26>>,
    h_len: Signal<Local, Bits<8>>,
    h_data: Signal<Local, Bits<W>>,
    h_be: Signal<Local, Bits<B>>,
    /// The write buffer: words and strobes of the open burst and of closed bursts not yet sent,
    /// a circle of `WRITE_BURST` entries written at `b_wp`, read (into the W channel) at `b_rp`;
    /// the entry written last (`b_lastp`), each entry's "last beat of its burst" flag.
    b_data: SyncRam<Bits<W>>,
    b_strb: SyncRam<Bits<B>>,
    b_wp: DFF<Bits<4>>,
    b_rp: DFF<Bits<4>>,
    b_lastp: DFF<Bits<4>>,
    b_last: DFF<Bits<16>>,
    /// Entries held (always `b_closed + o_n`, kept as a register of its own: the append
    /// decision tests it, and a sum there would lengthen that path); entries of closed bursts
    /// not yet sent.
    b_n: DFF<Bits<5>>,
    b_closed: DFF<Bits<5>>,
    /// The open burst: beats, first word, and "full" (16 beats, or its last word ends a 4 KiB
    /// page).
    o_n: DFF<Bits<5>>,
    o_addr: DFF<Bits<26>>,
    o_full: DFF<Bit>,
    /// The word after the last write queued; each entry's word is that one (formed when the
    /// entry is written: timing), and the head's. Where a burst is open at a write's turn, its
    /// last word is the write queued before it (writes join in order, and a read between them
    /// waits until no burst is open), so the head's flag says it continues the burst.
    lp_next: DFF<Bits<26>>,
    q0_cont: DFF<Bit>,
    q1_cont: DFF<Bit>,
    cont: Signal<Local, Bit>,
    /// An AW may go (the AW register is free and fewer than 255 bursts are outstanding).
    aw_free: Signal<Local, Bit>,
    /// Close the open burst (issue its AW); append the head write to the buffer (starting a new
    /// burst with `new_burst`); send the next closed entry on W.
    close: Signal<Local, Bit>,
    append: Signal<Local, Bit>,
    new_burst: Signal<Local, Bit>,
    w_load: Signal<Local, Bit>,
    o_n_next: Signal<Local, Bits<5>>,
    o_m1: Signal<Local, Bits<5>>,
    /// The flags cleared (the entry sent) and set (the closing burst's last entry).
    l_clr: Signal<Local, Bits<16>>,
    l_set: Signal<Local, Bits<16>>,
    /// The read entry, one-hot.
    l_at: Signal<Local, Bits<16>>,
    /// log2(W/8), the byte shift of a word address; the word-offset bits of a 4 KiB page.
    shift: Constant<Bits<32>>,
    size: Constant<Bits<3>>,
    page_mask: Constant<Bits<26>>,
    /// Read bursts allowed outstanding.
    max_reads: Constant<Bits<8>>,
    /// Built-in fault (tests only): an AR valid is shown for one cycle and dropped if not taken
    /// (an AXI violation for the protocol checker to catch). Empty in a product.
    fault_drop: Vec<Constant<Bit>>,
    /// The request's byte address; a read may be taken.
    addr: Signal<Local, Bits<32>>,
    rd_ok: Signal<Local, Bit>,
    take_rd: Signal<Local, Bit>,
}

impl<const W: usize, const B: usize> AxiMemMaster<W, B> {
    /// The master (B = W/8, W in 32, 64, 128).
    pub fn new(read_bursts: usize) -> Self {
        Self::with_fault(read_bursts, false)
    }

    /// The master, with the built-in AR fault when `drop_valid` (tests of the protocol checker).
    pub fn with_fault(read_bursts: usize, drop_valid: bool) -> Self {
        assert!((1..=255).contains(&read_bursts), "AXI master: 1 to 255 outstanding read bursts");
        assert!(B * 8 == W && matches!(W, 32 | 64 | 128), "AXI master: W = 8·B, W in 32, 64, 128");
        let shift = B.trailing_zeros() as u64;
        block_with_defaults!(AxiMemMaster {
            shift: Constant::new(shift.into()),
            size: Constant::new(shift.into()),
            page_mask: Constant::new(((4096 / B as u64) - 1).into()),
            max_reads: Constant::new((read_bursts as u64).into()),
            fault_drop: drop_valid.then(|| Constant::new(true)).into_iter().collect(),
            b_data: SyncRam::collision_free(WRITE_BURST),
            b_strb: SyncRam::collision_free(WRITE_BURST),
        } defaults {
            clock, rstn, base, req_valid, req_ready, req_we, req_addr, req_len, req_wdata, req_be, req_more, rsp_valid, rsp_data, rsp_ready, m_axi, wr_idle,
            idle, err, ar_v, ar_addr, ar_len, aw_v, aw_addr, aw_len, w_v, w_last, wr_out, rd_out, q_n, q_wp, q_rp, q0_we, q0_addr, q0_len, q0_data,
            q0_be, q1_we, q1_addr, q1_len, q1_data, q1_be, push, pop, h_we, h_addr, h_len, h_data, h_be, b_wp, b_rp, b_lastp, b_last, b_n,
            b_closed, o_n, o_addr, o_full, lp_next, q0_cont, q1_cont, cont, aw_free, close, append, new_burst, w_load, o_n_next, o_m1, l_clr, l_set, l_at, addr, rd_ok, take_rd,
        })
    }
}

impl<const W: usize, const B: usize> Logic for AxiMemMaster<W, B> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, ar_v, ar_addr, ar_len, aw_v, aw_addr, aw_len, w_v, w_last, wr_out, rd_out, q_n, q_wp, q_rp, q0_we, q0_addr, q0_len,
            q0_data, q0_be, q1_we, q1_addr, q1_len, q1_data, q1_be, b_wp, b_rp, b_lastp, b_last, b_n, b_closed, o_n, o_addr, o_full, lp_next, q0_cont, q1_cont
        );
        clock!(self, clock, b_data, b_strb);
        self.h_we.next = self.q0_we.q.val();
        self.h_addr.next = self.q0_addr.q.val();
        self.h_len.next = self.q0_len.q.val();
        self.h_data.next = self.q0_data.q.val();
        self.h_be.next = self.q0_be.q.val();
        if self.q_rp.q.val() {
            self.h_we.next = self.q1_we.q.val();
            self.h_addr.next = self.q1_addr.q.val();
            self.h_len.next = self.q1_len.q.val();
            self.h_data.next = self.q1_data.q.val();
            self.h_be.next = self.q1_be.q.val();
        }
        self.addr.next = self.base.val() + (bit_cast::<32, 26>(self.h_addr.val()) << self.shift.val());
        // A read waits for every write to be sent and answered.
        self.idle.next = !self.wr_out.q.val().any() & !self.aw_v.q.val() & !self.w_v.q.val() & !self.b_n.q.val().any();
        self.wr_idle.next = self.idle.val() & !self.q_n.q.val().any();
        self.rd_ok.next = self.idle.val() & (!self.ar_v.q.val() | self.m_axi.arready.val()) & (self.rd_out.q.val() != self.max_reads.val());
        self.take_rd.next = self.q_n.q.val().any() & !self.h_we.val() & self.rd_ok.val();

        // ---- Writes: the open burst closes (its AW goes out) when it is full, when the head
        // request does not continue it (another word, or a read), or when nothing is queued and
        // the core's store has no more writes; the head write joins the open burst, or starts a
        // new one where the open burst closes or there is none. A write waits for every read.
        self.cont.next = self.q0_cont.q.val();
        if self.q_rp.q.val() {
            self.cont.next = self.q1_cont.q.val();
        }
        self.aw_free.next = (!self.aw_v.q.val() | self.m_axi.awready.val()) & (self.wr_out.q.val() != bits::<8>(255));
        self.close.next = self.o_n.q.val().any()
            & self.aw_free.val()
            & (self.o_full.q.val()
                | (self.q_n.q.val().any() & (!self.h_we.val() | !self.cont.val()))
                | (!self.q_n.q.val().any() & !self.req_more.val()));
        self.new_burst.next = !self.o_n.q.val().any() | self.close.val();
        // (With a burst open, a head write that does not continue it closes it, so it joins
        // where an AW may go; written without `close`: timing.)
        self.append.next = self.q_n.q.val().any()
            & self.h_we.val()
            & !self.rd_out.q.val().any()
            & (self.b_n.q.val() != bits::<5>(16))
            & (!self.o_n.q.val().any() | self.aw_free.val() | (self.cont.val() & !self.o_full.q.val()));
        self.b_data.w_en.next = self.append.val();
        self.b_data.w_addr.next = bit_cast::<16, 4>(self.b_wp.q.val());
        self.b_data.w_data.next = self.h_data.val();
        self.b_strb.w_en.next = self.append.val();
        self.b_strb.w_addr.next = bit_cast::<16, 4>(self.b_wp.q.val());
        self.b_strb.w_data.next = self.h_be.val();
        self.o_n_next.next = self.o_n.q.val();
        self.o_m1.next = self.o_n.q.val() - 1;
        if self.close.val() {
            self.o_n_next.next = 0.into();
        }
        if self.append.val() {
            self.o_n_next.next = self.o_n.q.val() + 1;
            if self.new_burst.val() {
                self.o_n_next.next = 1.into();
            }
        }
        self.o_n.d.next = self.o_n_next.val();
        if self.close.val() {
            self.o_full.d.next = false;
        }
        if self.append.val() {
            self.b_wp.d.next = self.b_wp.q.val() + 1;
            self.b_lastp.d.next = self.b_wp.q.val();
            if self.new_burst.val() {
                self.o_addr.d.next = self.h_addr.val();
            }
            self.o_full.d.next = (self.o_n_next.val() == bits::<5>(16)) | ((self.h_addr.val() & self.page_mask.val()) == self.page_mask.val());
        }
        // The W channel: the next closed entry is read into the RAMs' output registers when the
        // channel is empty or being taken; its flag is the beat's WLAST.
        self.l_at.next = bits::<16>(1) << bit_cast::<16, 4>(self.b_rp.q.val());
        self.w_load.next = self.b_closed.q.val().any() & (!self.w_v.q.val() | self.m_axi.wready.val());
        self.b_data.r_en.next = self.w_load.val();
        self.b_data.r_addr.next = bit_cast::<16, 4>(self.b_rp.q.val());
        self.b_strb.r_en.next = self.w_load.val();
        self.b_strb.r_addr.next = bit_cast::<16, 4>(self.b_rp.q.val());
        if self.m_axi.wready.val() {
            self.w_v.d.next = false;
        }
        if self.w_load.val() {
            self.w_v.d.next = true;
            self.w_last.d.next = (self.b_last.q.val() & self.l_at.val()).any();
            self.b_rp.d.next = self.b_rp.q.val() + 1;
        }
        // Flags: set at the open burst's last entry when it closes, cleared when sent (never
        // the same entry: a closed entry is not open).
        self.l_clr.next = 0.into();
        if self.w_load.val() {
            self.l_clr.next = self.l_at.val();
        }
        self.l_set.next = 0.into();
        if self.close.val() {
            self.l_set.next = bits::<16>(1) << bit_cast::<16, 4>(self.b_lastp.q.val());
        }
        self.b_last.d.next = (self.b_last.q.val() & !self.l_clr.val()) | self.l_set.val();
        if self.close.val() & self.w_load.val() {
            self.b_closed.d.next = self.b_closed.q.val() + self.o_n.q.val() - 1;
        } else if self.close.val() {
            self.b_closed.d.next = self.b_closed.q.val() + self.o_n.q.val();
        } else if self.w_load.val() {
            self.b_closed.d.next = self.b_closed.q.val() - 1;
        }
        if self.append.val() & !self.w_load.val() {
            self.b_n.d.next = self.b_n.q.val() + 1;
        } else if !self.append.val() & self.w_load.val() {
            self.b_n.d.next = self.b_n.q.val() - 1;
        }
        if self.m_axi.awready.val() {
            self.aw_v.d.next = false;
        }
        if self.close.val() {
            self.aw_v.d.next = true;
            self.aw_addr.d.next = self.base.val() + (bit_cast::<32, 26>(self.o_addr.q.val()) << self.shift.val());
            self.aw_len.d.next = bit_cast::<8, 5>(self.o_m1.val());
        }
        if self.close.val() & !self.m_axi.bvalid.val() {
            self.wr_out.d.next = self.wr_out.q.val() + 1;
        } else if !self.close.val() & self.m_axi.bvalid.val() & self.wr_out.q.val().any() {
            self.wr_out.d.next = self.wr_out.q.val() - 1;
        }

        // ---- The queue: push a request, pop the head when its channel takes it.
        self.req_ready.next = self.q_n.q.val() != bits::<2>(2);
        self.push.next = self.req_valid.val() & (self.q_n.q.val() != bits::<2>(2));
        self.pop.next = self.take_rd.val() | self.append.val();
        if self.pop.val() {
            self.q_rp.d.next = !self.q_rp.q.val();
        }
        // The new request goes to the entry at the write pointer (free: the queue is not full).
        if self.push.val() {
            self.q_wp.d.next = !self.q_wp.q.val();
        }
        if self.push.val() & self.req_we.val() {
            self.lp_next.d.next = self.req_addr.val() + 1;
        }
        if self.push.val() & !self.q_wp.q.val() {
            self.q0_cont.d.next = self.req_addr.val() == self.lp_next.q.val();
            self.q0_we.d.next = self.req_we.val();
            self.q0_addr.d.next = self.req_addr.val();
            self.q0_len.d.next = self.req_len.val();
            self.q0_data.d.next = self.req_wdata.val();
            self.q0_be.d.next = self.req_be.val();
        }
        if self.push.val() & self.q_wp.q.val() {
            self.q1_cont.d.next = self.req_addr.val() == self.lp_next.q.val();
            self.q1_we.d.next = self.req_we.val();
            self.q1_addr.d.next = self.req_addr.val();
            self.q1_len.d.next = self.req_len.val();
            self.q1_data.d.next = self.req_wdata.val();
            self.q1_be.d.next = self.req_be.val();
        }
        if self.push.val() & !self.pop.val() {
            self.q_n.d.next = self.q_n.q.val() + 1;
        } else if !self.push.val() & self.pop.val() {
            self.q_n.d.next = self.q_n.q.val() - 1;
        }
        if self.m_axi.arready.val() {
            self.ar_v.d.next = false;
        }
        if self.take_rd.val() {
            self.ar_v.d.next = true;
            self.ar_addr.d.next = self.addr.val();
            self.ar_len.d.next = self.h_len.val();
        }
        for f in 0..self.fault_drop.len() {
            if self.fault_drop[f].val() & !self.take_rd.val() {
                self.ar_v.d.next = false;
            }
        }
        if self.take_rd.val() & !(self.m_axi.rvalid.val() & self.rsp_ready.val() & self.m_axi.rlast.val()) {
            self.rd_out.d.next = self.rd_out.q.val() + 1;
        } else if !self.take_rd.val() & self.m_axi.rvalid.val() & self.rsp_ready.val() & self.m_axi.rlast.val() & self.rd_out.q.val().any() {
            self.rd_out.d.next = self.rd_out.q.val() - 1;
        }
        if !self.rstn.val() {
            self.rd_out.d.next = 0.into();
            self.ar_v.d.next = false;
            self.aw_v.d.next = false;
            self.w_v.d.next = false;
            self.wr_out.d.next = 0.into();
            self.q_n.d.next = 0.into();
            self.q_wp.d.next = false;
            self.q_rp.d.next = false;
            self.b_wp.d.next = 0.into();
            self.b_rp.d.next = 0.into();
            self.b_last.d.next = 0.into();
            self.b_n.d.next = 0.into();
            self.b_closed.d.next = 0.into();
            self.o_n.d.next = 0.into();
            self.o_full.d.next = false;
        }

        // ---- The AXI outputs, from registers.
        self.m_axi.awid.next = 0.into();
        self.m_axi.awaddr.next = self.aw_addr.q.val();
        self.m_axi.awlen.next = self.aw_len.q.val();
        self.m_axi.awsize.next = self.size.val();
        self.m_axi.awburst.next = 1.into();
        self.m_axi.awcache.next = 3.into();
        self.m_axi.awprot.next = 0.into();
        self.m_axi.awvalid.next = self.aw_v.q.val();
        self.m_axi.wdata.next = self.b_data.r_data.val();
        self.m_axi.wstrb.next = self.b_strb.r_data.val();
        self.m_axi.wlast.next = self.w_last.q.val();
        self.m_axi.wvalid.next = self.w_v.q.val();
        self.m_axi.bready.next = true;
        self.m_axi.arid.next = 0.into();
        self.m_axi.araddr.next = self.ar_addr.q.val();
        self.m_axi.arlen.next = self.ar_len.q.val();
        self.m_axi.arsize.next = self.size.val();
        self.m_axi.arburst.next = 1.into();
        self.m_axi.arcache.next = 3.into();
        self.m_axi.arprot.next = 0.into();
        self.m_axi.arvalid.next = self.ar_v.q.val();
        self.m_axi.rready.next = self.rsp_ready.val();
        self.rsp_valid.next = self.m_axi.rvalid.val();
        self.rsp_data.next = self.m_axi.rdata.val();
        self.err.next = (self.m_axi.bvalid.val() & (self.m_axi.bresp.val().any() | self.m_axi.bid.val().any()))
            | (self.m_axi.rvalid.val() & (self.m_axi.rresp.val().any() | self.m_axi.rid.val().any()));
    }
}

crate::clocked!(impl[const W: usize, const B: usize] AxiMemMaster<W, B>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::PortValue;
    use crate::sim::Harness;
    use crate::testutil::Rng;
    use std::collections::VecDeque;

    /// What the AXI master put on its channels last cycle without the slave taking it.
    #[derive(Clone, Copy, Default, PartialEq, Debug)]
    struct Held {
        ar: Option<(u64, u64)>,
        aw: Option<(u64, u64)>,
        w: Option<(u64, u64, bool)>,
    }

    /// A request of the core side: (write, word, data, byte enables, read beats − 1).
    type Req = (bool, u64, u64, u64, u64);

    /// The core side issues groups of requests (valid held until ready, as the data mover does)
    /// to a 64-bit AXI memory of three 4 KiB pages whose every ready and response comes after
    /// random delays: stores of runs of consecutive words (`req_more` high until the store's
    /// last write is taken, as the mover drives it), runs not continuing each other, and reads of
    /// 1 to 4 beats, at most 2 outstanding. Every read beat returns what sequential execution of
    /// the requests gives, in request order; addresses are MEM_BASE plus the word offset;
    /// strobes are the byte enables; each channel holds valid with a stable payload until ready;
    /// WLAST marks each burst's last beat; no burst crosses a 4 KiB page; each run is written in
    /// exactly as many bursts as its pages and the 16-beat limit need; `wr_idle` comes after the
    /// last write's response. The core takes read data at random (`rsp_ready`, AXI's `rready`).
    #[test]
    fn requests_become_axi_transactions_in_order() {
        const WORDS: u64 = 3 * 512;
        let mut rng = Rng::from_env("axi-master", 2);
        let base = 0x1000_0000u64 + 4096 * rng.below(1 << 12);
        const BURSTS: u64 = 2;
        // Requests, and whether each is a store's write with more to follow.
        let (mut reqs, mut more): (Vec<Req>, Vec<bool>) = (vec![], vec![]);
        let mut want_bursts = 0u64;
        let mut last_end = u64::MAX;
        while reqs.len() < 1500 {
            if rng.below(2) == 0 {
                let n = rng.below(3) + 1;
                for _ in 0..n {
                    let len = rng.below(4);
                    reqs.push((false, rng.below(WORDS - len), 0, 0, len));
                    more.push(false);
                }
                continue;
            }
            let runs = rng.below(3) + 1;
            for _ in 0..runs {
                let long = rng.below(4) == 0;
                let len = 1 + rng.below(if long { 60 } else { 20 });
                let mut a = rng.below(WORDS - len);
                if a == last_end {
                    a = (a + 2) % (WORDS - len);
                }
                for w in a..a + len {
                    reqs.push((true, w, rng.next() << 32 | rng.next() & 0xFFFF_FFFF, rng.below(256), 0));
                    more.push(true);
                }
                last_end = a + len;
                // Bursts of at most 16 beats within each page.
                let mut w = a;
                while w < a + len {
                    let end = (a + len).min((w / 512 + 1) * 512).min(w + 16);
                    want_bursts += 1;
                    w = end;
                }
            }
            // `req_more` falls once the store's last write is taken.
            more[reqs.len() - 1] = false;
        }
        let mut want_reads = VecDeque::new();
        let mut model = vec![0u64; WORDS as usize];
        for &(we, a, d, be, len) in &reqs {
            let mask: u64 = (0..8).filter(|i| be >> i & 1 == 1).map(|i| 0xFFu64 << (8 * i)).sum();
            if we {
                model[a as usize] = model[a as usize] & !mask | d & mask;
            } else {
                want_reads.extend((a..=a + len).map(|w| model[w as usize]));
            }
        }
        let mut h = Harness::new(AxiMemMaster::<64, 8>::new(BURSTS as usize)).unwrap();
        // Read bursts accepted and not yet ended by their last beat; write bursts accepted.
        let (mut bursts_out, mut aw_count) = (0u64, 0u64);
        let mut mem = vec![0u64; WORDS as usize];
        let (mut r_q, mut aw_q, mut w_q, mut b_q): (VecDeque<(u64, bool)>, VecDeque<(u64, u64)>, VecDeque<(u64, u64, bool)>, VecDeque<u64>) =
            Default::default();
        let (mut next, mut held, mut reads_seen) = (0usize, Held::default(), 0usize);
        let (mut t, mut rvalid, mut bvalid) = (0u64, false, false);
        while next < reqs.len() || !want_reads.is_empty() || !h.uut.wr_idle.val() {
            assert!(t < 100_000, "stalled at request {next}");
            let u = &mut h.uut;
            u.rstn.next = true;
            u.base.next = base.into();
            let ready = rng.below(4) != 0;
            u.rsp_ready.next = ready;
            let (we, a, d, be, len) = reqs.get(next).copied().unwrap_or((false, 0, 0, 0, 0));
            u.req_valid.next = next < reqs.len();
            u.req_we.next = we;
            u.req_len.next = if we { 0u64 } else { len }.into();
            u.req_addr.next = a.into();
            PortValue::set_u64(&mut u.req_wdata.next, d);
            u.req_be.next = be.into();
            // The store's writes are under way until its last one is taken.
            u.req_more.next = next < reqs.len() && we && (more[next] || next > 0 && more[next - 1]);
            u.m_axi.arready.next = rng.below(3) != 0;
            u.m_axi.awready.next = rng.below(3) != 0;
            u.m_axi.wready.next = rng.below(3) != 0;
            // Responses: the head of each queue, shown after a random delay and held until taken.
            rvalid = rvalid || (!r_q.is_empty() && rng.below(3) == 0);
            bvalid = bvalid || (!b_q.is_empty() && rng.below(3) == 0);
            u.m_axi.rvalid.next = rvalid;
            PortValue::set_u64(&mut u.m_axi.rdata.next, r_q.front().map_or(0, |r| r.0));
            u.m_axi.rlast.next = r_q.front().is_some_and(|r| r.1);
            u.m_axi.bvalid.next = bvalid;
            h.settle().unwrap();
            let u = &h.uut;
            let ax = &u.m_axi;
            // Valid held with a stable payload until ready.
            let now = Held {
                ar: ax.arvalid.val().then(|| (ax.araddr.val().index() as u64, ax.arlen.val().index() as u64)),
                aw: ax.awvalid.val().then(|| (ax.awaddr.val().index() as u64, ax.awlen.val().index() as u64)),
                w: ax.wvalid.val().then(|| (PortValue::get_u64(&ax.wdata.val()), ax.wstrb.val().index() as u64, ax.wlast.val())),
            };
            assert!(held.ar.is_none() || held.ar == now.ar, "cycle {t}: ar dropped or changed before ready");
            assert!(held.aw.is_none() || held.aw == now.aw, "cycle {t}: aw dropped or changed before ready");
            assert!(held.w.is_none() || held.w == now.w, "cycle {t}: w dropped or changed before ready");
            assert!((ax.arsize.val().index(), ax.awsize.val().index()) == (3, 3));
            held = Held {
                ar: now.ar.filter(|_| !ax.arready.val()),
                aw: now.aw.filter(|_| !ax.awready.val()),
                w: now.w.filter(|_| !ax.wready.val()),
            };
            if let Some((addr, n)) = now.ar.filter(|_| ax.arready.val()) {
                assert!(addr >= base && (addr - base) % 8 == 0, "cycle {t}: read address {addr:#x}");
                let w0 = (addr - base) / 8;
                r_q.extend((w0..=w0 + n).map(|w| (mem[w as usize], w == w0 + n)));
                bursts_out += 1;
                assert!(bursts_out <= BURSTS, "cycle {t}: more than {BURSTS} read bursts outstanding");
            }
            if let Some((addr, n)) = now.aw.filter(|_| ax.awready.val()) {
                assert!(addr >= base && (addr - base) % 8 == 0, "cycle {t}: write address {addr:#x}");
                assert!(n < 16 && addr / 4096 == (addr + 8 * n) / 4096, "cycle {t}: write burst of {} beats at {addr:#x}", n + 1);
                aw_q.push_back((addr, n + 1));
                aw_count += 1;
            }
            if let Some(w) = now.w.filter(|_| ax.wready.val()) {
                w_q.push_back(w);
            }
            while let (Some(&(addr, left)), Some(&(data, strb, last))) = (aw_q.front(), w_q.front()) {
                assert_eq!(last, left == 1, "cycle {t}: WLAST with {left} beats of the burst left");
                let mask: u64 = (0..8).filter(|i| strb >> i & 1 == 1).map(|i| 0xFFu64 << (8 * i)).sum();
                let i = ((addr - base) / 8) as usize;
                mem[i] = mem[i] & !mask | data & mask;
                w_q.pop_front();
                if left == 1 {
                    aw_q.pop_front();
                    b_q.push_back(addr);
                } else {
                    aw_q[0] = (addr + 8, left - 1);
                }
            }
            if rvalid && ready {
                if r_q.pop_front().is_some_and(|r| r.1) {
                    bursts_out -= 1;
                }
                rvalid = false;
            }
            if bvalid {
                b_q.pop_front();
                bvalid = false;
            }
            if u.rsp_valid.val() && ready {
                let want = want_reads.pop_front().expect("no read outstanding");
                assert_eq!(PortValue::get_u64(&u.rsp_data.val()), want, "cycle {t}: read {reads_seen}");
                reads_seen += 1;
            }
            if next < reqs.len() && u.req_ready.val() {
                next += 1;
            }
            h.step().unwrap();
            t += 1;
        }
        assert_eq!(mem, model, "memory after every write");
        assert!(aw_q.is_empty() && w_q.is_empty() && b_q.is_empty(), "writes left unanswered at wr_idle");
        assert_eq!(aw_count, want_bursts, "write bursts: one per 16 beats of a run within a page");
    }
}
