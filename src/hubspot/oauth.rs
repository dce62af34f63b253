//! HubSpot's OAuth refresh grant: the token request, and what its answers
//! mean. Pure: `delivery::token` keeps the state and `delivery` the I/O.

use std::fmt;

use crate::config::settings::OAuth;
use crate::mapping::value::Value;

/// A token request. Its body holds the client secret and the refresh
/// token, so it is never shown: `Debug` prints the path only.
#[derive(PartialEq)]
pub struct TokenRequest {
    pub path: String,
    /// The form's fields, sent `application/x-www-form-urlencoded` (the
    /// transport encodes them with the platform's URLSearchParams): secrets
    /// stay out of the URL, where proxies and servers log them.
    pub form: Vec<(&'static str, String)>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TokenRequest {{ path: {:?}, body: <secret> }}",
            self.path
        )
    }
}

pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The refresh grant for the app's refresh token.
pub fn token_request(oauth: &OAuth) -> TokenRequest {
    TokenRequest {
        path: oauth.token_path.clone(),
        form: vec![
            ("grant_type", "refresh_token".to_string()),
            ("client_id", oauth.client_id.clone()),
            ("client_secret", oauth.client_secret.clone()),
            ("refresh_token", oauth.refresh_token.clone()),
        ],
    }
}

/// What a token answer means. No `Debug`: it holds the tokens.
pub enum TokenAnswer {
    /// A new access token, the seconds it lives (HubSpot says 1800 today),
    /// and a refresh token other than the one sent, which replaces it.
    Granted {
        access_token: String,
        expires_in: f64,
        refresh_token: Option<String>,
    },
    /// Worth asking again later (rate limit, server trouble).
    Retry(String),
    /// HubSpot refused the app's credentials for good: asking again with
    /// them cannot work.
    Refused(String),
}

/// Reads the answer to a token request for `sent_refresh_token`.
pub fn read_token(status: u16, body: &str, sent_refresh_token: &str) -> TokenAnswer {
    // Read as the engine's JSON `Value`: one reader for every answer shape,
    // not one compiled serde reader each (the WebAssembly stays small).
    let answer = Value::parse(body).unwrap_or(Value::Undefined);
    let text = |key: &str| {
        answer
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if (200..300).contains(&status) {
        let access_token = text("access_token");
        let expires_in = match answer.get("expires_in") {
            Some(Value::Number(n)) if n.is_finite() && *n > 0.0 => Some(*n),
            _ => None,
        };
        return match (access_token, expires_in) {
            // It goes into a request header, where a line break could add
            // headers of its own.
            (Some(token), Some(expires_in)) if token.bytes().all(|b| b.is_ascii_graphic()) => {
                TokenAnswer::Granted {
                    access_token: token.to_string(),
                    expires_in,
                    refresh_token: text("refresh_token")
                        .filter(|r| *r != sent_refresh_token)
                        .map(str::to_string),
                }
            }
            _ => TokenAnswer::Retry(format!(
                "the token endpoint answered {status} without a usable access_token and expires_in"
            )),
        };
    }
    let mut reason = format!("the token endpoint answered {status}");
    if let Some(code) = text("error").or_else(|| text("status")) {
        reason.push_str(&format!(" ({code})"));
    }
    if let Some(message) = text("error_description").or_else(|| text("message")) {
        reason.push_str(&format!(": {message}"));
    }
    match status {
        408 | 429 | 500..=599 => TokenAnswer::Retry(reason),
        _ => TokenAnswer::Refused(reason),
    }
}
