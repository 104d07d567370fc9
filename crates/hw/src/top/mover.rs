//! # DataMover: transfers between the external memory port and the on-chip buffers
//!
//! One transfer at a time (`go` while idle), as `MEM_LOAD` / `MEM_STORE` describe it (docs/isa.md):
//! `words` words at external address `addr`, accessed in chunks of `len` words `stride` apart
//! (`len` = 0: one chunk). A chunk is one channel of the on-chip layout:
//!
//! | transfer | on-chip place of word i (chunk n, offset o) |
//! |---|---|
//! | load 0, first cache | bank n mod R, entry B + (n div R)·len + o |
//! | load 1, weight buffer | entry i |
//! | load 2, bias buffer | bank i mod C, entry i div C |
//! | load 3, feature memory | row ρ = o div W + ph: bank ρ mod k, entry n·hb·W + (ρ div k)·W + o mod W |
//! | store 0, conv output buffer | channel n = t·C·K + c·K + j: bank c, entry B + (t·K + j)·len + o |
//! | store 1, pooling output | entry i |
//! | copy (`g_copy`) | read as store 0, written as load 3: the conv output into the feature memory, on chip |
//!
//! B is 0, or half the buffer's depth with `g_half` (double buffering).
//!
//! **External port**: W-bit words of L 32-bit lanes (`memory.word_bits`: 32 or 64); element i
//! of external memory is lane i mod L of word i div L. Requests `m_req_*` (valid/ready; `we` with
//! `wdata` and the lane enables `be` for a write), read responses `m_rsp_*` in request order (valid/ready; the mover is always ready). Loads issue one
//! read per cycle while the port is ready, however many are outstanding, and write each response
//! into its buffer one cycle after it arrives. Stores read the buffer one word ahead and offer it
//! as a write request; a stalled request holds the word (the buffer is not read again).
//!
//! An on-chip entry beyond the buffer's depth is not written and sets `err`; a store's read of
//! one reads some entry (its word is stored as the transfer goes on) and sets `err` a cycle later.

use rust_hdl::prelude::*;

/// Generator parameters.
#[derive(Clone, Copy, Debug)]
pub struct DataMoverParams {
    /// PE rows R (first-cache banks).
    pub rows: usize,
    /// PE columns C (bias and output banks).
    pub cols: usize,
    /// Kernels per PE K.
    pub kernels: usize,
    /// Feature-memory banks k.
    pub fm_banks: usize,
    /// Depths: first-cache bank, weight buffer, bias bank, feature-memory bank, output bank,
    /// pooling output buffer.
    pub depths: [usize; 6],
}

