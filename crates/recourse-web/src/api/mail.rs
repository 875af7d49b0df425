//! Email administration: the addresses the desk receives mail for, the received-mail
//! log with its quarantine, re-processing, and the raw message for inspection.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use recourse_desk::MailState;
use recourse_domain::{EmailAddress, Role, TeamId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, parse_id};
use crate::{AppState, now, rfc3339};

#[derive(Debug, Serialize, ToSchema)]
pub struct MailboxView {
    pub id: i64,
    pub address: String,
    /// The team new tickets to this address belong to.
    pub team_id: Option<i64>,
    pub created_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailboxBody {
    /// e.g. `support@example.com`.
    pub address: String,
    pub team_id: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/v1/mailboxes", tag = "email",
    responses((status = 200, body = [MailboxView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_mailboxes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<MailboxView>>, ApiError> {
    caller.require_role(Role::Admin)?;
    Ok(Json(mailbox_views(&state).await?))
}

/// The desk's mailboxes as the API shows them.
pub(crate) async fn mailbox_views(state: &AppState) -> Result<Vec<MailboxView>, ApiError> {
    Ok(state
        .store
        .mailboxes()
        .await?
        .into_iter()
        .map(|m| MailboxView {
            id: m.id,
            address: m.address,
            team_id: m.team_id.map(|t| t.0),
            created_at: rfc3339(m.created_at),
        })
        .collect())
}

#[utoipa::path(
    post, path = "/api/v1/mailboxes", tag = "email",
    request_body = MailboxBody,
    responses((status = 201, body = MailboxView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn save_mailbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<MailboxBody>,
) -> Result<(StatusCode, Json<MailboxView>), ApiError> {
    caller.require_role(Role::Admin)?;
    let address = EmailAddress::parse(&body.address)?;
    let m = state
        .store
        .save_mailbox(&address, body.team_id.map(TeamId), now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(MailboxView {
            id: m.id,
            address: m.address,
            team_id: m.team_id.map(|t| t.0),
            created_at: rfc3339(m.created_at),
        }),
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/mailboxes/{id}", tag = "email",
    params(("id" = i64, Path, description = "Mailbox id")),
    responses((status = 204, description = "The desk no longer accepts mail for it"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn delete_mailbox(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_role(Role::Admin)?;
    state
        .store
        .delete_mailbox(parse_id(&id, "mailbox")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MailParams {
    /// received, ticket, threaded, auto_reply, bounce, duplicate or quarantined.
    pub state: Option<String>,
    /// From the previous page: the smallest id seen.
    pub before: Option<i64>,
    /// 1 to 100, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundMailView {
    pub id: i64,
    /// `smtp` or `imap`.
    pub source: String,
    pub envelope_from: Option<String>,
    pub size: i64,
    pub state: String,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    pub ticket_id: Option<i64>,
    pub message_ref: Option<i64>,
    /// Why it was quarantined (or held).
    pub reason: Option<String>,
    pub received_at: String,
    pub processed_at: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/mail/inbound", tag = "email",
    params(MailParams),
    responses((status = 200, description = "Received mail, newest first; `state=quarantined` is the quarantine", body = [InboundMailView]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_inbound(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<MailParams>,
) -> Result<Json<Vec<InboundMailView>>, ApiError> {
    caller.require_role(Role::Admin)?;
    let filter = match p.state.as_deref() {
        None => None,
        Some(s) => Some(MailState::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_state",
                "`state` is received, ticket, threaded, auto_reply, bounce, duplicate or quarantined.",
            )
        })?),
    };
    let limit = p.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "`limit` must be between 1 and 100.",
        ));
    }
    let rows = state.store.inbound_mail(filter, p.before, limit).await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| InboundMailView {
                id: m.id,
                source: m.source,
                envelope_from: m.envelope_from,
                size: m.size,
                state: m.state.as_str().to_owned(),
                message_id: m.message_id,
                from_address: m.from_address,
                subject: m.subject,
                ticket_id: m.ticket_id.map(|t| t.0),
                message_ref: m.message_ref.map(|x| x.0),
                reason: m.reason,
                received_at: rfc3339(m.received_at),
                processed_at: m.processed_at.map(rfc3339),
            })
            .collect(),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/mail/inbound/{id}/reprocess", tag = "email",
    params(("id" = i64, Path, description = "Received message id")),
    responses((status = 202, description = "Handed back to the pipeline; it is read again within seconds"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn reprocess(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_role(Role::Admin)?;
    state
        .store
        .requeue_inbound_mail(parse_id(&id, "message")?)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(
    get, path = "/api/v1/mail/inbound/{id}/raw", tag = "email",
    params(("id" = i64, Path, description = "Received message id")),
    responses((status = 200, description = "The message exactly as received (message/rfc822), as an attachment"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn raw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = parse_id(&id, "message")?;
    let bytes = state.store.inbound_mail_raw(id).await?;
    // Served as a download, never rendered: its HTML is the sender's, not ours.
    Ok((
        [
            (header::CONTENT_TYPE, "message/rfc822".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"message-{id}.eml\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
