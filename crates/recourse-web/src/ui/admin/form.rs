//! What every admin screen shares: reading a posted form, the admin check, the notice
//! after a redirect, and the one shape of a change: check, save through the API, then
//! go on to the screen (or draw it again with the refusal and the values as typed).

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use recourse_domain::Role;

use crate::error::ApiError;
use crate::ui::{PostForm, Session, error_response, go_to};

pub(super) fn admins_only(s: &Session) -> Result<(), ApiError> {
    s.caller().require_role(Role::Admin).map(|_| ())
}

/// A posted form as its pairs in order, so repeated names (checkboxes) keep every value.
pub(super) type Pairs = Vec<(String, String)>;

pub(super) fn field(f: &Pairs, name: &str) -> String {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

pub(super) fn fields(f: &Pairs, name: &str) -> Vec<String> {
    f.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

/// A field as typed, untrimmed (passwords).
pub(super) fn raw_field(f: &Pairs, name: &str) -> String {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

pub(super) fn checked(f: &Pairs, name: &str) -> bool {
    f.iter().any(|(k, _)| k == name)
}

pub(super) fn team_choice(raw: &str) -> Result<Option<i64>, ApiError> {
    if raw.is_empty() {
        return Ok(None);
    }
    crate::extract::parse_id(raw, "team").map(Some)
}

pub(super) fn parse_word<T>(
    raw: &str,
    parse: fn(&str) -> Result<T, recourse_domain::UnknownVariant>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|e| ApiError::unprocessable("invalid_choice", e.to_string()))
}

pub(super) fn whole_number(raw: &str, what: &str) -> Result<u32, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::unprocessable(
            "invalid_number",
            format!("{what} is a whole number, 0 or more."),
        )
    })
}

/// `?done=` codes from a redirect after a change, as the line shown above the page.
pub(super) fn notice(q: &HashMap<String, String>) -> Option<String> {
    let text = match q.get("done").map(String::as_str)? {
        "agent_added" => "The agent was added.",
        "agent_changed" => "The agent was changed.",
        "team_added" => "The team was added.",
        "ladder_saved" => "The ladder was saved.",
        "rules_saved" => "The escalation rules were saved.",
        "policy_saved" => "The SLA targets were saved.",
        "calendar_saved" => "The business hours were saved.",
        "mailbox_saved" => "The mailbox was saved.",
        "mailbox_removed" => "The mailbox was removed; mail to it is no longer accepted.",
        "alternative_added" => "The alternative was added to the directory.",
        "alternative_saved" => "The alternative was saved.",
        "scenario_added" => "The practice scenario was added.",
        "scenario_saved" => "The practice scenario was saved.",
        "template_saved" => "The template was saved.",
        "template_reset" => "The template is back to the built-in text.",
        "webhook_stopped" => "The webhook was stopped.",
        "token_revoked" => "The token was revoked; it no longer works.",
        _ => return None,
    };
    Some(text.to_owned())
}

pub(super) type Query = axum::extract::Query<HashMap<String, String>>;

/// Runs a page builder, turning a refusal (403 for non-admins) into the error page.
pub(super) fn page(headers: &HeaderMap, s: &Session, r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(|e| error_response(headers, s, &e, "/console"))
}

/// A page drawn again after a refused change: the refusal's status, not 200.
fn refused(mut r: Response, status: StatusCode) -> Response {
    if r.status() == StatusCode::OK {
        *r.status_mut() = if status.is_client_error() {
            status
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
    }
    r
}

/// One admin form post: the admin check, then `change` with the form as typed. On
/// success go to `to`; the admin check answers a refusal with its 403 page, and any
/// other refusal is drawn by `redraw` (the screen again, with the message and the
/// values as typed) with the refusal's status.
pub(super) async fn submit<F, T>(
    post: &PostForm<Pairs>,
    typed: F,
    to: &str,
    change: impl AsyncFnOnce(&F) -> Result<T, ApiError>,
    redraw: impl AsyncFnOnce(F, ApiError) -> Result<Response, ApiError>,
) -> Response {
    let result = match admins_only(&post.session) {
        Ok(()) => change(&typed).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => go_to(&post.headers, to),
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            error_response(&post.headers, &post.session, &e, "/console")
        }
        Err(e) => {
            let status = e.status;
            match redraw(typed, e).await {
                Ok(r) => refused(r, status),
                Err(e2) => error_response(&post.headers, &post.session, &e2, "/admin"),
            }
        }
    }
}

/// Like [`submit`], for a post whose success is a page rather than a redirect: what
/// was made holds a secret that is shown this once, by `shown`.
pub(super) async fn submit_and_show<F, T>(
    post: &PostForm<Pairs>,
    typed: F,
    change: impl AsyncFnOnce(&F) -> Result<T, ApiError>,
    shown: impl AsyncFnOnce(T) -> Result<Response, ApiError>,
    redraw: impl AsyncFnOnce(F, ApiError) -> Result<Response, ApiError>,
) -> Response {
    let r = async {
        admins_only(&post.session)?;
        match change(&typed).await {
            Ok(made) => shown(made).await,
            Err(e) if e.status == StatusCode::FORBIDDEN => Err(e),
            Err(e) => {
                let status = e.status;
                let r = redraw(typed, e).await?;
                Ok(refused(r, status))
            }
        }
    }
    .await;
    page(&post.headers, &post.session, r)
}
