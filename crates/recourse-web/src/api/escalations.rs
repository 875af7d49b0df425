//! Moving a ticket on the ladder over HTTP: the handoff draft, escalating, the
//! escalation history, moving down, and a pass of the SLA sweeper on demand.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_desk::{Descent, EscalationRecord, EscalationRequest};
use recourse_domain::{AgentId, Body, EscalationReason, Ladder, Role, TicketId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::tickets::visible_ticket;
use super::views::{AgentView, TicketView, words};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::{AppState, now, rfc3339};

/// Whether the caller works this ticket (the domain's rule), as a quick refusal before
/// the body is read. The desk checks again on the ticket as locked for the change.
pub(crate) fn may_work(caller: &Caller, ladder: &Ladder, ticket: &recourse_domain::Ticket) -> bool {
    caller
        .agent()
        .is_some_and(|agent| recourse_domain::ladder::may_work(ladder, agent, ticket))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DraftQuery {
    /// Why the case moves up; `agent_request` when absent. `abuse` drafts for the top rung.
    #[param(schema_with = words::escalation_reason)]
    pub reason: Option<EscalationReason>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffDraft {
    pub from_rung: String,
    pub to_rung: String,
    /// The agent routing would give the case to now; pass it back as `assignee_id`
    /// so the message and the assignment agree. `null`: the rung's queue.
    pub assignee: Option<AgentView>,
    /// When the customer will hear back (RFC 3339), as promised in the text.
    pub reply_by: String,
    /// The customer-facing message, ready to edit.
    pub body: String,
}

#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/escalations/draft", tag = "ladder",
    params(("id" = i64, Path, description = "Ticket id"), DraftQuery),
    responses((status = 200, body = HandoffDraft), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn escalation_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DraftQuery>,
) -> Result<Json<HandoffDraft>, ApiError> {
    let agent = caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let plan = state
        .desk
        .handoff_draft(
            ticket.id,
            q.reason.unwrap_or(EscalationReason::AgentRequest),
            now(),
        )
        .await?;
    Ok(Json(HandoffDraft {
        from_rung: plan.ticket.rung.clone(),
        to_rung: plan.to.name.clone(),
        body: plan.draft(Some(&agent.name)),
        reply_by: rfc3339(plan.reply_by),
        assignee: plan.assignee.map(Into::into),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostEscalation {
    #[schema(schema_with = words::escalation_reason)]
    pub reason: EscalationReason,
    /// Internal note for whoever takes the case.
    pub note: Option<String>,
    /// What the customer is sent. Absent: the drafted handoff is sent as it stands.
    pub message: Option<String>,
    /// Who takes it (e.g. the draft's `assignee.id`); absent: routing chooses.
    pub assignee_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationView {
    pub id: i64,
    /// `up` or `down`.
    pub direction: String,
    pub from_rung: String,
    pub to_rung: String,
    #[schema(schema_with = words::escalation_reason)]
    pub reason: Option<EscalationReason>,
    pub note: Option<String>,
    /// The handoff message the customer was sent.
    pub message_id: Option<i64>,
    pub at: String,
}

impl From<EscalationRecord> for EscalationView {
    fn from(e: EscalationRecord) -> Self {
        EscalationView {
            id: e.id,
            direction: if e.up { "up" } else { "down" }.to_owned(),
            from_rung: e.from_rung,
            to_rung: e.to_rung,
            reason: e.reason,
            note: e.note,
            message_id: e.message_id.map(|m| m.0),
            at: rfc3339(e.at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationResult {
    pub ticket: TicketView,
    pub escalation: EscalationView,
}

fn note_of(raw: Option<String>) -> Option<String> {
    raw.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/escalations", tag = "ladder",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostEscalation,
    responses(
        (status = 201, description = "Moved up; the customer was sent the handoff", body = EscalationResult),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Already on the top rung, or not active", body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn escalate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostEscalation>,
) -> Result<(StatusCode, Json<EscalationResult>), ApiError> {
    let request = escalation_request(&state, &caller, &id, body).await?;
    let after = state.desk.escalate(request).await?;
    let escalation = last_step(&state, after.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(EscalationResult {
            ticket: after.into(),
            escalation,
        }),
    ))
}

/// An escalation as the desk takes it, for a ticket the caller sees and works.
pub(crate) async fn escalation_request(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: PostEscalation,
) -> Result<EscalationRequest, ApiError> {
    caller.require_agent()?;
    let ticket = visible_ticket(state, caller, id).await?;
    let ladder = state.store.desk_config().await?.ladder;
    if !may_work(caller, &ladder, &ticket) {
        return Err(ApiError::forbidden(
            "Only someone working this ticket (its assignee, anyone on its rung, or a manager) can escalate it.",
        ));
    }
    let message = match body.message {
        Some(m) => Some(Body::parse(&m)?),
        None => None,
    };
    Ok(EscalationRequest {
        ticket_id: ticket.id,
        reason: body.reason,
        note: note_of(body.note),
        message,
        assignee: body.assignee_id.map(AgentId),
        channel: caller.channel(),
        actor: caller.actor(),
        now: now(),
    })
}

async fn last_step(state: &AppState, id: TicketId) -> Result<EscalationView, ApiError> {
    state
        .store
        .escalations(id)
        .await?
        .pop()
        .map(Into::into)
        .ok_or_else(|| ApiError::not_found("escalation"))
}

#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/escalations", tag = "ladder",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = [EscalationView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_escalations(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<EscalationView>>, ApiError> {
    caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    Ok(Json(
        state
            .store
            .escalations(ticket.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostDescent {
    /// Why it goes back down, for whoever takes it. Required.
    pub note: String,
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/descents", tag = "ladder",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostDescent,
    responses(
        (status = 201, description = "Moved one rung down", body = EscalationResult),
        (status = 403, description = "Managers only", body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn move_down(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostDescent>,
) -> Result<(StatusCode, Json<EscalationResult>), ApiError> {
    caller.require_role(Role::Manager)?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let after = state
        .desk
        .descend(Descent {
            ticket_id: ticket.id,
            note: body.note,
            actor: caller.actor(),
            now: now(),
        })
        .await?;
    let escalation = last_step(&state, after.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(EscalationResult {
            ticket: after.into(),
            escalation,
        }),
    ))
}

// ---------- the sweeper ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct SweepView {
    pub examined: u32,
    pub warned: u32,
    pub breached: u32,
    pub escalated: u32,
}

#[utoipa::path(
    post, path = "/api/v1/sla/sweep", tag = "ladder",
    responses((status = 200, description = "One sweeper pass, now", body = SweepView), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn sweep(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SweepView>, ApiError> {
    caller.require_role(Role::Admin)?;
    let r = state.desk.sweep_sla(now(), 500).await?;
    Ok(Json(SweepView {
        examined: r.examined,
        warned: r.warned,
        breached: r.breached,
        escalated: r.escalated,
    }))
}
