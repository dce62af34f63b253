//! When to try again: exponential backoff with full jitter, never sooner
//! than a server's `Retry-After`.

pub const BASE_MS: u32 = 500;
pub const MAX_MS: u32 = 60_000;

#[derive(Debug)]
pub struct Backoff {
    failures: u32,
    rng: u64,
}

impl Backoff {
    /// `seed` comes from the host's randomness, so destinations in many
    /// processes do not retry in step.
    pub fn new(seed: u64) -> Backoff {
        Backoff {
            failures: 0,
            rng: seed | 1,
        }
    }

    /// The delay before the next try after one more failure: a random time
    /// up to `BASE_MS × 2^failures` (at most `MAX_MS`), and at least
    /// `retry_after` when the server named one.
    pub fn next_delay(&mut self, retry_after: Option<u32>) -> u32 {
        let ceiling = BASE_MS
            .saturating_mul(1 << self.failures.min(16))
            .min(MAX_MS);
        self.failures = self.failures.saturating_add(1);
        let jitter = (self.random() % u64::from(ceiling + 1)) as u32;
        jitter.max(retry_after.unwrap_or(0))
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// xorshift64*: plenty for jitter.
    fn random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
