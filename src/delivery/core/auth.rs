//! The `authorization` header of each request: the private app's token,
//! or an OAuth access token, renewed when it runs out or HubSpot rejects
//! it.

use std::cell::RefCell;

use super::sent::Sent;
use super::{Core, Report, Response, Transport};
use crate::delivery::token::{Next, Renewal};
use crate::error::Notice;
use crate::hubspot::api::{Outcome, Request};

/// What a request not sent gets once HubSpot refused the refresh token.
fn refused() -> Response {
    Response::NoToken {
        reason: "HubSpot refused the OAuth refresh token".into(),
        retry_after_ms: None,
    }
}

/// The `authorization` header value for a request now: the current token,
/// or a new one fetched first. The lock is held across the token request,
/// so one renewal runs at a time and every request that needs a token
/// meanwhile waits for it, then uses it. `Err` holds the response to act on
/// instead (retry, or stop when the refresh token was refused).
async fn authorize(
    core: &RefCell<Core>,
    transport: &impl Transport,
    report: &mut Report,
) -> Result<String, Response> {
    let (tokens, failures) = {
        let core = core.borrow();
        (core.tokens.clone(), core.token_failures)
    };
    let mut tokens = tokens.lock().await;
    if core.borrow().token_failures != failures {
        // The renewal this request waited for failed: so does the request,
        // and the endpoint is not asked again before its wait.
        let (reason, wait) = core.borrow().token_failure.clone().unwrap_or_default();
        return Err(Response::NoToken {
            reason,
            retry_after_ms: wait,
        });
    }
    let request = match tokens.next(transport.now_ms()) {
        Next::Use(authorization) => return Ok(authorization),
        Next::Renew(request) => request,
        Next::Refused => return Err(refused()),
    };
    let sent = Sent::from(transport.renew(&request).await);
    let renewal = match sent.outcome {
        Outcome::Retryable(reason) if sent.status == 0 => Renewal::Retry(format!(
            "no access token yet: the token request failed: {reason}"
        )),
        _ => tokens.answer(sent.status, &sent.body, transport.now_ms()),
    };
    match renewal {
        Renewal::Renewed {
            authorization,
            rotated,
        } => {
            report
                .notices
                .push(Notice::debug("", "OAuth access token renewed"));
            report.token = rotated.or(report.token.take());
            Ok(authorization)
        }
        Renewal::Retry(reason) => {
            let mut core = core.borrow_mut();
            core.token_failures += 1;
            core.token_failure = Some((reason.clone(), sent.wait));
            Err(Response::NoToken {
                reason,
                retry_after_ms: sent.wait,
            })
        }
        Renewal::Refused(message) => {
            // Said once: later requests find the tokens refused and ask no
            // more.
            report.notices.push(Notice::error("", message));
            core.borrow_mut().stopped = true;
            Err(refused())
        }
    }
}

/// Sends `request` with the current access token. A 401 to an OAuth app's
/// token (revoked, or expired early) costs one renewal and one retry.
pub(super) async fn send_authorized(
    core: &RefCell<Core>,
    transport: &impl Transport,
    request: &Request,
    report: &mut Report,
) -> Response {
    let mut retried = false;
    loop {
        let authorization = match authorize(core, transport, report).await {
            Ok(authorization) => authorization,
            Err(response) => return response,
        };
        let response = transport.send(request, &authorization).await;
        if retried || !matches!(response, Response::Status(401, ..)) {
            return response;
        }
        let tokens = core.borrow().tokens.clone();
        if !tokens.lock().await.rejected(&authorization) {
            return response;
        }
        retried = true;
    }
}
