//! The HTTP requests HubSpot gets, and what its answers mean. Pure: the
//! `delivery` module does the I/O.

use serde::Serialize;

use crate::hubspot::plan::{ContactUpsert, EventInput};
use crate::hubspot::properties::{self, Properties};
use crate::mapping::value::Value;

pub const SEND_PATH: &str = "/events/v3/send";
pub const SEND_BATCH_PATH: &str = "/events/v3/send/batch";
pub const UPSERT_PATH: &str = "/crm/v3/objects/contacts/batch/upsert";
/// HubSpot's limit on inputs per CRM batch request.
pub const MAX_UPSERT_BATCH: usize = 100;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Request {
    pub method: &'static str,
    /// Definition paths name the event, so not every path is a constant.
    pub path: String,
    /// JSON text; empty for a GET.
    #[serde(serialize_with = "raw_json")]
    pub body: String,
}

/// The body as the JSON it holds (for `explain()`), not as a string.
fn raw_json<S: serde::Serializer>(body: &str, s: S) -> Result<S::Ok, S::Error> {
    if body.is_empty() {
        return s.serialize_none();
    }
    let value: serde_json::Value = serde_json::from_str(body).map_err(serde::ser::Error::custom)?;
    value.serialize(s)
}

#[derive(Serialize)]
struct Inputs<'a, T> {
    inputs: &'a [T],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpsertInput<'a> {
    id: &'a str,
    id_property: &'static str,
    object_write_trace_id: String,
    #[serde(serialize_with = "properties::serialize")]
    properties: &'a Properties,
}

pub(crate) fn json(body: &impl Serialize) -> String {
    serde_json::to_string(body).expect("request bodies are plain data")
}

impl Request {
    pub(crate) fn post(path: impl Into<String>, body: String) -> Request {
        Request {
            method: "POST",
            path: path.into(),
            body,
        }
    }

    pub(crate) fn get(path: String) -> Request {
        Request {
            method: "GET",
            path,
            body: String::new(),
        }
    }

    pub fn send_event(input: &EventInput) -> Request {
        Request::post(SEND_PATH, json(input))
    }

    pub fn send_batch(inputs: &[EventInput]) -> Request {
        Request::post(SEND_BATCH_PATH, json(&Inputs { inputs }))
    }

    /// A `batch/upsert` by email, which creates contacts that do not exist
    /// yet (a PATCH by email answers 404 for them). Each input's
    /// `objectWriteTraceId` is its index, so errors map back to it.
    pub fn upsert(upserts: &[ContactUpsert]) -> Request {
        let inputs: Vec<UpsertInput> = upserts
            .iter()
            .enumerate()
            .map(|(i, u)| UpsertInput {
                id: &u.email,
                id_property: "email",
                object_write_trace_id: i.to_string(),
                properties: &u.properties,
            })
            .collect();
        Request::post(UPSERT_PATH, json(&Inputs { inputs: &inputs }))
    }
}

/// HubSpot's answer as JSON: one that is not JSON has no fields.
fn read(body: &str) -> Value {
    Value::parse(body).unwrap_or(Value::Undefined)
}

/// A text field of an answer.
fn text<'a>(answer: &'a Value, key: &str) -> Option<&'a str> {
    answer.get(key).and_then(Value::as_str)
}

/// What a response means for the request that got it.
#[derive(Debug)]
pub enum Outcome {
    Accepted,
    /// Worth trying again later (rate limit, server trouble, network).
    Retryable(String),
    /// Trying again will not help (bad request, auth, missing scope).
    Permanent(String),
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
    text(&read(body), "policyName").map(String::from)
}

/// Reads an accepted `batch/upsert` answer for `inputs` inputs: the indexes
/// of the inputs that failed, with HubSpot's message (a 207, or `errors` in
/// a 200, name them by `objectWriteTraceId`), or why the whole request
/// failed (a 2xx that wrote nothing).
pub fn read_upsert(status: u16, body: &str, inputs: usize) -> Result<Vec<(usize, String)>, String> {
    let answer = read(body);
    let mut failed = Vec::new();
    let errors = match answer.get("errors") {
        Some(Value::Array(errors)) => errors.as_slice(),
        _ => &[],
    };
    for error in errors {
        let message = text(error, "message").unwrap_or("no message");
        // HubSpot names the inputs an error concerns as a list, or as one id.
        let ids = match error
            .get("context")
            .and_then(|c| c.get("objectWriteTraceId"))
        {
            Some(Value::Array(ids)) => ids.as_slice(),
            Some(id) => std::slice::from_ref(id),
            None => &[],
        };
        let before = failed.len();
        failed.extend(
            ids.iter()
                .filter_map(|id| id.as_str()?.parse().ok())
                .filter(|i| *i < inputs)
                .map(|i| (i, message.to_string())),
        );
        if failed.len() == before {
            // An error that names no input: nothing tells which one
            // succeeded, so none counts as written.
            return Err(format!(
                "HubSpot answered {status} with an error for no named contact: {message}"
            ));
        }
    }
    let written = match answer.get("results") {
        Some(Value::Array(results)) => results.len(),
        _ => 0,
    };
    if inputs > 0 && written == 0 && failed.is_empty() {
        return Err(format!("HubSpot answered {status} but wrote no contact"));
    }
    Ok(failed)
}

/// "HubSpot answered 400 (VALIDATION_ERROR): message [correlationId …]".
pub(crate) fn describe(status: u16, body: &str) -> String {
    let answer = read(body);
    let mut out = format!("HubSpot answered {status}");
    if let Some(category) = text(&answer, "category").or(text(&answer, "policyName")) {
        out.push_str(&format!(" ({category})"));
    }
    match text(&answer, "message") {
        Some(message) => out.push_str(&format!(": {message}")),
        None if status == 401 => out.push_str(": the access token was not accepted"),
        None => {}
    }
    if let Some(id) = text(&answer, "correlationId") {
        out.push_str(&format!(" [correlationId {id}]"));
    }
    if status == 401 {
        out.push_str(". Check settings.accessToken (or settings.oauth)");
    } else if status == 403 {
        out.push_str(". Check the private app's scopes (analytics.behavioral_events.send, crm.objects.contacts.write)");
    }
    out
}
