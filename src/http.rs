//! The HTTP requests HubSpot gets, and what its answers mean. Pure: the
//! `delivery` module does the I/O.

use crate::json;
use crate::plan::ContactUpsert;
use crate::value::Value;

pub const SEND_PATH: &str = "/events/v3/send";
pub const SEND_BATCH_PATH: &str = "/events/v3/send/batch";
pub const UPSERT_PATH: &str = "/crm/v3/objects/contacts/batch/upsert";
/// HubSpot's limit on inputs per CRM batch request.
pub const MAX_UPSERT_BATCH: usize = 100;

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub path: &'static str,
    pub body: String,
}

impl Request {
    pub fn send_event(input_json: String) -> Request {
        Request {
            method: "POST",
            path: SEND_PATH,
            body: input_json,
        }
    }

    pub fn send_batch(inputs: &[String]) -> Request {
        Request {
            method: "POST",
            path: SEND_BATCH_PATH,
            body: crate::queue::batch_body(inputs),
        }
    }

    /// A `batch/upsert` by email, which creates contacts that do not exist
    /// yet (a PATCH by email answers 404 for them). Each input's
    /// `objectWriteTraceId` is its index, so errors map back to it.
    pub fn upsert(upserts: &[ContactUpsert]) -> Request {
        let mut body = String::from("{\"inputs\":[");
        for (i, u) in upserts.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str("{\"id\":");
            json::push_str(&mut body, &u.email);
            body.push_str(",\"idProperty\":\"email\",\"objectWriteTraceId\":\"");
            body.push_str(&i.to_string());
            body.push_str("\",\"properties\":");
            json::push_string_map(&mut body, &u.properties);
            body.push('}');
        }
        body.push_str("]}");
        Request {
            method: "POST",
            path: UPSERT_PATH,
            body,
        }
    }
}

/// What a response means for the request that got it.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Accepted,
    /// Worth trying again later (rate limit, server trouble, network).
    Retryable(String),
    /// Trying again will not help (bad request, auth, missing scope).
    Permanent(String),
}

impl Outcome {
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Accepted => None,
            Outcome::Retryable(r) | Outcome::Permanent(r) => Some(r),
        }
    }
}

pub fn classify(status: u16, body: &str) -> Outcome {
    if (200..300).contains(&status) {
        return Outcome::Accepted;
    }
    let reason = describe(status, body);
    match status {
        408 | 429 | 500..=599 => Outcome::Retryable(reason),
        _ => Outcome::Permanent(reason),
    }
}

/// The `policyName` of a 429 body (`TEN_SECONDLY_ROLLING`, `SECONDLY`,
/// `DAILY`).
pub fn policy(body: &str) -> Option<String> {
    Value::parse(body)
        .ok()?
        .get("policyName")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A network failure (no response at all): always worth a retry.
pub fn network_failure(message: &str) -> Outcome {
    Outcome::Retryable(format!("network error: {message}"))
}

/// Reads a `batch/upsert` answer for `inputs` inputs: the indexes of the
/// inputs that failed, with HubSpot's message (a 207, or `errors` in a 200,
/// name them by `objectWriteTraceId`), or the outcome when the whole request
/// failed, including a 2xx that wrote nothing.
pub fn read_upsert(
    status: u16,
    body: &str,
    inputs: usize,
) -> Result<Vec<(usize, String)>, Outcome> {
    let outcome = classify(status, body);
    if outcome != Outcome::Accepted {
        return Err(outcome);
    }
    let parsed = Value::parse(body).unwrap_or_default();
    let mut failed = Vec::new();
    if let Some(Value::Array(errors)) = parsed.get("errors") {
        for error in errors {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            let traces = match error
                .get("context")
                .and_then(|c| c.get("objectWriteTraceId"))
            {
                Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(id)) => vec![id.as_str()],
                _ => Vec::new(),
            };
            let indexes: Vec<usize> = traces
                .iter()
                .filter_map(|id| id.parse().ok())
                .filter(|i| *i < inputs)
                .collect();
            if indexes.is_empty() {
                // An error that names no input: nothing tells which one
                // succeeded, so none counts as written.
                return Err(Outcome::Permanent(format!(
                    "HubSpot answered {status} with an error for no named contact: {message}"
                )));
            }
            failed.extend(indexes.into_iter().map(|i| (i, message.to_string())));
        }
    }
    let written = match parsed.get("results") {
        Some(Value::Array(results)) => results.len(),
        _ => 0,
    };
    if inputs > 0 && written == 0 && failed.is_empty() {
        return Err(Outcome::Permanent(format!(
            "HubSpot answered {status} but wrote no contact"
        )));
    }
    Ok(failed)
}

/// "HubSpot answered 400 (VALIDATION_ERROR): message [correlationId …]".
fn describe(status: u16, body: &str) -> String {
    let parsed = Value::parse(body).unwrap_or_default();
    let field = |k: &str| parsed.get(k).and_then(Value::as_str).map(str::to_string);
    let mut out = format!("HubSpot answered {status}");
    if let Some(category) = field("category").or_else(|| field("policyName")) {
        out.push_str(&format!(" ({category})"));
    }
    match field("message") {
        Some(message) => out.push_str(&format!(": {message}")),
        None if status == 401 => out.push_str(": the access token was not accepted"),
        None => {}
    }
    if let Some(id) = field("correlationId") {
        out.push_str(&format!(" [correlationId {id}]"));
    }
    if status == 401 {
        out.push_str(". Check settings.accessToken");
    } else if status == 403 {
        out.push_str(". Check the private app's scopes (analytics.behavioral_events.send, crm.objects.contacts.write)");
    }
    out
}
