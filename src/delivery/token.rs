//! The access token requests are sent with: a private app's, which never
//! expires, or an OAuth app's, fetched with the refresh token and renewed
//! ahead of its expiry. Pure state: `core` makes the token requests,
//! one at a time, and reports what happened.

use std::fmt;

use crate::config::settings::{Credentials, OAuth};
use crate::hubspot::oauth::{self, TokenAnswer, TokenRequest};

/// Renewal starts this long before expiry at most (HubSpot's tokens live
/// 30 minutes, so 3 minutes ahead; a short-lived token 10% of its life
/// ahead), so a request under way does not outlive its token.
pub const MAX_MARGIN_MS: f64 = 300_000.0;

pub struct Tokens {
    /// None for a private app's token, which `current` holds for good.
    oauth: Option<OAuth>,
    current: Option<Current>,
    /// HubSpot refused the refresh token: nothing is sent any more.
    refused: bool,
}

struct Current {
    /// `Bearer …`, the header value.
    authorization: String,
    /// Milliseconds since the epoch; infinite for a private app's token.
    renew_at: f64,
}

/// What a request needing a token does next.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// Send with this `authorization` header value.
    Use(String),
    /// Ask the token endpoint first.
    Renew(TokenRequest),
    /// The refresh token was refused: nothing can be sent.
    Refused,
}

/// The outcome of a token request.
#[derive(Debug, PartialEq)]
pub enum Renewal {
    /// A new token, with the refresh token HubSpot rotated to, if it did.
    Renewed {
        authorization: String,
        rotated: Option<Rotated>,
    },
    /// Ask again after the usual backoff.
    Retry(String),
    /// Refused for good: the message says what to do.
    Refused(String),
}

/// A new refresh token for `env.onToken`, with the access token's expiry.
/// `Debug` does not show it.
#[derive(Clone, PartialEq)]
pub struct Rotated {
    pub refresh_token: String,
    /// Milliseconds since the epoch.
    pub expires_at: f64,
}

impl fmt::Debug for Rotated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Rotated {{ expires_at: {}, refresh_token: <secret> }}",
            self.expires_at
        )
    }
}

impl Tokens {
    pub fn new(credentials: &Credentials) -> Tokens {
        let (oauth, current) = match credentials {
            Credentials::AccessToken(token) => (
                None,
                Some(Current {
                    authorization: format!("Bearer {token}"),
                    renew_at: f64::INFINITY,
                }),
            ),
            Credentials::OAuth(oauth) => (Some(oauth.clone()), None),
        };
        Tokens {
            oauth,
            current,
            refused: false,
        }
    }

    pub fn refused(&self) -> bool {
        self.refused
    }

    /// What a request at `now` (ms since the epoch) does for its token.
    pub fn next(&self, now: f64) -> Next {
        match (&self.current, &self.oauth) {
            _ if self.refused => Next::Refused,
            // A private app's token is due for renewal at infinity: never.
            (Some(current), _) if now < current.renew_at => {
                Next::Use(current.authorization.clone())
            }
            (_, Some(oauth)) => Next::Renew(oauth::token_request(oauth)),
            _ => Next::Refused,
        }
    }

    /// Takes the token endpoint's answer (`status`, `body`) at `now`.
    pub fn answer(&mut self, status: u16, body: &str, now: f64) -> Renewal {
        let Some(oauth) = self.oauth.as_mut() else {
            return Renewal::Retry("a private app's token is not renewed".into());
        };
        match oauth::read_token(status, body, &oauth.refresh_token) {
            TokenAnswer::Granted {
                access_token,
                expires_in,
                refresh_token,
            } => {
                let lifetime = expires_in * 1000.0;
                let margin = (lifetime / 10.0).min(MAX_MARGIN_MS);
                let authorization = format!("Bearer {access_token}");
                self.current = Some(Current {
                    authorization: authorization.clone(),
                    renew_at: now + lifetime - margin,
                });
                // The new refresh token replaces the old one at once: under
                // rotation the old one no longer works.
                let rotated = refresh_token.map(|refresh_token| {
                    oauth.refresh_token = refresh_token.clone();
                    Rotated {
                        refresh_token,
                        expires_at: now + lifetime,
                    }
                });
                Renewal::Renewed {
                    authorization,
                    rotated,
                }
            }
            TokenAnswer::Retry(reason) => Renewal::Retry(format!("no access token yet: {reason}")),
            TokenAnswer::Refused(reason) => {
                self.refused = true;
                self.current = None;
                // HubSpot refuses a refresh token with 400; anything else
                // (401, 404, a sunset endpoint's 410) points at the
                // request's path or the app's credentials first.
                Renewal::Refused(match status {
                    400 => format!(
                        "HubSpot refused the OAuth app's refresh token ({reason}); nothing is sent any more. Reconnect the app to the HubSpot account (install it again) and set settings.oauth.refreshToken to the new refresh token (check clientId and clientSecret too); queued events go to env.onDrop at shutdown"
                    ),
                    _ => format!(
                        "the OAuth token request to {} was refused ({reason}); nothing is sent any more. Fix: check settings.oauth.tokenPath (/oauth/2026-03/token, or /oauth/v1/token until its sunset) and settings.apiBase, then clientId and clientSecret; queued events go to env.onDrop at shutdown",
                        oauth.token_path
                    ),
                })
            }
        }
    }

    /// HubSpot answered 401 to a request sent with `authorization`: that
    /// token is forgotten, if it is still the current one. True when the
    /// request is worth one more try with a new token (an OAuth app; once
    /// the refresh token is refused, that try finds no token and the
    /// request waits in the queue instead of being dropped for the 401).
    pub fn rejected(&mut self, authorization: &str) -> bool {
        let current = self.current.as_ref();
        if self.oauth.is_some() && current.is_some_and(|c| c.authorization == authorization) {
            self.current = None;
        }
        self.oauth.is_some()
    }
}
