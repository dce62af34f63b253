//! A token bucket for CRM calls, sized from HubSpot's rate-limit headers
//! when it sends them, else from the `rateLimit` setting. Event sends are
//! exempt from HubSpot's limits and never wait on it.
//!
//! HubSpot counts requests in a rolling window. A bucket of capacity B that
//! refills at r per ms lets B + r·T through in any window of T ms, so for a
//! limit of `max` per T it holds a tenth (B = max / 10) and refills the rest
//! over T, less a tenth for clocks and latency (r = 0.9 (max − B) / T): the
//! window is never exceeded, bursts stay small, and the sustained rate is
//! about four fifths of HubSpot's.

#[derive(Debug)]
pub struct Limiter {
    capacity: f64,
    tokens: f64,
    /// Tokens per millisecond.
    rate: f64,
    updated_ms: f64,
}

/// What HubSpot's `X-HubSpot-RateLimit-*` headers said.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RateHeaders {
    pub max: Option<u32>,
    pub remaining: Option<u32>,
    pub interval_ms: Option<u32>,
}

impl Limiter {
    pub fn new(requests: u32, interval_ms: u32) -> Limiter {
        // Full at first: `size` caps the tokens at the capacity.
        let mut limiter = Limiter {
            capacity: 1.0,
            tokens: f64::INFINITY,
            rate: 0.0,
            updated_ms: f64::NAN,
        };
        limiter.size(requests, interval_ms);
        limiter
    }

    fn size(&mut self, max: u32, interval_ms: u32) {
        let max = f64::from(max.max(1));
        self.capacity = (max / 10.0).floor().max(1.0);
        self.rate = 0.9 * (max - self.capacity).max(1.0) / f64::from(interval_ms.max(1));
        self.tokens = self.tokens.min(self.capacity);
    }

    fn refill(&mut self, now_ms: f64) {
        if self.updated_ms.is_finite() && now_ms > self.updated_ms {
            self.tokens = (self.tokens + (now_ms - self.updated_ms) * self.rate).min(self.capacity);
        }
        self.updated_ms = now_ms;
    }

    /// Takes a token now, or says how many milliseconds until one is there.
    pub fn take(&mut self, now_ms: f64) -> Result<(), u32> {
        self.refill(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.rate).ceil().max(1.0) as u32)
        }
    }

    /// Adopts the limits HubSpot reports. What is left in the window caps
    /// the tokens, as other clients of the same app spend it too.
    pub fn observe(&mut self, headers: &RateHeaders, now_ms: f64) {
        self.refill(now_ms);
        if let (Some(max), Some(interval)) = (headers.max, headers.interval_ms) {
            self.size(max, interval);
        }
        if let Some(remaining) = headers.remaining {
            self.tokens = self.tokens.min(f64::from(remaining));
        }
    }
}
