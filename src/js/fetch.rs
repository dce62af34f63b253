//! `Transport` over a `fetch`-shaped function: the shell's default (js/fetch.js, over
//! node:https), or `env.fetch`.

use std::cell::{Cell, RefCell};

use js_sys::{Array, Function, Promise, Reflect};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::delivery::core::{Headers, Response, Transport};
use crate::delivery::limiter::RateHeaders;
use crate::hubspot::api::Request;
use crate::hubspot::oauth::{TokenRequest, FORM_CONTENT_TYPE};
use crate::js::wasm::to_js;

#[wasm_bindgen]
extern "C" {
    type AbortController;
    #[wasm_bindgen(constructor)]
    fn new() -> AbortController;
    #[wasm_bindgen(method)]
    fn abort(this: &AbortController);
    #[wasm_bindgen(method, getter)]
    fn signal(this: &AbortController) -> JsValue;

    #[wasm_bindgen(js_namespace = AbortSignal, js_name = timeout, catch)]
    fn abort_timeout(ms: u32) -> Result<JsValue, JsValue>;
    // Node 20.3 and later.
    #[wasm_bindgen(js_namespace = AbortSignal, js_name = any, catch)]
    fn abort_any(signals: &Array) -> Result<JsValue, JsValue>;

    type URLSearchParams;
    #[wasm_bindgen(constructor)]
    fn new() -> URLSearchParams;
    #[wasm_bindgen(method)]
    fn append(this: &URLSearchParams, name: &str, value: &str);
    #[wasm_bindgen(method, js_name = toString)]
    fn text(this: &URLSearchParams) -> String;

    /// The part of a fetch `Response` delivery reads; `env.fetch` may answer
    /// with anything, so every read may throw.
    type FetchResponse;
    #[wasm_bindgen(method, getter, catch)]
    fn status(this: &FetchResponse) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    fn headers(this: &FetchResponse) -> Result<FetchHeaders, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn text(this: &FetchResponse) -> Result<JsValue, JsValue>;

    type FetchHeaders;
    #[wasm_bindgen(method, catch)]
    fn get(this: &FetchHeaders, name: &str) -> Result<JsValue, JsValue>;
}

pub struct FetchTransport {
    fetch: Function,
    base: String,
    timeout_ms: u32,
    /// The requests under way, each with its own controller, all aborted
    /// when a shutdown's deadline passes. Not one long-lived signal joined
    /// to each request's: Node keeps every signal made with
    /// `AbortSignal.any` from a long-lived one (nodejs/node#55351), a leak
    /// per request.
    under_way: RefCell<Vec<(u64, AbortController)>>,
    requests: Cell<u64>,
    /// The shutdown's deadline passed: requests made from now on are
    /// aborted at once.
    aborted: Cell<bool>,
}

impl FetchTransport {
    pub fn new(fetch: Function, base: &str, timeout_ms: u32) -> FetchTransport {
        FetchTransport {
            fetch,
            base: base.to_string(),
            timeout_ms,
            under_way: RefCell::new(Vec::new()),
            requests: Cell::new(0),
            aborted: Cell::new(false),
        }
    }

    pub fn abort(&self) {
        self.aborted.set(true);
        for (_, controller) in self.under_way.borrow().iter() {
            controller.abort();
        }
    }

    /// A request of `body` to `path` under the API base, API and token
    /// requests alike, answered by the status, body and headers, or by why
    /// there was no answer.
    async fn call(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> Response {
        let id = self.requests.get();
        self.requests.set(id + 1);
        let own = AbortController::new();
        if self.aborted.get() {
            own.abort();
        }
        let own_signal = own.signal();
        self.under_way.borrow_mut().push((id, own));
        let answer = async {
            let mut headers = json!({ "content-type": content_type });
            if let Some(authorization) = authorization {
                headers["authorization"] = authorization.into();
            }
            let mut init = json!({ "method": method, "headers": headers });
            // A GET carries no body (fetch refuses one).
            if !body.is_empty() {
                init["body"] = body.into();
            }
            let init = to_js(&init);
            // The request's deadline, or the shutdown's, whichever comes
            // first (before Node 20.3, only the request's).
            let timeout = abort_timeout(self.timeout_ms)?;
            let signal = abort_any(&Array::of2(&timeout, &own_signal));
            Reflect::set(&init, &"signal".into(), &signal.unwrap_or(timeout))?;
            let url = JsValue::from_str(&format!("{}{}", self.base, path));
            let pending = self.fetch.call2(&JsValue::UNDEFINED, &url, &init)?;
            let response: FetchResponse = JsFuture::from(Promise::resolve(&pending)).await?.into();
            let status = response.status()?.as_f64().unwrap_or(0.0) as u16;
            let headers = read_headers(&response);
            let text = JsFuture::from(Promise::resolve(&response.text()?)).await?;
            Ok::<_, JsValue>(Response::Status(
                status,
                text.as_string().unwrap_or_default(),
                headers,
            ))
        };
        let answer = answer.await;
        self.under_way.borrow_mut().retain(|(i, _)| *i != id);
        answer.unwrap_or_else(|error| Response::Network(error_message(&error)))
    }
}

/// The headers delivery reads, from a fetch `Response`.
fn read_headers(response: &FetchResponse) -> Headers {
    let headers = response.headers().ok();
    let get = |name: &str| headers.as_ref()?.get(name).ok()?.as_string();
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
        let body = &request.body;
        let json = "application/json";
        self.call(
            request.method,
            &request.path,
            Some(authorization),
            json,
            body,
        )
        .await
    }

    async fn renew(&self, request: &TokenRequest) -> Response {
        // Encoded by the platform's URLSearchParams.
        let form = URLSearchParams::new();
        for (name, value) in &request.form {
            form.append(name, value);
        }
        let body = form.text();
        self.call("POST", &request.path, None, FORM_CONTENT_TYPE, &body)
            .await
    }
}

/// An Error's message with its cause's (Node's fetch says "fetch failed" and
/// puts ECONNREFUSED and the like in `cause`).
fn error_message(error: &JsValue) -> String {
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
