//! HubSpot's OAuth refresh grant: the token request, and what its answers
//! mean. Pure: `delivery::token` keeps the state and `delivery` the I/O.

use std::fmt;

use serde::Deserialize;

/// A token request. Its body holds the client secret and the refresh
/// token, so it is never shown: `Debug` prints the path only.
pub struct TokenRequest {
    pub path: String,
    /// `application/x-www-form-urlencoded`: secrets stay out of the URL,
    /// where proxies and servers log them.
    pub body: String,
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

/// The refresh grant for `refresh_token` of the app `client_id`.
pub fn token_request(
    path: &str,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
) -> TokenRequest {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("client_id", client_id)
        .append_pair("client_secret", client_secret)
        .append_pair("refresh_token", refresh_token)
        .finish();
    TokenRequest {
        path: path.to_string(),
        body,
    }
}

/// A new access token. `Debug` shows neither token.
pub struct Token {
    pub access_token: String,
    /// Seconds the access token lives, as HubSpot said (1800 today).
    pub expires_in: f64,
    /// A refresh token other than the one sent: it replaces it.
    pub refresh_token: Option<String>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Token {{ expires_in: {}, rotated: {} }}",
            self.expires_in,
            self.refresh_token.is_some()
        )
    }
}

/// What a token answer means.
#[derive(Debug)]
pub enum TokenAnswer {
    Granted(Token),
    /// Worth asking again later (rate limit, server trouble).
    Retry(String),
    /// HubSpot refused the app's credentials for good: asking again with
    /// them cannot work.
    Refused(String),
}

#[derive(Deserialize)]
struct Granted {
    access_token: String,
    expires_in: f64,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// HubSpot's token errors carry RFC 6749 fields next to its own.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Refusal {
    error: Option<String>,
    error_description: Option<String>,
    status: Option<String>,
    message: Option<String>,
}

/// Reads the answer to a token request for `sent_refresh_token`.
pub fn read_token(status: u16, body: &str, sent_refresh_token: &str) -> TokenAnswer {
    if (200..300).contains(&status) {
        return match serde_json::from_str::<Granted>(body) {
            // It goes into a request header, where a line break could add
            // headers of its own.
            Ok(g)
                if g.access_token.is_empty()
                    || !g.access_token.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                TokenAnswer::Retry(format!(
                    "the token endpoint answered {status} with an access token that cannot be used"
                ))
            }
            Ok(g) if !(g.expires_in.is_finite() && g.expires_in > 0.0) => TokenAnswer::Retry(
                format!("the token endpoint answered {status} without a usable expires_in"),
            ),
            Ok(g) => TokenAnswer::Granted(Token {
                access_token: g.access_token,
                expires_in: g.expires_in,
                refresh_token: g.refresh_token.filter(|r| {
                    r != sent_refresh_token
                        && r.bytes().all(|b| b.is_ascii_graphic())
                        && !r.is_empty()
                }),
            }),
            Err(_) => TokenAnswer::Retry(format!(
                "the token endpoint answered {status} without an access_token and expires_in"
            )),
        };
    }
    let refusal: Refusal = serde_json::from_str(body).unwrap_or_default();
    let code = refusal.error.or(refusal.status);
    let message = refusal.error_description.or(refusal.message);
    let mut reason = format!("the token endpoint answered {status}");
    if let Some(code) = &code {
        reason.push_str(&format!(" ({code})"));
    }
    if let Some(message) = message {
        reason.push_str(&format!(": {message}"));
    }
    match status {
        408 | 429 | 500..=599 => TokenAnswer::Retry(reason),
        _ => TokenAnswer::Refused(reason),
    }
}