/// The data mover for memory words of W bits holding L 32-bit element lanes (W = 32·L, L = 1
/// or 2). Element addresses are lane addresses; the port's word address is the element address
/// divided by L, and a write enables only its element's lane (`m_req_be`).
#[derive(LogicBlock)]
pub struct DataMover<const W: usize, const L: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Start a transfer (ignored while busy).
    pub go: Signal<In, Bit>,
    /// Store (else load).
    pub g_store: Signal<In, Bit>,
    /// Load target 0-3, or store source 0-1.
    pub g_sel: Signal<In, Bits<2>>,
    /// External word address.
    pub g_addr: Signal<In, Bits<26>>,
    /// Words.
    pub g_words: Signal<In, Bits<20>>,
    /// Chunk length (0: one chunk).
    pub g_len: Signal<In, Bits<20>>,
    /// Chunk stride.
    pub g_stride: Signal<In, Bits<26>>,
    /// Feature-memory geometry: map width W, top padding ph, hb·W.
    pub g_fw: Signal<In, Bits<16>>,
    /// Top padding of the pooling layer.
    pub g_fph: Signal<In, Bits<2>>,
    /// hb·W.
    pub g_hbw: Signal<In, Bits<16>>,
    /// First-cache loads and output-buffer stores start at the buffer's upper half.
    pub g_half: Signal<In, Bit>,
    /// Copy on chip: the conv output buffer (store layout of source 0) into the feature memory
    /// (load layout of target 3); no external access.
    pub g_copy: Signal<In, Bit>,
    /// A transfer is in progress.
    pub busy: Signal<Out, Bit>,
    /// Sticky until the next `go`: an on-chip entry was out of range.
    pub err: Signal<Out, Bit>,
    /// Words requested this cycle (observation: 1 when a request is accepted).
    pub m_req_valid: Signal<Out, Bit>,
    /// The memory accepts a request.
    pub m_req_ready: Signal<In, Bit>,
    /// Write request.
    pub m_req_we: Signal<Out, Bit>,
    /// Word address.
    pub m_req_addr: Signal<Out, Bits<26>>,
    /// Write data (the element in every lane).
    pub m_req_wdata: Signal<Out, Bits<W>>,
    /// Lane enables of a write (one-hot: the element's lane).
    pub m_req_be: Signal<Out, Bits<L>>,
    /// A read response.
    pub m_rsp_valid: Signal<In, Bit>,
    /// The mover takes responses.
    pub m_rsp_ready: Signal<Out, Bit>,
    /// Response data.
    pub m_rsp_data: Signal<In, Bits<W>>,
    /// On-chip write (loads).
    pub w_en: Signal<Out, Bit>,
    /// Load target of the write.
    pub w_sel: Signal<Out, Bits<2>>,
    /// One-hot bank.
    pub w_bank: Signal<Out, Bits<64>>,
    /// Entry.
    pub w_addr: Signal<Out, Bits<16>>,
    /// Word.
    pub w_data: Signal<Out, Bits<32>>,
    /// On-chip read (stores).
    pub r_en: Signal<Out, Bit>,
    /// Store source of the read.
    pub r_sel: Signal<Out, Bit>,
    /// One-hot bank.
    pub r_bank: Signal<Out, Bits<64>>,
    /// Entry.
    pub r_addr: Signal<Out, Bits<16>>,
    /// The word read (one cycle after `r_en`, held until the next read).
    pub r_data: Signal<In, Bits<32>>,

    /// Lanes: the element address's lane bits (0 with one lane), the word-address shift, the
    /// one-hot enables of lanes 0 and 1.
    lane_mask: Constant<Bits<26>>,
    lshift: Constant<Bits<26>>,
    be0: Constant<Bits<L>>,
    be1: Constant<Bits<L>>,
    /// Loads: the element address of the next response (responses come in request order).
    r_base: DFF<Bits<26>>,
    r_off: DFF<Bits<20>>,
    /// Element address of the request, of the response, and the response's element.
    ea: Signal<Local, Bits<26>>,
    ra: Signal<Local, Bits<26>>,
    rsp_elem: Signal<Local, Bits<32>>,
    wword: Signal<Local, Bits<W>>,
    /// One-hot last bank of R, C and k banks.
    last_r: Constant<Bits<64>>,
    last_c: Constant<Bits<64>>,
    last_k: Constant<Bits<64>>,
    /// K − 1.
    last_j: Constant<Bits<16>>,
    /// Depths (up to 65,536).
    d_fc: Constant<Bits<20>>,
    d_wb: Constant<Bits<20>>,
    d_bias: Constant<Bits<20>>,
    d_fm: Constant<Bits<20>>,
    d_out: Constant<Bits<20>>,
    d_pout: Constant<Bits<20>>,
    /// Feature-memory start bank for ph = 0..3 (16 bits each, one-hot) and ph div k (2 bits each).
    fm_bank0: Constant<Bits<64>>,
    fm_rows0: Constant<Bits<8>>,
    /// Upper halves of the first cache and the output buffer.
    fc_half: Constant<Bits<16>>,
    out_half: Constant<Bits<16>>,

    act: DFF<Bit>,
    st: DFF<Bit>,
    sel: DFF<Bits<2>>,
    len: DFF<Bits<20>>,
    stride: DFF<Bits<26>>,
    fw: DFF<Bits<16>>,
    hbw: DFF<Bits<16>>,
    errf: DFF<Bit>,
    /// External side: chunk base, offset in the chunk, requests left.
    e_base: DFF<Bits<26>>,
    e_off: DFF<Bits<20>>,
    e_left: DFF<Bits<20>>,
    /// Loads: responses left. Stores: writes left, and the first buffer read was issued.
    o_left: DFF<Bits<20>>,
    primed: DFF<Bit>,
    /// On-chip side (current word): offset in chunk, linear index, bank, base, row, x / j.
    oc: DFF<Bits<20>>,
    oi: DFF<Bits<20>>,
    ob: DFF<Bits<64>>,
    obase: DFF<Bits<16>>,
    orow: DFF<Bits<16>>,
    ox: DFF<Bits<16>>,
    /// Feature-memory start of a channel: bank and row offset.
    fb0: DFF<Bits<64>>,
    fr0: DFF<Bits<16>>,
    /// Copy mode, and the feature-memory cursor (load target 3, copies): x, one-hot bank, channel
    /// base, row.
    cp: DFF<Bit>,
    dx: DFF<Bits<16>>,
    dob: DFF<Bits<64>>,
    dbase: DFF<Bits<16>>,
    drow: DFF<Bits<16>>,
    /// Registered on-chip write.
    wv: DFF<Bit>,
    wsel: DFF<Bits<2>>,
    wbank: DFF<Bits<64>>,
    waddr: DFF<Bits<16>>,
    /// The write's full on-chip address and its place's depth (checked in the write stage).
    wfull: DFF<Bits<20>>,
    wdepth: DFF<Bits<20>>,
    /// The registered write is inside its place.
    w_in: Signal<Local, Bit>,
    wdata: DFF<Bits<32>>,
    /// A copy's word, registered from the read data every cycle, and whether the registered
    /// write is a copy (timing: the load/copy select is after the registers, so a block RAM's
    /// read data meets only its buffer select before a register).
    wdata_cp: DFF<Bits<32>>,
    wcp: DFF<Bit>,

    /// Next on-chip state (after the current word).
    n_oc: Signal<Local, Bits<20>>,
    n_oi: Signal<Local, Bits<20>>,
    n_ob: Signal<Local, Bits<64>>,
    n_obase: Signal<Local, Bits<16>>,
    n_orow: Signal<Local, Bits<16>>,
    n_ox: Signal<Local, Bits<16>>,
    chunk_end: Signal<Local, Bit>,
    /// `chunk_end` registered (timing): set when the cursor steps onto a chunk's last word.
    cend: DFF<Bit>,
    /// The transfer's chunks are one word long.
    len1: DFF<Bit>,
    /// `cend` of the word read last (a copy writes it a cycle after its read, when the cursor
    /// already names the next word), and the chunk end the destination cursor steps with.
    cend_d: DFF<Bit>,
    /// Bank of the word last read (the cursor is already past it).
    rb: DFF<Bits<64>>,
    d_cend: Signal<Local, Bit>,
    /// Bank wrap of the current one-hot bank for R and C banks.
    wr_r: Signal<Local, Bit>,
    wr_c: Signal<Local, Bit>,
    /// On-chip address of the current and the next word, and the depth of the place.
    a_cur: Signal<Local, Bits<20>>,
    depth: Signal<Local, Bits<20>>,
    /// The same for the word a store reads (timing: formed apart from the load side's cursors,
    /// which a store never uses).
    a_rd: Signal<Local, Bits<20>>,
    depth_rd: Signal<Local, Bits<20>>,
    /// The bounds check of a store's read, a cycle after the read (timing: the address sum ends
    /// in a register, the compare starts from one): a read was issued, its address and depth,
    /// and whether it was inside its place. An out-of-place read reads some entry, harmlessly,
    /// and sets the error flag a cycle later; the dispatcher stops the run on it either way.
    rd_chk: DFF<Bit>,
    rd_a_r: DFF<Bits<20>>,
    rd_d_r: DFF<Bits<20>>,
    rd_ok: Signal<Local, Bit>,
    /// The destination cursor's next state and address (copies), its bank wrap.
    d_wr: Signal<Local, Bit>,
    n_dx: Signal<Local, Bits<16>>,
    /// `dx` is the last column of its row (`dx` + 1 = `fw`), registered with `dx` (timing: no
    /// compare in front of the row step), and the same for `n_dx`.
    dx_l: DFF<Bit>,
    n_dx_l: Signal<Local, Bit>,
    n_dob: Signal<Local, Bits<64>>,
    n_dbase: Signal<Local, Bits<16>>,
    n_drow: Signal<Local, Bits<16>>,
    d_addr: Signal<Local, Bits<20>>,
    /// A store's or copy's word moves this cycle.
    sfire: Signal<Local, Bit>,
    /// Request / response handshakes this cycle.
    req_fire: Signal<Local, Bit>,
    rsp_take: Signal<Local, Bit>,
    adv: Signal<Local, Bit>,
    /// ph div k, and the one-hot bank of row ph.
    q_rows: Signal<Local, Bits<2>>,
    fb_sel: Signal<Local, Bits<16>>,
}

