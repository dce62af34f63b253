//! `Transport` over a `fetch`-shaped function: the shell's default (js/fetch.js, over
//! node:https), or `env.fetch`.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::delivery::core::{Headers, Response, Transport};
use crate::delivery::limiter::RateHeaders;
use crate::hubspot::api::Request;
use crate::hubspot::oauth::{TokenRequest, FORM_CONTENT_TYPE};

pub struct FetchTransport {
    fetch: Function,
    base: String,
    timeout_ms: u32,
    /// Aborted when a shutdown's deadline passes, ending every request
    /// under way at once.
    shutdown: JsValue,
}

impl FetchTransport {
    pub fn new(fetch: Function, base: &str, timeout_ms: u32) -> FetchTransport {
        FetchTransport {
            fetch,
            base: base.to_string(),
            timeout_ms,
            shutdown: global_new("AbortController").unwrap_or(JsValue::UNDEFINED),
        }
    }

    pub fn abort(&self) {
        let abort = Reflect::get(&self.shutdown, &"abort".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        if let Some(abort) = abort {
            let _ = abort.call0(&self.shutdown);
        }
    }

    /// The request's deadline, or the shutdown's, whichever comes first.
    fn signal(&self) -> Result<JsValue, JsValue> {
        let abort_signal = Reflect::get(&js_sys::global(), &"AbortSignal".into())?;
        let timeout: Function = Reflect::get(&abort_signal, &"timeout".into())?.dyn_into()?;
        let timeout = timeout.call1(&abort_signal, &JsValue::from(self.timeout_ms))?;
        // AbortSignal.any came with Node 20.3: before it, only the timeout.
        let any = Reflect::get(&abort_signal, &"any".into())?;
        let shutdown = Reflect::get(&self.shutdown, &"signal".into())?;
        match any.dyn_into::<Function>() {
            Ok(any) if !shutdown.is_undefined() => {
                any.call1(&abort_signal, &js_sys::Array::of2(&timeout, &shutdown))
            }
            _ => Ok(timeout),
        }
    }

    /// A POST (or `method`) of `body` to `path` under the API base; API
    /// requests and token requests alike.
    async fn call(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> Result<(u16, String, Headers), JsValue> {
        let headers = Object::new();
        if let Some(authorization) = authorization {
            Reflect::set(&headers, &"authorization".into(), &authorization.into())?;
        }
        Reflect::set(&headers, &"content-type".into(), &content_type.into())?;
        let init = Object::new();
        Reflect::set(&init, &"method".into(), &method.into())?;
        Reflect::set(&init, &"headers".into(), &headers)?;
        // A GET carries no body (fetch refuses one).
        if !body.is_empty() {
            Reflect::set(&init, &"body".into(), &JsValue::from_str(body))?;
        }
        Reflect::set(&init, &"signal".into(), &self.signal()?)?;
        let url = JsValue::from_str(&format!("{}{}", self.base, path));
        let pending = self.fetch.call2(&JsValue::UNDEFINED, &url, &init)?;
        let response = JsFuture::from(Promise::resolve(&pending)).await?;
        let status = Reflect::get(&response, &"status".into())?
            .as_f64()
            .unwrap_or(0.0) as u16;
        let headers = read_headers(&response);
        let text: Function = Reflect::get(&response, &"text".into())?.dyn_into()?;
        let body = JsFuture::from(Promise::resolve(&text.call0(&response)?)).await?;
        Ok((status, body.as_string().unwrap_or_default(), headers))
    }
}

/// The form encoded by the platform's `URLSearchParams`.
fn form_body(form: &[(&'static str, String)]) -> Result<String, JsValue> {
    let params = global_new("URLSearchParams")?;
    let append: Function = Reflect::get(&params, &"append".into())?.dyn_into()?;
    for (name, value) in form {
        append.call2(&params, &(*name).into(), &value.as_str().into())?;
    }
    let to_string: Function = Reflect::get(&params, &"toString".into())?.dyn_into()?;
    to_string
        .call0(&params)?
        .as_string()
        .ok_or_else(|| JsValue::from_str("URLSearchParams gave no text"))
}

/// `new globalThis[name]()`.
fn global_new(name: &str) -> Result<JsValue, JsValue> {
    let class: Function = Reflect::get(&js_sys::global(), &name.into())?.dyn_into()?;
    Reflect::construct(&class, &js_sys::Array::new())
}

/// The headers delivery reads, from a fetch `Response`.
fn read_headers(response: &JsValue) -> Headers {
    let Ok(headers) = Reflect::get(response, &"headers".into()) else {
        return Headers::default();
    };
    let get = |name: &str| -> Option<String> {
        let get: Function = Reflect::get(&headers, &"get".into())
            .ok()?
            .dyn_into()
            .ok()?;
        get.call1(&headers, &name.into()).ok()?.as_string()
    };
    let number = |name: &str| get(name).and_then(|v| v.trim().parse::<u32>().ok());
    // Retry-After is seconds, or an HTTP date.
    let retry_after_ms = get("retry-after").and_then(|v| match v.trim().parse::<f64>() {
        Ok(seconds) if seconds >= 0.0 => Some((seconds * 1000.0).min(f64::from(u32::MAX)) as u32),
        Ok(_) => None,
        Err(_) => {
            let at = js_sys::Date::parse(v.trim());
            at.is_finite()
                .then(|| (at - js_sys::Date::now()).clamp(0.0, f64::from(u32::MAX)) as u32)
        }
    });
    Headers {
        retry_after_ms,
        rate: RateHeaders {
            max: number("x-hubspot-ratelimit-max"),
            remaining: number("x-hubspot-ratelimit-remaining"),
            interval_ms: number("x-hubspot-ratelimit-interval-milliseconds"),
        },
    }
}

impl Transport for FetchTransport {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn send(&self, request: &Request, authorization: &str) -> Response {
        let call = self.call(
            request.method,
            &request.path,
            Some(authorization),
            "application/json",
            &request.body,
        );
        response(call.await)
    }

    async fn renew(&self, request: &TokenRequest) -> Response {
        let body = match form_body(&request.form) {
            Ok(body) => body,
            Err(error) => return Response::Network(error_message(&error)),
        };
        let call = self.call("POST", &request.path, None, FORM_CONTENT_TYPE, &body);
        response(call.await)
    }
}

fn response(answer: Result<(u16, String, Headers), JsValue>) -> Response {
    match answer {
        Ok((status, body, headers)) => Response::Status(status, body, headers),
        Err(error) => Response::Network(error_message(&error)),
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
