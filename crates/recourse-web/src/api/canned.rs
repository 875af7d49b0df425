//! Canned replies: saved answers with `{{variables}}` that an agent drops into the reply
//! composer, rendered for the ticket at hand. Managers and admins keep the list; every
//! agent reads it. The text is checked with the domain's template rules, so a reply
//! that names an unknown variable is refused when it is saved, not when it is used.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_desk::{CannedReply, NewCannedReply};
use recourse_domain::template::{CANNED_REPLY_VARIABLES, Template};
use recourse_domain::{Role, Ticket};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::tickets::visible_ticket;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, parse_id};
use crate::{AppState, now, rfc3339};

#[derive(Debug, Serialize, ToSchema)]
pub struct CannedReplyView {
    pub id: i64,
    pub title: String,
    /// The text with its `{{variables}}` (see `variables`).
    pub body: String,
    /// The variables a canned reply may use.
    pub variables: Vec<String>,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CannedReply> for CannedReplyView {
    fn from(c: CannedReply) -> Self {
        CannedReplyView {
            id: c.id,
            title: c.title,
            body: c.body,
            variables: CANNED_REPLY_VARIABLES
                .iter()
                .map(|v| (*v).to_owned())
                .collect(),
            created_by: c.created_by.map(|a| a.0),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyBody {
    /// What agents pick it by, unique; 1 to 120 characters.
    pub title: String,
    /// The text. Variables: customer_name, ticket_number, subject, need, agent_name.
    pub body: String,
}

fn input(body: CannedReplyBody, caller: &Caller) -> Result<NewCannedReply, ApiError> {
    let title = body.title.trim();
    if title.is_empty() || title.chars().count() > 120 || title.contains(['\n', '\r', '\0']) {
        return Err(ApiError::unprocessable(
            "invalid_title",
            "A canned reply needs a one-line title of at most 120 characters.",
        ));
    }
    if body.body.contains('\0') {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "The text may not contain NUL characters.",
        ));
    }
    let checked = Template::canned_reply(&body.body)?;
    Ok(NewCannedReply {
        title: title.to_owned(),
        body: checked.body().to_owned(),
        author: caller.agent().map(|a| a.id),
    })
}

#[utoipa::path(
    get, path = "/api/v1/canned-replies", tag = "canned replies",
    responses((status = 200, description = "Every canned reply, by title", body = [CannedReplyView]), (status = 401, body = ErrorBody), (status = 403, description = "Agents only", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_canned_replies(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<CannedReplyView>>, ApiError> {
    caller.require_agent()?;
    Ok(Json(
        state
            .store
            .canned_replies()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/canned-replies", tag = "canned replies",
    request_body = CannedReplyBody,
    responses((status = 201, body = CannedReplyView), (status = 403, description = "Managers and admins", body = ErrorBody), (status = 409, description = "The title is taken", body = ErrorBody), (status = 422, description = "No title, or an unknown variable", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn create_canned_reply(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CannedReplyBody>,
) -> Result<(StatusCode, Json<CannedReplyView>), ApiError> {
    caller.require_role(Role::Manager)?;
    let c = state
        .store
        .save_canned_reply(None, input(body, &caller)?, now())
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[utoipa::path(
    put, path = "/api/v1/canned-replies/{id}", tag = "canned replies",
    params(("id" = i64, Path, description = "Canned reply id")),
    request_body = CannedReplyBody,
    responses((status = 200, body = CannedReplyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn update_canned_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CannedReplyBody>,
) -> Result<Json<CannedReplyView>, ApiError> {
    caller.require_role(Role::Manager)?;
    let id = parse_id(&id, "canned reply")?;
    let c = state
        .store
        .save_canned_reply(Some(id), input(body, &caller)?, now())
        .await?;
    Ok(Json(c.into()))
}

#[utoipa::path(
    delete, path = "/api/v1/canned-replies/{id}", tag = "canned replies",
    params(("id" = i64, Path, description = "Canned reply id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn delete_canned_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_role(Role::Manager)?;
    let id = parse_id(&id, "canned reply")?;
    state.store.delete_canned_reply(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RenderParams {
    /// The ticket whose customer, number, subject and need fill the variables.
    pub ticket_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RenderedReply {
    pub id: i64,
    pub title: String,
    /// Ready to send (or to edit first): every variable filled in.
    pub text: String,
}

/// The canned reply's text for one ticket. Values are plain text and never read again
/// as template, so a customer named `{{agent_name}}` stays just that.
pub(crate) async fn render_for(
    state: &AppState,
    caller: &Caller,
    reply: &CannedReply,
    ticket: &Ticket,
) -> Result<String, ApiError> {
    let template = Template::canned_reply(&reply.body)?;
    let customer = state.store.get_customer(ticket.customer_id).await?;
    let agent = caller.agent().map(|a| a.name.clone());
    Ok(template.render(|var| match var {
        "customer_name" => customer.name.clone().unwrap_or_else(|| "there".into()),
        "ticket_number" => ticket.number.to_string(),
        "subject" => ticket.subject.clone(),
        "need" => ticket
            .need
            .clone()
            .unwrap_or_else(|| "what you need".into()),
        "agent_name" => agent.clone().unwrap_or_else(|| "The support team".into()),
        _ => String::new(),
    }))
}

#[utoipa::path(
    get, path = "/api/v1/canned-replies/{id}/render", tag = "canned replies",
    params(("id" = i64, Path, description = "Canned reply id"), RenderParams),
    responses((status = 200, body = RenderedReply), (status = 403, body = ErrorBody), (status = 404, description = "No such canned reply or ticket", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn render_canned_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<RenderParams>,
) -> Result<Json<RenderedReply>, ApiError> {
    caller.require_agent()?;
    let id = parse_id(&id, "canned reply")?;
    let ticket = visible_ticket(&state, &caller, &p.ticket_id).await?;
    let reply = state.store.canned_reply(id).await?;
    let text = render_for(&state, &caller, &reply, &ticket).await?;
    Ok(Json(RenderedReply {
        id: reply.id,
        title: reply.title,
        text,
    }))
}
