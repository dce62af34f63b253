//! A response as delivery acts on it.

use super::Response;
use crate::delivery::limiter::RateHeaders;
use crate::hubspot::api::{self, Outcome};

/// A response as delivery acts on it, with the retry-after, rate-limit
/// policy and window read once for every kind of request.
pub(super) struct Sent {
    /// HubSpot's status; 0 when there was no answer.
    pub(super) status: u16,
    pub(super) body: String,
    /// `api::classify`'s reading; retryable when there was no answer.
    pub(super) outcome: Outcome,
    /// The wait HubSpot named: Retry-After, else a 429's rate-limit window.
    pub(super) wait: Option<u32>,
    /// A 429's `policyName` ("UNKNOWN" when it names none).
    pub(super) policy: Option<String>,
    pub(super) rate: RateHeaders,
}

impl From<Response> for Sent {
    fn from(response: Response) -> Sent {
        let (reason, wait) = match response {
            Response::Status(status, body, headers) => {
                let policy = (status == 429).then(|| api::policy(&body)).flatten();
                return Sent {
                    status,
                    outcome: api::classify(status, &body),
                    wait: headers.retry_after_ms.or(policy.as_deref().map(window_ms)),
                    policy: (status == 429).then(|| policy.unwrap_or_else(|| "UNKNOWN".into())),
                    body,
                    rate: headers.rate,
                };
            }
            Response::Network(message) => (format!("network error: {message}"), None),
            Response::NoToken {
                reason,
                retry_after_ms,
            } => (reason, retry_after_ms),
        };
        Sent {
            status: 0,
            body: String::new(),
            outcome: Outcome::Retryable(reason),
            wait,
            policy: None,
            rate: RateHeaders::default(),
        }
    }
}

/// How long a rate-limit window lasts, by HubSpot's policy name.
fn window_ms(policy: &str) -> u32 {
    match policy {
        "SECONDLY" => 1_000,
        _ => 10_000,
    }
}
