//! The access token's state: renewal ahead of expiry, rotation, refusal,
//! and one renewal for many requests.

use std::cell::{Cell, RefCell};

use walkeros_destination_hubspot::config::settings::{Credentials, Settings};
use walkeros_destination_hubspot::delivery::core::{
    self, Core, Headers, Report, Response, Transport,
};
use walkeros_destination_hubspot::delivery::token::{Next, Renewal, Tokens};
use walkeros_destination_hubspot::hubspot::api::Request;
use walkeros_destination_hubspot::hubspot::oauth::TokenRequest;
use walkeros_destination_hubspot::mapping::value::Value;
use walkeros_destination_hubspot::mapping::NoCallbacks;
use wasm_bindgen_test::wasm_bindgen_test;

const SETTINGS: &str = r#"{"eventNamePrefix":"pe1_","oauth":{"clientId":"app 1","clientSecret":"cs&secret","refreshToken":"rt-1"}}"#;

fn credentials() -> Credentials {
    Settings::parse(SETTINGS).unwrap().credentials
}

fn granted(access: &str, refresh: &str, expires_in: u32) -> String {
    format!(
        r#"{{"access_token":"{access}","refresh_token":"{refresh}","expires_in":{expires_in},"token_type":"bearer"}}"#
    )
}

const T0: f64 = 1_700_000_000_000.0;