fn onehot_last(n: usize) -> Bits<64> {
    Bits::<64>::from(1u64 << (n - 1))
}

impl<const W: usize, const L: usize> DataMover<W, L> {
    /// A mover for the given buffers.
    pub fn new(p: &DataMoverParams) -> Self {
        assert!((L == 1 || L == 2) && W == 32 * L, "32-bit lanes, one or two per word");
        assert!(
            (1..=64).contains(&p.rows) && (2..=64).contains(&p.cols) && (1..=16).contains(&p.fm_banks),
            "data mover for {} rows, {} cols, {} banks: allowed 1..=64, 2..=64, 1..=16",
            p.rows,
            p.cols,
            p.fm_banks
        );
        assert!(p.kernels >= 2 && p.depths.iter().all(|&d| (1..=1 << 16).contains(&d)), "data mover: K >= 2 and buffer depths 1..=65536");
        let mut bank0 = 0u64;
        let mut rows0 = 0u64;
        for ph in 0..4 {
            bank0 |= (1u64 << (ph % p.fm_banks)) << (16 * ph);
            rows0 |= ((ph / p.fm_banks) as u64) << (2 * ph);
        }
        let d = |i: usize| Constant::new(Bits::<20>::from(p.depths[i] as u64));
        block_with_defaults!(DataMover {
            lane_mask: Constant::new(((L - 1) as u64).into()),
            lshift: Constant::new(((L - 1) as u64).into()),
            be0: Constant::new(1u64.into()),
            be1: Constant::new(((1u64 << (L - 1)) & !1).into()),
            last_r: Constant::new(onehot_last(p.rows)),
            last_c: Constant::new(onehot_last(p.cols)),
            last_k: Constant::new(onehot_last(p.fm_banks)),
            last_j: Constant::new(Bits::<16>::from((p.kernels - 1) as u64)),
            d_fc: d(0),
            d_wb: d(1),
            d_bias: d(2),
            d_fm: d(3),
            d_out: d(4),
            d_pout: d(5),
            fm_bank0: Constant::new(bank0.into()),
            fm_rows0: Constant::new(rows0.into()),
            fc_half: Constant::new(((p.depths[0] / 2) as u64).into()),
            out_half: Constant::new(((p.depths[4] / 2) as u64).into()),
        } defaults {
            clock, go, g_store, g_sel, g_addr, g_words, g_len, g_stride, g_fw, g_fph, g_hbw, g_half,
            g_copy, busy, err, m_req_valid, m_req_ready, m_req_we, m_req_addr, m_req_wdata,
            m_req_be, m_rsp_valid, m_rsp_ready, m_rsp_data, w_en, w_sel, w_bank, w_addr, w_data,
            r_en, r_sel, r_bank, r_addr, r_data, r_base, r_off, ea, ra, rsp_elem, wword, act, st,
            sel, len, stride, fw, hbw, errf, e_base, e_off, e_left, o_left, primed, oc, oi, ob,
            obase, orow, ox, fb0, fr0, cp, dx, dob, dbase, drow, wv, wsel, wbank, waddr, wfull,
            wdepth, w_in, wdata, wdata_cp, wcp, n_oc, n_oi, n_ob, n_obase, n_orow, n_ox, chunk_end,
            cend, len1, cend_d, rb, d_cend, wr_r, wr_c, a_cur, depth, a_rd, depth_rd, rd_chk,
            rd_a_r, rd_d_r, rd_ok, d_wr, n_dx, dx_l, n_dx_l, n_dob, n_dbase, n_drow, d_addr, sfire,
            req_fire, rsp_take, adv, q_rows, fb_sel,
        })
    }
}

