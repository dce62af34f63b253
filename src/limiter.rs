//! A token bucket for CRM calls, sized from HubSpot's rate-limit headers
//! when it sends them, else from the `rateLimit` setting. Event sends are
//! exempt from HubSpot's limits and never wait on it.

#[derive(Debug)]
pub struct Limiter {
    capacity: f64,
    tokens: f64,
    interval_ms: f64,
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
        Limiter {
            capacity: f64::from(requests.max(1)),
            tokens: f64::from(requests.max(1)),
            interval_ms: f64::from(interval_ms.max(1)),
            updated_ms: f64::NAN,
        }
    }

    fn refill(&mut self, now_ms: f64) {
        if self.updated_ms.is_finite() && now_ms > self.updated_ms {
            let rate = self.capacity / self.interval_ms;
            self.tokens = (self.tokens + (now_ms - self.updated_ms) * rate).min(self.capacity);
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
            let rate = self.capacity / self.interval_ms;
            Err(((1.0 - self.tokens) / rate).ceil().max(1.0) as u32)
        }
    }

    /// Adopts the limits HubSpot reports, keeping a safety margin of one
    /// request so a neighbour using the same app budget is not squeezed out.
    pub fn observe(&mut self, headers: &RateHeaders, now_ms: f64) {
        self.refill(now_ms);
        if let (Some(max), Some(interval)) = (headers.max, headers.interval_ms) {
            self.capacity = f64::from(max.saturating_sub(1).max(1));
            self.interval_ms = f64::from(interval.max(1));
        }
        if let Some(remaining) = headers.remaining {
            self.tokens = self.tokens.min(f64::from(remaining.saturating_sub(1)));
        }
    }
}
