//! The memory plan of a graph's tensors (issue #30): each tensor a region of external memory live
//! from the step that writes it to the last step that reads it, regions of dead tensors reused.
//!
//! A step is one layer in the emitted (topological) order. A tensor is live over the closed
//! range `[first, last]`: a layer's inputs and its output are live at its step together (the
//! hardware reads one while it writes the other), so they never share bytes. The network input
//! is live from step 0, the output to the last step. Placement is greedy by size (the largest
//! tensor first, each at the lowest offset free of every placed tensor whose range meets its own),
//! the rule of the usual DNN arena planners: the peak is at least the largest sum of sizes live at
//! one step and, on chains and residual blocks, equal to it.

use std::cmp::Reverse;

/// A tensor to place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Live {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The step that writes it (0 for the network input).
    pub first: usize,
    /// The last step that reads it (the last step for the network output).
    pub last: usize,
}

/// A placed tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// The tensor.
    pub live: Live,
    /// Its byte offset from the plan's base (a multiple of the alignment).
    pub offset: u64,
}

/// Every tensor's region, in the order given, and the bytes the plan spans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemPlan {
    /// One region per tensor, in the order of the tensors given.
    pub regions: Vec<Region>,
    /// Bytes from the base to the end of the highest region.
    pub peak: u64,
}

impl MemPlan {
    /// The most bytes live at one step: no plan spans less (a model figure, from the ranges).
    pub fn live_bound(&self, align: u64) -> u64 {
        let steps = self.regions.iter().map(|r| r.live.last + 1).max().unwrap_or(0);
        (0..steps)
            .map(|s| self.regions.iter().filter(|r| r.live.first <= s && s <= r.live.last).map(|r| r.live.bytes.div_ceil(align) * align).sum())
            .max()
            .unwrap_or(0)
    }

    /// Bytes of all tensors side by side (each its own region, as chains are laid out).
    pub fn unshared(&self, align: u64) -> u64 {
        self.regions.iter().map(|r| r.live.bytes.div_ceil(align) * align).sum()
    }
}

/// Places `tensors` (`align`: every offset a multiple of it, at least 1). Refuses a tensor read
/// before it is written, naming it.
pub fn plan(tensors: &[Live], align: u64) -> Result<MemPlan, String> {
    let align = align.max(1);
    for t in tensors {
        if t.last < t.first {
            return Err(format!("tensor {} is read at step {} before it is written at step {}", t.name, t.last, t.first));
        }
    }
    let mut order: Vec<usize> = (0..tensors.len()).collect();
    order.sort_by_key(|&i| (Reverse(tensors[i].bytes), tensors[i].first, i));
    let mut offsets: Vec<Option<u64>> = vec![None; tensors.len()];
    for &i in &order {
        let t = &tensors[i];
        // The placed tensors live at the same time, by offset.
        let mut busy: Vec<(u64, u64)> = order
            .iter()
            .filter_map(|&j| offsets[j].map(|o| (j, o)))
            .filter(|&(j, _)| tensors[j].first <= t.last && t.first <= tensors[j].last)
            .map(|(j, o)| (o, o + tensors[j].bytes))
            .collect();
        busy.sort_unstable();
        let mut at = 0;
        for (lo, hi) in busy {
            if at + t.bytes <= lo {
                break;
            }
            at = at.max(hi.div_ceil(align) * align);
        }
        offsets[i] = Some(at);
    }
    let regions: Vec<Region> =
        tensors.iter().zip(offsets).map(|(t, o)| Region { live: t.clone(), offset: o.expect("every tensor placed") }).collect();
    let peak = regions.iter().map(|r| r.offset + r.live.bytes).max().unwrap_or(0);
    Ok(MemPlan { regions, peak })
}

