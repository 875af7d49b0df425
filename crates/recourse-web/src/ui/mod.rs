//! The agent console: server-rendered HTML (askama templates, which escape every value
//! unless told otherwise) with htmx for the live parts, and its assets embedded in the
//! binary so a desk needs no CDN and no build step.
//!
//! Pages call the same handlers as the REST API with the signed-in agent as the caller,
//! so who may see or change what is decided in one place. The console signs in with the
//! same session cookie as the API; every form carries the session's CSRF token, which
//! [`PostForm`] checks before a handler sees the form.

mod admin;
mod console;
mod mailview;
mod manager;
mod portal;
mod practice;
mod presence;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use recourse_desk::Principal;
use recourse_domain::{Agent, Role};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::{self, Caller, Via, constant_time_eq};
use crate::error::ApiError;
use crate::extract::ClientIp;
pub(crate) use presence::Presence;

/// Everything the console's pages are allowed to load: our own scripts and styles only.
/// htmx is told (in the base template) not to inject its inline indicator styles or
/// evaluate attribute code, so no `unsafe-eval` is needed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The double-submit cookie that protects the sign-in form, which has no session yet.
const LOGIN_CSRF_COOKIE: &str = "recourse_login_csrf";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/assets/{name}", get(asset))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .merge(console::routes())
        .merge(mailview::routes())
        .merge(manager::routes())
        .merge(practice::routes())
        .merge(admin::routes())
        .merge(portal::routes())
}

// ---------- assets ----------

struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "htmx.min.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/htmx.min.js"),
    },
    Asset {
        name: "console.css",
        mime: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/console.css"),
    },
    Asset {
        name: "reports.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/reports.js"),
    },
    Asset {
        name: "chart.umd.min.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/chart.umd.min.js"),
    },
    Asset {
        name: "admin.css",
        mime: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/admin.css"),
    },
    Asset {
        name: "console.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/console.js"),
    },
];

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.mime),
                // Names carry no version, so let browsers keep them only briefly.
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

// ---------- responses ----------

/// The security headers a page is served with.
pub(super) struct PageHeaders {
    pub csp: &'static str,
    pub referrer: &'static str,
    pub cache: &'static str,
}

/// The console's and the portal's pages. They show customers' words, so shared caches
/// must not keep them.
const PAGE_HEADERS: PageHeaders = PageHeaders {
    csp: CSP,
    referrer: "same-origin",
    cache: "no-store",
};

/// Renders a template as a full page or fragment with the console's security headers.
pub(crate) fn render<T: Template>(t: &T) -> Response {
    render_with(t, &PAGE_HEADERS)
}

/// Renders a template with the given security headers (on the error page too).
pub(super) fn render_with<T: Template>(t: &T, headers: &PageHeaders) -> Response {
    let mut r = match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be drawn.",
            )
                .into_response()
        }
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(headers.csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(headers.referrer),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(headers.cache),
    );
    r
}

/// Whether the request came from htmx (which then wants a fragment, not a page).
pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// After a successful form post: htmx follows `HX-Redirect`, a plain browser a 303.
pub(crate) fn go_to(headers: &HeaderMap, to: &str) -> Response {
    if is_htmx(headers) {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            r.headers_mut().insert("hx-redirect", v);
        }
        r
    } else {
        Redirect::to(to).into_response()
    }
}

#[derive(Template)]
#[template(path = "error_fragment.html")]
struct ErrorFragment<'a> {
    message: &'a str,
}

#[derive(Template)]
#[template(path = "error_page.html")]
struct ErrorPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    title: &'a str,
    message: &'a str,
    back: &'a str,
}

/// An API error shown to a person: inline next to the form for htmx (with status 200,
/// since htmx does not swap error responses), as a page with a way back otherwise.
/// A form post's answer: back to `back` when it worked, the refusal (as a fragment for
/// htmx, a page otherwise) when it did not.
pub(crate) fn answer(
    headers: &HeaderMap,
    s: &Session,
    done: Result<(), ApiError>,
    back: &str,
) -> Response {
    match done {
        Ok(()) => go_to(headers, back),
        Err(e) => error_response(headers, s, &e, back),
    }
}

