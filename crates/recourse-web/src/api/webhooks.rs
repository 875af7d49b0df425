//! Webhooks over HTTP: signed event deliveries to other systems and their log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Caller, new_secret};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, parse_id};
use crate::{AppState, now, rfc3339};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// `http://` or `https://` URL that receives ticket events as JSON.
    pub url: String,
    /// Event types to send (e.g. `escalated`); empty or absent sends every event.
    #[serde(default)]
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub active: bool,
    /// The event types it receives; empty means all.
    pub events: Vec<String>,
    pub created_at: String,
    /// Shown once, at creation: verify `X-Recourse-Signature: sha256=<hex HMAC of the body>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<recourse_desk::Webhook> for WebhookView {
    fn from(w: recourse_desk::Webhook) -> Self {
        WebhookView {
            id: w.id,
            url: w.url,
            active: w.active,
            events: w.events,
            created_at: rfc3339(w.created_at),
            secret: None,
        }
    }
}

#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = [WebhookView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    caller.require_role(Role::Admin)?;
    Ok(Json(
        state
            .store
            .list_webhooks()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/webhooks", tag = "webhooks",
    request_body = CreateWebhook,
    responses((status = 201, body = WebhookView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    caller.require_role(Role::Admin)?;
    let (url, events) = checked_webhook(body)?;
    let secret = new_secret("whsec");
    let hook = state
        .store
        .create_webhook(&url, &secret, &events, now())
        .await?;
    let mut view: WebhookView = hook.into();
    view.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// A new webhook's URL (http or https, with a host) and its known event types, sorted.
pub(crate) fn checked_webhook(body: CreateWebhook) -> Result<(String, Vec<String>), ApiError> {
    let url = body.url.trim();
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2000
        && !url.chars().any(char::is_whitespace)
        && reqwest::Url::parse(url).is_ok_and(|u| u.host_str().is_some());
    if !ok {
        return Err(ApiError::unprocessable(
            "invalid_url",
            "A webhook needs an http:// or https:// URL with a host.",
        ));
    }
    let mut events = body.events;
    events.sort();
    events.dedup();
    if let Some(bad) = events
        .iter()
        .find(|e| !recourse_domain::EventKind::NAMES.contains(&e.as_str()))
    {
        return Err(ApiError::unprocessable(
            "unknown_event",
            format!(
                "`{bad}` is not an event type; known types: {}.",
                recourse_domain::EventKind::NAMES.join(", ")
            ),
        ));
    }
    Ok((url.to_owned(), events))
}

#[utoipa::path(
    delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204, description = "Stopped; pending deliveries are dropped"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = parse_id(&id, "webhook")?;
    state.store.deactivate_webhook(id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub event_id: i64,
    pub attempts: i64,
    pub delivered_at: Option<String>,
    pub failed_at: Option<String>,
    pub last_error: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, description = "Newest first, up to 100", body = [DeliveryView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = parse_id(&id, "webhook")?;
    Ok(Json(
        state
            .store
            .webhook_deliveries(id, 100)
            .await?
            .into_iter()
            .map(|d| DeliveryView {
                id: d.id,
                event_id: d.event_id,
                attempts: d.attempts,
                delivered_at: d.delivered_at.map(rfc3339),
                failed_at: d.failed_at.map(rfc3339),
                last_error: d.last_error,
            })
            .collect(),
    ))
}