impl<const W: usize, const L: usize> Logic for DataMover<W, L> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, act, st, sel, len, stride, fw, hbw, errf, e_base, e_off, e_left, o_left,
            primed, cend, len1, cend_d, rb, oc, oi, ob, obase, orow, ox, fb0, fr0, cp, dx, dx_l, dob, dbase, drow, wv, wsel, wbank,
            waddr, wfull, wdepth, wdata, wdata_cp, wcp, r_base, r_off, rd_chk, rd_a_r, rd_d_r
        );
        self.busy.next = self.act.q.val() | self.wv.q.val();
        self.err.next = self.errf.q.val();

        // ---- Next on-chip state after the current word, per place.
        self.chunk_end.next = self.cend.q.val();
        self.wr_r.next = (self.ob.q.val() & self.last_r.val()).any();
        self.wr_c.next = (self.ob.q.val() & self.last_c.val()).any();
        // ---- The feature-memory cursor (load target 3 and copies): along the row, then the next
        // padded row's bank; a new chunk (channel) starts at row ρ = ph of the next channel.
        self.d_wr.next = (self.dob.q.val() & self.last_k.val()).any();
        self.n_dx.next = self.dx.q.val() + 1;
        self.n_dx_l.next = self.dx.q.val() + 2 == self.fw.q.val();
        self.n_dob.next = self.dob.q.val();
        self.n_dbase.next = self.dbase.q.val();
        self.n_drow.next = self.drow.q.val();
        if self.cp.q.val() {
            self.d_cend.next = self.cend_d.q.val();
        } else {
            self.d_cend.next = self.chunk_end.val();
        }
        if self.d_cend.val() {
            self.n_dx.next = 0.into();
            self.n_dx_l.next = self.fw.q.val() == 1;
            self.n_dob.next = self.fb0.q.val();
            self.n_drow.next = self.fr0.q.val();
            self.n_dbase.next = self.dbase.q.val() + self.hbw.q.val();
        } else if self.dx_l.q.val() {
            self.n_dx.next = 0.into();
            self.n_dx_l.next = self.fw.q.val() == 1;
            if self.d_wr.val() {
                self.n_dob.next = 1.into();
                self.n_drow.next = self.drow.q.val() + self.fw.q.val();
            } else {
                self.n_dob.next = self.dob.q.val() << 1;
            }
        }
        self.d_addr.next = bit_cast::<20, 16>(self.dbase.q.val())
            + bit_cast::<20, 16>(self.drow.q.val())
            + bit_cast::<20, 16>(self.dx.q.val());

        self.n_oi.next = self.oi.q.val() + 1;
        self.n_oc.next = self.oc.q.val() + 1;
        self.n_ob.next = self.ob.q.val();
        self.n_obase.next = self.obase.q.val();
        self.n_orow.next = self.orow.q.val();
        self.n_ox.next = self.ox.q.val();
        if self.chunk_end.val() {
            self.n_oc.next = 0.into();
        }
        if !self.st.q.val() & (self.sel.q.val() == 0) {
            // First cache: a chunk per bank, R chunks per plane.
            if self.chunk_end.val() {
                if self.wr_r.val() {
                    self.n_ob.next = 1.into();
                    self.n_obase.next = self.obase.q.val() + self.len.q.val().get_bits::<16>(0);
                } else {
                    self.n_ob.next = self.ob.q.val() << 1;
                }
            }
        } else if !self.st.q.val() & (self.sel.q.val() == 2) {
            // Bias: banks in turn, then the next entry.
            if self.wr_c.val() {
                self.n_ob.next = 1.into();
                self.n_obase.next = self.obase.q.val() + 1;
            } else {
                self.n_ob.next = self.ob.q.val() << 1;
            }
        } else if self.st.q.val() & !self.sel.q.val().get_bit(0) {
            // Conv output: channel t·C·K + c·K + j at bank c, entry (t·K + j)·len.
            if self.chunk_end.val() {
                self.n_obase.next = self.obase.q.val() + self.len.q.val().get_bits::<16>(0);
                if self.ox.q.val() == self.last_j.val() {
                    self.n_ox.next = 0.into();
                    if self.wr_c.val() {
                        self.n_ob.next = 1.into();
                        self.n_orow.next = self.obase.q.val() + self.len.q.val().get_bits::<16>(0);
                    } else {
                        self.n_ob.next = self.ob.q.val() << 1;
                        self.n_obase.next = self.orow.q.val();
                    }
                } else {
                    self.n_ox.next = self.ox.q.val() + 1;
                }
            }
        }
        // On-chip address of the current and the next word.
        self.a_cur.next = self.oi.q.val();
        self.depth.next = self.d_pout.val();
        if !self.st.q.val() {
            if self.sel.q.val() == 0 {
                self.a_cur.next = bit_cast::<20, 16>(self.obase.q.val()) + self.oc.q.val();
                self.depth.next = self.d_fc.val();
            } else if self.sel.q.val() == 1 {
                self.depth.next = self.d_wb.val();
            } else if self.sel.q.val() == 2 {
                self.a_cur.next = bit_cast::<20, 16>(self.obase.q.val());
                self.depth.next = self.d_bias.val();
            } else {
                // The feature memory: the destination cursor's address (`d_addr`).
                self.a_cur.next = self.d_addr.val();
                self.depth.next = self.d_fm.val();
            }
        } else if !self.sel.q.val().get_bit(0) {
            self.a_cur.next = bit_cast::<20, 16>(self.obase.q.val()) + self.oc.q.val();
            self.depth.next = self.d_out.val();
        }

        if self.sel.q.val().get_bit(0) {
            self.a_rd.next = self.oi.q.val();
            self.depth_rd.next = self.d_pout.val();
        } else {
            self.a_rd.next = bit_cast::<20, 16>(self.obase.q.val()) + self.oc.q.val();
            self.depth_rd.next = self.d_out.val();
        }
        self.rd_a_r.d.next = self.a_rd.val();
        self.rd_d_r.d.next = self.depth_rd.val();
        self.rd_chk.d.next = false;
        self.rd_ok.next = self.rd_a_r.q.val() < self.rd_d_r.q.val();
        if self.rd_chk.q.val() & !self.rd_ok.val() {
            self.errf.d.next = true;
        }

        // ---- External requests: one per cycle while the port is ready.
        self.ea.next = self.e_base.q.val() + bit_cast::<26, 20>(self.e_off.q.val());
        self.m_req_addr.next = self.ea.val() >> self.lshift.val();
        self.m_req_we.next = self.st.q.val();
        // The element in every lane; the lane enable picks the one written.
        self.wword.next = bit_cast::<W, 32>(self.r_data.val());
        for _l in 1..self.lanes() {
            self.wword.next = self.wword.val() | (bit_cast::<W, 32>(self.r_data.val()) << 32);
        }
        self.m_req_wdata.next = self.wword.val();
        self.m_req_be.next = self.be0.val();
        if (self.ea.val() & self.lane_mask.val()).any() {
            self.m_req_be.next = self.be1.val();
        }
        self.m_req_valid.next = self.act.q.val()
            & self.e_left.q.val().any()
            & (!self.st.q.val() | self.primed.q.val());
        self.req_fire.next = self.m_req_valid.val() & self.m_req_ready.val();
        if self.req_fire.val() {
            self.e_left.d.next = self.e_left.q.val() - 1;
            if self.e_off.q.val() + 1 == self.len.q.val() {
                self.e_off.d.next = 0.into();
                self.e_base.d.next = self.e_base.q.val() + self.stride.q.val();
            } else {
                self.e_off.d.next = self.e_off.q.val() + 1;
            }
        }
        self.m_rsp_ready.next = true;
        self.rsp_take.next = self.m_rsp_valid.val() & self.act.q.val() & !self.st.q.val();
        // The response's element: its lane of the word, from the response cursor.
        self.ra.next = self.r_base.q.val() + bit_cast::<26, 20>(self.r_off.q.val());
        self.rsp_elem.next = self.m_rsp_data.val().get_bits::<32>(0);
        for l in 1..self.lanes() {
            if (self.ra.val() & self.lane_mask.val()).any() {
                self.rsp_elem.next = self.m_rsp_data.val().get_bits::<32>(32 * l);
            }
        }
        if self.rsp_take.val() {
            if self.r_off.q.val() + 1 == self.len.q.val() {
                self.r_off.d.next = 0.into();
                self.r_base.d.next = self.r_base.q.val() + self.stride.q.val();
            } else {
                self.r_off.d.next = self.r_off.q.val() + 1;
            }
        }

        // ---- On-chip side: loads write each response; stores read one word ahead.
        self.wv.d.next = false;
        self.wcp.d.next = false;
        self.wdata_cp.d.next = self.r_data.val();
        self.r_en.next = false;
        self.r_sel.next = self.sel.q.val().get_bit(0);
        // The bank of the word on the read data (the output buffer selects its bank with the
        // last cycle's `r_bank`, read or not), unless a new word is read below.
        self.r_bank.next = self.rb.q.val();
        self.r_addr.next = self.a_rd.val().get_bits::<16>(0);
        self.adv.next = false;
        if self.act.q.val() & !self.st.q.val() {
            self.adv.next = self.rsp_take.val();
            if self.rsp_take.val() {
                self.wv.d.next = true;
                self.wfull.d.next = self.a_cur.val();
                self.wdepth.d.next = self.depth.val();
                self.wsel.d.next = self.sel.q.val();
                self.wbank.d.next = self.ob.q.val();
                self.waddr.d.next = self.a_cur.val().get_bits::<16>(0);
                self.wdata.d.next = self.rsp_elem.val();
                if self.sel.q.val() == 3 {
                    self.wbank.d.next = self.dob.q.val();
                    self.dx.d.next = self.n_dx.val();
                    self.dx_l.d.next = self.n_dx_l.val();
                    self.dob.d.next = self.n_dob.val();
                    self.dbase.d.next = self.n_dbase.val();
                    self.drow.d.next = self.n_drow.val();
                }
                self.o_left.d.next = self.o_left.q.val() - 1;
                if self.o_left.q.val() == 1 {
                    self.act.d.next = false;
                }
            }
        }
        self.sfire.next = self.req_fire.val() | (self.cp.q.val() & self.primed.q.val());
        if self.act.q.val() & self.st.q.val() {
            if self.cp.q.val() & self.primed.q.val() {
                // The word read last cycle goes into the feature memory.
                self.wv.d.next = true;
                self.wfull.d.next = self.d_addr.val();
                self.wdepth.d.next = self.d_fm.val();
                self.wsel.d.next = 3.into();
                self.wbank.d.next = self.dob.q.val();
                self.waddr.d.next = self.d_addr.val().get_bits::<16>(0);
                self.wcp.d.next = true;
                self.dx.d.next = self.n_dx.val();
                self.dx_l.d.next = self.n_dx_l.val();
                self.dob.d.next = self.n_dob.val();
                self.dbase.d.next = self.n_dbase.val();
                self.drow.d.next = self.n_drow.val();
            }
            if !self.primed.q.val() {
                // Read the first word and step the cursor: from here on it names the next
                // word to read, so a read's address comes from registers through one adder, not
                // through the cursor's step logic (timing).
                self.primed.d.next = true;
                self.adv.next = true;
                self.r_bank.next = self.ob.q.val();
                self.rb.d.next = self.ob.q.val();
                // (The read is not gated by the bounds check, timing: a read past the place
                // reads some entry, harmlessly, and the error flag stops the run.)
                self.r_en.next = true;
                self.rd_chk.d.next = true;
            } else if self.sfire.val() {
                self.adv.next = true;
                self.o_left.d.next = self.o_left.q.val() - 1;
                if self.o_left.q.val() == 1 {
                    self.act.d.next = false;
                } else {
                    // The cursor already names the next word to read.
                    self.r_bank.next = self.ob.q.val();
                    self.rb.d.next = self.ob.q.val();
                    self.r_en.next = true;
                    self.rd_chk.d.next = true;
                }
            }
        }
        if self.adv.val() {
            self.cend_d.d.next = self.cend.q.val();
            // The word after this one ends its chunk: a new chunk of one word, or the
            // second-to-last word of this one.
            if self.chunk_end.val() {
                self.cend.d.next = self.len1.q.val();
            } else {
                self.cend.d.next = self.oc.q.val() + 2 == self.len.q.val();
            }
            self.oc.d.next = self.n_oc.val();
            self.oi.d.next = self.n_oi.val();
            self.ob.d.next = self.n_ob.val();
            self.obase.d.next = self.n_obase.val();
            self.orow.d.next = self.n_orow.val();
            self.ox.d.next = self.n_ox.val();
        }
        // The bounds check happens in the write stage (timing: the address sums end in a
        // register); a write past its place is dropped and stops the mover with the error.
        self.w_in.next = self.wfull.q.val() < self.wdepth.q.val();
        self.w_en.next = self.wv.q.val() & self.w_in.val();
        if self.wv.q.val() & !self.w_in.val() {
            self.errf.d.next = true;
        }
        self.w_sel.next = self.wsel.q.val();
        self.w_bank.next = self.wbank.q.val();
        self.w_addr.next = self.waddr.q.val();
        if self.wcp.q.val() {
            self.w_data.next = self.wdata_cp.q.val();
        } else {
            self.w_data.next = self.wdata.q.val();
        }

        // ---- Start.
        // The table entry of ph (0..=3), selected with constant indices.
        self.fb_sel.next = self.fm_bank0.val().get_bits::<16>(0);
        self.q_rows.next = self.fm_rows0.val().get_bits::<2>(0);
        if self.g_fph.val() == 1 {
            self.fb_sel.next = self.fm_bank0.val().get_bits::<16>(16);
            self.q_rows.next = self.fm_rows0.val().get_bits::<2>(2);
        } else if self.g_fph.val() == 2 {
            self.fb_sel.next = self.fm_bank0.val().get_bits::<16>(32);
            self.q_rows.next = self.fm_rows0.val().get_bits::<2>(4);
        } else if self.g_fph.val() == 3 {
            self.fb_sel.next = self.fm_bank0.val().get_bits::<16>(48);
            self.q_rows.next = self.fm_rows0.val().get_bits::<2>(6);
        }
        if self.go.val() & !self.act.q.val() {
            self.act.d.next = self.g_words.val().any();
            self.errf.d.next = false;
            self.st.d.next = self.g_store.val() | self.g_copy.val();
            self.cp.d.next = self.g_copy.val();
            self.sel.d.next = self.g_sel.val();
            if self.g_copy.val() {
                self.sel.d.next = 0.into();
            }
            if self.g_len.val().any() {
                self.len.d.next = self.g_len.val();
                self.len1.d.next = self.g_len.val() == 1;
                self.cend.d.next = self.g_len.val() == 1;
            } else {
                self.len.d.next = self.g_words.val();
                self.len1.d.next = self.g_words.val() == 1;
                self.cend.d.next = self.g_words.val() == 1;
            }
            self.stride.d.next = self.g_stride.val();
            self.fw.d.next = self.g_fw.val();
            self.hbw.d.next = self.g_hbw.val();
            self.e_base.d.next = self.g_addr.val();
            self.e_off.d.next = 0.into();
            self.r_base.d.next = self.g_addr.val();
            self.r_off.d.next = 0.into();
            self.e_left.d.next = self.g_words.val();
            if self.g_copy.val() {
                self.e_left.d.next = 0.into();
            }
            self.o_left.d.next = self.g_words.val();
            self.primed.d.next = false;
            self.oc.d.next = 0.into();
            self.oi.d.next = 0.into();
            self.obase.d.next = 0.into();
            self.ox.d.next = 0.into();
            self.ob.d.next = 1.into();
            self.orow.d.next = 0.into();
            if self.g_half.val() & ((self.g_sel.val() == 0) | self.g_copy.val()) {
                if self.g_store.val() | self.g_copy.val() {
                    self.obase.d.next = self.out_half.val();
                    self.orow.d.next = self.out_half.val();
                } else {
                    self.obase.d.next = self.fc_half.val();
                }
            }
            // The destination cursor of a copy starts like a feature-memory load.
            self.dx.d.next = 0.into();
            self.dx_l.d.next = self.g_fw.val() == 1;
            self.dbase.d.next = 0.into();
            self.dob.d.next = bit_cast::<64, 16>(self.fb_sel.val());
            self.drow.d.next = 0.into();
            if self.q_rows.val() == 1 {
                self.drow.d.next = self.g_fw.val();
            } else if self.q_rows.val() == 2 {
                self.drow.d.next = self.g_fw.val() << 1;
            } else if self.q_rows.val() == 3 {
                self.drow.d.next = (self.g_fw.val() << 1) + self.g_fw.val();
            }
            if self.g_copy.val() | (!self.g_store.val() & (self.g_sel.val() == 3)) {
                // Row ρ = ph of the padded map: bank ph mod k, entry (ph div k)·W.
                self.fb0.d.next = bit_cast::<64, 16>(self.fb_sel.val());
                self.fr0.d.next = 0.into();
                if self.q_rows.val() == 1 {
                    self.fr0.d.next = self.g_fw.val();
                } else if self.q_rows.val() == 2 {
                    self.fr0.d.next = self.g_fw.val() << 1;
                } else if self.q_rows.val() == 3 {
                    self.fr0.d.next = (self.g_fw.val() << 1) + self.g_fw.val();
                }
            }
        }
    }
}

impl<const W: usize, const L: usize> DataMover<W, L> {
    /// Lanes per word.
    pub fn lanes(&self) -> usize {
        L
    }
}

impl<const W: usize, const L: usize> crate::sim::Clocked for DataMover<W, L> {
    fn clock_mut(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