pub(crate) fn error_response(
    headers: &HeaderMap,
    s: &Session,
    e: &ApiError,
    back: &str,
) -> Response {
    if is_htmx(headers) {
        return render(&ErrorFragment {
            message: &e.message,
        });
    }
    let mut r = render(&ErrorPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        title: "That did not work",
        message: &e.message,
        back,
    });
    *r.status_mut() = e.status;
    r
}

// ---------- sessions ----------

/// A signed-in agent, from the session cookie. Pages that need one redirect strangers to
/// the sign-in page instead of answering with JSON.
pub(crate) struct Session {
    pub agent: Agent,
    pub csrf: String,
}

impl Session {
    /// The caller the API handlers expect: this agent, signed in through the console.
    pub fn caller(&self) -> Caller {
        Caller::Agent {
            agent: self.agent.clone(),
            via: Via::Session,
        }
    }

    pub fn is_manager(&self) -> bool {
        self.agent.role.at_least(Role::Manager)
    }
}

pub(crate) struct SignIn;

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = SignIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SignIn> {
        let secret = auth::session_cookie(&parts.headers).ok_or(SignIn)?;
        let session = state
            .store
            .session_by_hash(&auth::sha256_hex(&secret), crate::now())
            .await
            .ok()
            .flatten()
            .ok_or(SignIn)?;
        // The console is for agents; customers get their own portal.
        let Principal::Agent(id) = session.principal else {
            return Err(SignIn);
        };
        let agent = state.store.get_agent(id).await.map_err(|_| SignIn)?;
        if !agent.active {
            return Err(SignIn);
        }
        Ok(Session {
            agent,
            csrf: session.csrf_token,
        })
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

pub(super) fn csrf_failed() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "This form is missing its security token; reload the page and try again.",
    )
}

/// The urlencoded form in `bytes`, once its `csrf` field matches the session's token
/// (for the console's and the portal's forms alike).
pub(super) async fn csrf_checked_form<T: DeserializeOwned>(
    bytes: &Bytes,
    session_csrf: &str,
) -> Result<T, ApiError> {
    let sent: CsrfField = parse_form(bytes).await.unwrap_or(CsrfField {
        csrf: String::new(),
    });
    if !constant_time_eq(sent.csrf.as_bytes(), session_csrf.as_bytes()) {
        return Err(csrf_failed());
    }
    parse_form::<T>(bytes).await.map_err(|detail| {
        ApiError::bad_request(
            "invalid_form",
            format!("Some of the form could not be read: {detail}"),
        )
    })
}

/// A form posted by a signed-in agent whose `csrf` field matched the session's token.
/// A form without it is refused before any handler runs, so no handler can forget.
pub(crate) struct PostForm<T> {
    pub session: Session,
    pub form: T,
    pub headers: HeaderMap,
}

async fn parse_form<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, String> {
    // axum's Form reads urlencoded bodies; reuse it on the buffered bytes.
    let req = Request::builder()
        .method("POST")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(bytes.clone()))
        .map_err(|e| e.to_string())?;
    axum::Form::<T>::from_request(req, &())
        .await
        .map(|axum::Form(v)| v)
        .map_err(|e| e.body_text())
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PostForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        match csrf_checked_form::<T>(&bytes, &session.csrf).await {
            Ok(form) => Ok(PostForm {
                session,
                form,
                headers,
            }),
            Err(e) => Err(error_response(&headers, &session, &e, "/console")),
        }
    }
}

// ---------- signing in and out ----------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

