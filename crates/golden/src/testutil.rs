//! Seeded randomness for tests: the seed is printed, and `ACCELGEN_SEED` overrides it.

/// A small xorshift generator (tests need reproducible, not cryptographic, numbers).
pub struct Rng(u64);

impl Rng {
    /// A generator for test `name`: seed from `ACCELGEN_SEED` if set, else `default`. Prints it.
    pub fn from_env(name: &str, default: u64) -> Rng {
        let seed = std::env::var("ACCELGEN_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default);
        eprintln!("{name}: seed {seed} (set ACCELGEN_SEED to override)");
        Rng::new(seed)
    }

    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}