fn renew(tokens: &Tokens, now: f64) -> TokenRequest {
    match tokens.next(now) {
        Next::Renew(request) => request,
        other => panic!("a renewal expected, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn the_token_request_is_the_form_encoded_refresh_grant() {
    let tokens = Tokens::new(&credentials());
    let request = renew(&tokens, T0);
    assert_eq!(request.path, "/oauth/2026-03/token");
    let form: Vec<(&str, &str)> = request.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        form,
        [
            ("grant_type", "refresh_token"),
            ("client_id", "app 1"),
            ("client_secret", "cs&secret"),
            ("refresh_token", "rt-1")
        ]
    );
    // Its Debug form hides the secrets.
    let shown = format!("{request:?}");
    assert!(
        !shown.contains("secret") || shown.contains("<secret>"),
        "{shown}"
    );
    assert!(
        !shown.contains("cs&secret") && !shown.contains("rt-1"),
        "{shown}"
    );
}

#[wasm_bindgen_test]
fn renews_ahead_of_expiry_by_a_tenth_of_the_lifetime_at_most_five_minutes() {
    let mut tokens = Tokens::new(&credentials());
    let renewal = tokens.answer(200, &granted("at-1", "rt-1", 1800), T0);
    assert_eq!(
        renewal,
        Renewal::Renewed {
            authorization: "Bearer at-1".into(),
            rotated: None
        }
    );
    // 1800 s: renewed 180 s ahead.
    assert_eq!(
        tokens.next(T0 + 1_619_999.0),
        Next::Use("Bearer at-1".into())
    );
    renew(&tokens, T0 + 1_620_000.0);
    // 6 hours: 5 minutes ahead, not 36.
    tokens.answer(200, &granted("at-2", "rt-1", 21_600), T0);
    assert_eq!(
        tokens.next(T0 + 21_299_999.0),
        Next::Use("Bearer at-2".into())
    );
    renew(&tokens, T0 + 21_300_000.0);
}

#[wasm_bindgen_test]
fn a_rotated_refresh_token_replaces_the_old_one() {
    let mut tokens = Tokens::new(&credentials());
    let Renewal::Renewed {
        rotated: Some(rotated),
        ..
    } = tokens.answer(200, &granted("at-1", "rt-2", 2), T0)
    else {
        panic!("a rotation expected");
    };
    assert_eq!(rotated.refresh_token, "rt-2");
    assert_eq!(rotated.expires_at, T0 + 2000.0);
    assert!(!format!("{rotated:?}").contains("rt-2"));
    let form = renew(&tokens, T0 + 1800.0).form;
    assert_eq!(form[3], ("refresh_token", "rt-2".to_string()));
}

#[wasm_bindgen_test]
fn a_401_forgets_the_token_it_was_sent_with_only() {
    let mut tokens = Tokens::new(&credentials());
    tokens.answer(200, &granted("at-1", "rt-1", 1800), T0);
    tokens.answer(200, &granted("at-2", "rt-1", 1800), T0);
    // A late 401 for the older token keeps the newer one.
    assert!(tokens.rejected("Bearer at-1"));
    assert_eq!(tokens.next(T0), Next::Use("Bearer at-2".into()));
    assert!(tokens.rejected("Bearer at-2"));
    renew(&tokens, T0);
    // A private app's token is not renewed: a 401 is final.
    let mut fixed = Tokens::new(&Credentials::AccessToken("pat-1".into()));
    assert!(!fixed.rejected("Bearer pat-1"));
    assert_eq!(fixed.next(f64::MAX), Next::Use("Bearer pat-1".into()));
}

#[wasm_bindgen_test]
fn transient_failures_are_retried_and_invalid_grant_stops() {
    let mut tokens = Tokens::new(&credentials());
    for status in [429, 500, 503] {
        assert!(
            matches!(tokens.answer(status, "{}", T0), Renewal::Retry(_)),
            "{status}"
        );
        renew(&tokens, T0);
    }
    assert!(matches!(
        tokens.answer(200, "not json", T0),
        Renewal::Retry(_)
    ));
    let refused = tokens.answer(
        400,
        r#"{"error":"invalid_grant","error_description":"refresh token is invalid, expired or revoked","status":"BAD_REFRESH_TOKEN","message":"refresh token is invalid, expired or revoked"}"#,
        T0,
    );
    let Renewal::Refused(message) = refused else {
        panic!("refused expected, got {refused:?}");
    };
    assert!(
        message.contains("invalid_grant") && message.contains("Reconnect the app"),
        "{message}"
    );
    assert!(message.contains("settings.oauth.refreshToken"), "{message}");
    assert!(
        !message.contains("rt-1") && !message.contains("cs&secret"),
        "{message}"
    );
    assert!(tokens.refused());
    assert_eq!(tokens.next(T0), Next::Refused);
    // A 401 answered after the refusal is not final: its request finds no
    // token and waits in the queue.
    assert!(tokens.rejected("Bearer at-1"));
    assert_eq!(tokens.next(T0), Next::Refused);
}

#[wasm_bindgen_test]
fn a_token_path_that_is_not_served_is_named_not_blamed_on_the_refresh_token() {
    for status in [401, 404, 410] {
        let mut tokens = Tokens::new(&credentials());
        let refused = tokens.answer(status, r#"{"message":"No route"}"#, T0);
        let Renewal::Refused(message) = refused else {
            panic!("refused expected, got {refused:?}");
        };
        assert!(
            message.contains("settings.oauth.tokenPath")
                && message.contains("/oauth/2026-03/token"),
            "{message}"
        );
        assert!(
            !message.starts_with("HubSpot refused the OAuth app's refresh token"),
            "{message}"
        );
        assert!(tokens.refused());
    }
}

/// Counts token requests; each answer comes a tick later, so requests
/// started together overlap the renewal.
#[derive(Default)]
struct Endpoint {
    renewals: Cell<u32>,
    sent: RefCell<Vec<String>>,
}

async fn tick() {
    let resolved = js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL);
    let _ = wasm_bindgen_futures::JsFuture::from(resolved).await;
}

impl Transport for Endpoint {
    async fn renew(&self, _request: &TokenRequest) -> Response {
        self.renewals.set(self.renewals.get() + 1);
        tick().await;
        let n = self.renewals.get();
        Response::Status(
            200,
            granted(&format!("at-{n}"), "rt-1", 1800),
            Headers::default(),
        )
    }

    async fn send(&self, _request: &Request, authorization: &str) -> Response {
        self.sent.borrow_mut().push(authorization.to_string());
        tick().await;
        Response::Status(204, String::new(), Headers::default())
    }

    fn now_ms(&self) -> f64 {
        T0
    }
}

#[wasm_bindgen_test]
async fn requests_needing_a_token_together_share_one_renewal() {
    // One event a request, so the five loops each send one.
    let settings = SETTINGS.replacen("{", r#"{"batchSize":1,"#, 1);
    let core = RefCell::new(Core::new(Settings::parse(&settings).unwrap(), 7));
    let event = |i: usize| {
        Value::parse(&format!(
            r#"{{"name":"page view","id":"e{i}","user":{{"email":"u{i}@example.com"}}}}"#
        ))
        .unwrap()
    };
    let entries = (0..5).map(|i| (event(i), None, Value::Undefined)).collect();
    core::queue_all(&core, entries, |_| NoCallbacks, |_| None);
    let endpoint = Endpoint::default();
    let mut reports: Vec<Report> = (0..5).map(|_| Report::default()).collect();
    // Five delivery loops side by side, as single mode runs them.
    let flushes = reports
        .iter_mut()
        .map(|report| core::send::flush_held(&core, &endpoint, true, false, report));
    futures_util::future::join_all(flushes).await;
    assert_eq!(endpoint.renewals.get(), 1);
    assert_eq!(
        endpoint.sent.borrow().len(),
        5,
        "{:?}",
        endpoint.sent.borrow()
    );
    assert!(endpoint.sent.borrow().iter().all(|a| a == "Bearer at-1"));
    assert_eq!(core.borrow().stats().sent, 5);
}