fn login_form(email: &str, error: Option<&str>, status: StatusCode) -> Response {
    let token = auth::new_secret("lcsrf");
    let mut r = render(&LoginPage {
        me: None,
        csrf: &token,
        email,
        error,
    });
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn login_page() -> Response {
    login_form("", None, StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login_submit(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return login_form(
            "",
            Some("Please fill in both fields."),
            StatusCode::BAD_REQUEST,
        );
    };
    let cookie = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie.is_empty() || !constant_time_eq(cookie.as_bytes(), form.csrf.as_bytes()) {
        return login_form(
            &form.email,
            Some("The sign-in form had expired; please try again."),
            StatusCode::FORBIDDEN,
        );
    }
    let body = crate::api::views::Login {
        email: form.email.clone(),
        password: form.password,
    };
    let signed_in = crate::api::people::sign_in(&state, ip.0, &body)
        .await
        .and_then(|(_, _, cookie)| {
            HeaderValue::from_str(&cookie)
                .map_err(|_| ApiError::bad_request("invalid_cookie", "cookie"))
        });
    match signed_in {
        Ok(cookie) => {
            let mut r = Redirect::to("/console").into_response();
            r.headers_mut().append(header::SET_COOKIE, cookie);
            r
        }
        Err(e) => login_form(&form.email, Some(&e.message), e.status),
    }
}

#[derive(Deserialize)]
struct Nothing {}

async fn logout(State(state): State<AppState>, f: PostForm<Nothing>) -> Response {
    let _ = f.form;
    let signed_out = crate::api::people::sign_out(&state, &f.session.caller(), &f.headers)
        .await
        .and_then(|clear| {
            HeaderValue::from_str(&clear)
                .map_err(|_| ApiError::bad_request("invalid_cookie", "cookie"))
        });
    match signed_out {
        Ok(clear) => {
            let mut r = Redirect::to("/login").into_response();
            r.headers_mut().append(header::SET_COOKIE, clear);
            r
        }
        Err(e) => error_response(&f.headers, &f.session, &e, "/console"),
    }
}

// ---------- shown values ----------

/// A timestamp from the API (RFC 3339) as people read it: "2026-03-04 09:15 UTC".
pub(crate) fn when(rfc3339: &str) -> String {
    match rfc3339.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// How far a deadline is from now, in words, and whether it has passed.
pub(crate) fn until(rfc3339: &str, now: recourse_domain::Millis) -> (String, bool) {
    let Ok(t) = rfc3339.parse::<jiff::Timestamp>() else {
        return (rfc3339.to_owned(), false);
    };
    let diff_min = (t.as_millisecond() - now.0) / 60_000;
    let span = |m: i64| {
        let (d, h, mi) = (m / 1440, (m % 1440) / 60, m % 60);
        if d > 0 {
            format!("{d}d {h}h")
        } else if h > 0 {
            format!("{h}h {mi}m")
        } else {
            format!("{mi}m")
        }
    };
    if diff_min < 0 {
        (format!("overdue by {}", span(-diff_min)), true)
    } else {
        (format!("in {}", span(diff_min)), false)
    }
}

/// `snake_case` words from the API as a label: "pending_customer" → "pending customer".
pub(crate) fn words(s: &str) -> String {
    s.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_read_as_words() {
        let now = recourse_domain::Millis(1_700_000_000_000);
        let t = jiff::Timestamp::from_millisecond(now.0 + 90 * 60_000)
            .unwrap()
            .to_string();
        assert_eq!(until(&t, now), ("in 1h 30m".to_owned(), false));
        let t = jiff::Timestamp::from_millisecond(now.0 - 5 * 60_000)
            .unwrap()
            .to_string();
        assert_eq!(until(&t, now), ("overdue by 5m".to_owned(), true));
    }

    #[tokio::test]
    async fn forms_parse_from_bytes() {
        let f: CsrfField = parse_form(&Bytes::from_static(b"csrf=abc&x=1"))
            .await
            .unwrap();
        assert_eq!(f.csrf, "abc");
    }

    #[test]
    fn templates_escape_user_text() {
        let html = ErrorFragment {
            message: "<script>alert(1)</script>",
        }
        .render()
        .unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("alert(1)"), "{html}");
    }
}