/// The first two regions whose tensors live at one step and share a byte, if any.
pub fn overlap(p: &MemPlan) -> Option<(&str, &str)> {
    for (i, a) in p.regions.iter().enumerate() {
        for b in &p.regions[i + 1..] {
            let live = a.live.first <= b.live.last && b.live.first <= a.live.last;
            let bytes = a.offset < b.offset + b.live.bytes && b.offset < a.offset + a.live.bytes;
            if live && bytes && a.live.bytes > 0 && b.live.bytes > 0 {
                return Some((&a.live.name, &b.live.name));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use accelgen_golden::testutil::Rng;

    fn t(name: &str, bytes: u64, first: usize, last: usize) -> Live {
        Live { name: name.into(), bytes, first, last }
    }

    #[test]
    fn a_chain_ping_pongs_between_two_regions() {
        // x → a → b → c → y, each read by the next layer only
        let ts = [t("x", 1000, 0, 0), t("a", 800, 0, 1), t("b", 1000, 1, 2), t("c", 600, 2, 3), t("y", 100, 3, 3)];
        let p = plan(&ts, 64).unwrap();
        assert_eq!(overlap(&p), None);
        assert_eq!(p.peak, 1024 + 800, "two regions: x, b, y at 0 and a, c at the next 64-byte boundary: {p:?}");
        assert!(p.peak < p.unshared(64));
        // the 1000-byte tensors share the first region
        assert_eq!((p.regions[0].offset, p.regions[2].offset), (0, 0));
    }

    #[test]
    fn a_shortcut_stays_live_across_its_block() {
        // x → conv1 (a) → conv2 (b) → add(b, x) → y; x is read at steps 0 and 2
        let ts = [t("x", 4096, 0, 2), t("a", 4096, 0, 1), t("b", 4096, 1, 2), t("y", 4096, 2, 3), t("z", 4096, 3, 3)];
        let p = plan(&ts, 64).unwrap();
        assert_eq!(overlap(&p), None);
        assert_eq!(p.peak, 3 * 4096, "three tensors live at step 2: {p:?}");
        assert_eq!(p.live_bound(64), 3 * 4096);
    }

    #[test]
    fn random_graphs_never_overlap_and_reuse_regions() {
        let mut rng = Rng::from_env("memplan", 7);
        let mut reused = 0;
        for _ in 0..300 {
            let n = rng.range(2, 30) as usize;
            let ts: Vec<Live> = (0..n)
                .map(|i| {
                    let first = rng.range(0, 20) as usize;
                    t(&format!("t{i}"), rng.range(0, 5000) as u64, first, first + rng.range(0, 6) as usize)
                })
                .collect();
            let p = plan(&ts, 64).unwrap();
            assert_eq!(overlap(&p), None, "{ts:?}");
            assert!(p.regions.iter().all(|r| r.offset % 64 == 0));
            assert!(p.peak >= p.live_bound(64).saturating_sub(63) && p.peak <= p.unshared(64), "{p:?}");
            reused += usize::from(p.peak < p.unshared(64));
        }
        assert!(reused > 200, "regions reused in {reused} of 300 graphs");
    }

    #[test]
    fn a_tensor_read_before_it_is_written_is_refused() {
        let e = plan(&[t("x", 10, 3, 1)], 64).unwrap_err();
        assert!(e.contains("tensor x") && e.contains("step 1") && e.contains("step 3"), "{e}");
    }

    #[test]
    fn the_overlap_check_finds_a_shared_byte() {
        // the check the tests above rely on can fail
        let p = MemPlan {
            regions: vec![Region { live: t("a", 100, 0, 1), offset: 0 }, Region { live: t("b", 100, 1, 2), offset: 99 }],
            peak: 199,
        };
        assert_eq!(overlap(&p), Some(("a", "b")));
        let apart = MemPlan { regions: vec![p.regions[0].clone(), Region { live: t("b", 100, 2, 3), offset: 0 }], peak: 100 };
        assert_eq!(overlap(&apart), None, "not live together");
    }
}
