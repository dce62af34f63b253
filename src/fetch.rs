//! `Transport` over JavaScript's `fetch` (the global one, or `env.fetch`).

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::destination::{Response, Transport};
use crate::http::Request;

pub struct FetchTransport {
    fetch: Function,
    base: String,
    token: String,
    authorization: JsValue,
}

impl FetchTransport {
    pub fn new(fetch: Function, base: &str, token: &str) -> FetchTransport {
        FetchTransport {
            fetch,
            base: base.to_string(),
            token: token.to_string(),
            authorization: JsValue::from_str(&format!("Bearer {token}")),
        }
    }

    /// Whatever a server or the network layer says, the token never leaves
    /// in a message.
    pub fn redact(&self, text: String) -> String {
        redact(text, &self.token)
    }

    async fn call(&self, request: &Request) -> Result<(u16, String), JsValue> {
        let headers = Object::new();
        Reflect::set(&headers, &"authorization".into(), &self.authorization)?;
        Reflect::set(&headers, &"content-type".into(), &"application/json".into())?;
        let init = Object::new();
        Reflect::set(&init, &"method".into(), &request.method.into())?;
        Reflect::set(&init, &"headers".into(), &headers)?;
        Reflect::set(&init, &"body".into(), &JsValue::from_str(&request.body))?;
        let url = JsValue::from_str(&format!("{}{}", self.base, request.path));
        let pending = self.fetch.call2(&JsValue::UNDEFINED, &url, &init)?;
        let response = JsFuture::from(Promise::resolve(&pending)).await?;
        let status = Reflect::get(&response, &"status".into())?
            .as_f64()
            .unwrap_or(0.0) as u16;
        let text: Function = Reflect::get(&response, &"text".into())?.dyn_into()?;
        let body = JsFuture::from(Promise::resolve(&text.call0(&response)?)).await?;
        Ok((status, body.as_string().unwrap_or_default()))
    }
}

impl Transport for FetchTransport {
    async fn send(&self, request: &Request) -> Response {
        match self.call(request).await {
            Ok((status, body)) => Response::Status(status, body),
            Err(error) => Response::Network(self.redact(error_message(&error))),
        }
    }
}

pub fn redact(text: String, token: &str) -> String {
    if token.is_empty() || !text.contains(token) {
        text
    } else {
        text.replace(token, "[redacted]")
    }
}

/// An Error's message with its cause's (Node's fetch says "fetch failed" and
/// puts ECONNREFUSED and the like in `cause`).
pub fn error_message(error: &JsValue) -> String {
    let text = |v: &JsValue, key: &str| {
        Reflect::get(v, &key.into())
            .ok()
            .and_then(|m| m.as_string())
    };
    let mut message = text(error, "message")
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_string());
    if let Ok(cause) = Reflect::get(error, &"cause".into()) {
        if let Some(detail) = text(&cause, "code").or_else(|| text(&cause, "message")) {
            message.push_str(&format!(" ({detail})"));
        }
    }
    message
}
