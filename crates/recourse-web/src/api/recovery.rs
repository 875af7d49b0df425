//! When the desk cannot help, over HTTP: can't-help and its review, transfers, the
//! referral directory and referral close, inconsolable, and agent protection (masking,
//! hand-off).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_desk::{
    CantHelpRecord, CantHelpRequest, CantHelpReview, NewAlternative, NewMessage, ReferralRequest,
    TransferRequest,
};
use recourse_domain::recovery::{
    Alternative, CantHelpDraft, ThirdParty, check_cant_help, check_transfer_line, rank_alternatives,
};
use recourse_domain::{
    AgentId, Body, CantHelpReason, MessageId, MessageKind, Outcome, Role, Status, Tag, TeamId,
    Ticket, TicketChange, TicketId,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::escalations::may_work;
use super::surveys::invite_to_survey;
use super::tickets::visible_ticket;
use super::views::{MessageView, TicketView, words};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, parse_id};
use crate::{AppState, now, rfc3339};

/// Loads a ticket the caller works (assignee, its rung, or a manager).
pub(crate) async fn worked_ticket(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Ticket, ApiError> {
    caller.require_agent()?;
    let ticket = visible_ticket(state, caller, id).await?;
    let ladder = state.store.desk_config().await?.ladder;
    if !may_work(caller, &ladder, &ticket) {
        return Err(ApiError::forbidden(
            "Only someone working this ticket (its assignee, anyone on its rung, or a manager) can do this.",
        ));
    }
    Ok(ticket)
}

// ---------- can't help ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThirdPartyBody {
    /// Who can help, e.g. "Your card issuer".
    #[serde(default)]
    pub who: String,
    /// Why it is theirs to handle rather than ours.
    #[serde(default)]
    pub why_theirs: String,
    /// How the customer reaches them.
    #[serde(default)]
    pub how_to_reach: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostCantHelp {
    #[schema(schema_with = words::cant_help_reason)]
    pub reason: CantHelpReason,
    /// Why we cannot, in words the customer will read.
    #[serde(default)]
    pub explanation: String,
    /// What we can still do. Required unless `no_partial_justification` is given.
    pub partial_solution: Option<String>,
    /// For a manager only: why nothing at all can be offered. The ticket then waits in
    /// the review queue and the customer hears nothing until a manager decides.
    pub no_partial_justification: Option<String>,
    /// Required with reason `third_party`.
    pub third_party: Option<ThirdPartyBody>,
    /// A summary to hand to the third party, kept with the record.
    pub handoff_summary: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CantHelpView {
    pub id: i64,
    pub ticket_id: i64,
    #[schema(schema_with = words::cant_help_reason)]
    pub reason: CantHelpReason,
    pub explanation: String,
    pub partial_solution: Option<String>,
    pub no_partial_justification: Option<String>,
    pub third_party_who: Option<String>,
    pub third_party_why: Option<String>,
    pub third_party_how: Option<String>,
    pub handoff_summary: Option<String>,
    /// `sent`, `pending_review`, `approved` or `returned`.
    pub state: String,
    pub review_note: Option<String>,
    /// The message the customer was sent, once sent.
    pub message_id: Option<i64>,
    pub created_at: String,
    pub reviewed_at: Option<String>,
}

impl From<CantHelpRecord> for CantHelpView {
    fn from(r: CantHelpRecord) -> Self {
        let tp = r.third_party.clone();
        CantHelpView {
            id: r.id,
            ticket_id: r.ticket_id.0,
            reason: r.reason,
            explanation: r.explanation,
            partial_solution: r.partial_solution,
            no_partial_justification: r.justification,
            third_party_who: tp.as_ref().map(|t| t.who.clone()),
            third_party_why: tp.as_ref().map(|t| t.why_theirs.clone()),
            third_party_how: tp.map(|t| t.how_to_reach),
            handoff_summary: r.handoff_summary,
            state: r.state,
            review_note: r.review_note,
            message_id: r.message_id.map(|m| m.0),
            created_at: rfc3339(r.created_at),
            reviewed_at: r.reviewed_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CantHelpResult {
    pub ticket: TicketView,
    pub cant_help: CantHelpView,
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/cant-help", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostCantHelp,
    responses(
        (status = 201, description = "Sent and resolved (outcome `explained`), or queued for a manager's review", body = CantHelpResult),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, description = "A part is missing: explanation_required, partial_solution_required, third_party_who_required, third_party_why_required, third_party_contact_required", body = ErrorBody)
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn cant_help(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostCantHelp>,
) -> Result<(StatusCode, Json<CantHelpResult>), ApiError> {
    let ticket = worked_ticket(&state, &caller, &id).await?;
    let (after, record) = state
        .desk
        .cant_help(cant_help_request(&caller, ticket.id, body)?)
        .await?;
    invite_to_survey(&state, &after).await?;
    Ok((
        StatusCode::CREATED,
        Json(CantHelpResult {
            ticket: after.into(),
            cant_help: record.into(),
        }),
    ))
}

/// A can't-help as the store takes it, once the domain finds every part it needs.
pub(crate) fn cant_help_request(
    caller: &Caller,
    ticket_id: TicketId,
    body: PostCantHelp,
) -> Result<CantHelpRequest, ApiError> {
    let checked = check_cant_help(&CantHelpDraft {
        reason: body.reason,
        explanation: body.explanation,
        partial_solution: body.partial_solution,
        no_partial_justification: body.no_partial_justification,
        third_party: body.third_party.map(|t| ThirdParty {
            who: t.who,
            why_theirs: t.why_theirs,
            how_to_reach: t.how_to_reach,
        }),
        handoff_summary: body.handoff_summary,
    })?;
    Ok(CantHelpRequest {
        ticket_id,
        cant_help: checked,
        channel: caller.channel(),
        actor: caller.actor(),
        now: now(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostReview {
    /// `true` sends the explanation and resolves; `false` returns it to the agent.
    pub approve: bool,
    /// For the agent; added to the ticket as an internal note.
    pub note: Option<String>,
    /// Something the desk can still offer after all, added to what the customer reads.
    pub partial_solution: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/cant-help/review", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostReview,
    responses((status = 200, body = CantHelpResult), (status = 403, description = "Managers only", body = ErrorBody), (status = 404, description = "Nothing waits for review on this ticket", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostReview>,
) -> Result<Json<CantHelpResult>, ApiError> {
    caller.require_role(Role::Manager)?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let (after, record) = state
        .desk
        .review_cant_help(CantHelpReview {
            ticket_id: ticket.id,
            approve: body.approve,
            note: body.note,
            partial_solution: body.partial_solution,
            channel: caller.channel(),
            actor: caller.actor(),
            now: now(),
        })
        .await?;
    invite_to_survey(&state, &after).await?;
    Ok(Json(CantHelpResult {
        ticket: after.into(),
        cant_help: record.into(),
    }))
}

#[utoipa::path(
    get, path = "/api/v1/reviews", tag = "recovery",
    responses((status = 200, description = "Can't-helps that offered nothing, oldest first", body = [CantHelpView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn review_queue(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<CantHelpView>>, ApiError> {
    caller.require_role(Role::Manager)?;
    Ok(Json(
        state
            .store
            .cant_help_records(None, 100)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/cant-help", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = [CantHelpView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_cant_help(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<CantHelpView>>, ApiError> {
    caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    Ok(Json(
        state
            .store
            .cant_help_records(Some(ticket.id), 100)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

// ---------- transfers ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostTransfer {
    pub to_agent_id: Option<i64>,
    pub to_team_id: Option<i64>,
    pub to_rung: Option<String>,
    /// Sent to the customer: who has the case now and why. Required.
    pub customer_message: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/transfer", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostTransfer,
    responses(
        (status = 200, description = "Transferred; the customer was told", body = TicketView),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, description = "customer_message_required, transfer_target_required, unknown_assignee, unknown_rung", body = ErrorBody)
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostTransfer>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = worked_ticket(&state, &caller, &id).await?;
    let after = state
        .desk
        .transfer(transfer_request(&caller, ticket.id, body)?)
        .await?;
    Ok(Json(after.into()))
}

/// A transfer as the store takes it: somewhere to go and a line for the customer.
pub(crate) fn transfer_request(
    caller: &Caller,
    ticket_id: TicketId,
    body: PostTransfer,
) -> Result<TransferRequest, ApiError> {
    if body.to_agent_id.is_none() && body.to_team_id.is_none() && body.to_rung.is_none() {
        return Err(ApiError::unprocessable(
            "transfer_target_required",
            "Say where the ticket goes: `to_agent_id`, `to_team_id` or `to_rung`.",
        ));
    }
    let line = check_transfer_line(body.customer_message.as_deref())?;
    let line = Body::parse(&line)?.into_inner();
    Ok(TransferRequest {
        ticket_id,
        to_agent: body.to_agent_id.map(AgentId),
        to_team: body.to_team_id.map(TeamId),
        to_rung: body.to_rung,
        customer_message: line,
        channel: caller.channel(),
        actor: caller.actor(),
        now: now(),
    })
}

// ---------- referral directory and referral close ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlternativeBody {
    pub name: String,
    /// What they serve, as tags (matched against tickets' tags).
    #[serde(default)]
    pub serves: Vec<String>,
    /// How customers reach them: a URL, an address, a phone number.
    pub contact: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlternativeView {
    pub id: i64,
    pub name: String,
    pub serves: Vec<String>,
    pub contact: String,
    pub notes: String,
    pub active: bool,
}

impl From<Alternative> for AlternativeView {
    fn from(a: Alternative) -> Self {
        AlternativeView {
            id: a.id,
            name: a.name,
            serves: a.serves,
            contact: a.contact,
            notes: a.notes,
            active: a.active,
        }
    }
}

pub(crate) fn alternative_input(b: AlternativeBody) -> Result<NewAlternative, ApiError> {
    let name = b.name.trim().to_owned();
    let contact = b.contact.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::unprocessable(
            "invalid_name",
            "An alternative needs a name of at most 200 characters.",
        ));
    }
    if contact.is_empty() || contact.chars().count() > 1000 {
        return Err(ApiError::unprocessable(
            "contact_required",
            "Say how customers reach them (at most 1,000 characters).",
        ));
    }
    if b.notes.chars().count() > 5000 {
        return Err(ApiError::unprocessable(
            "notes_too_long",
            "Notes are at most 5,000 characters.",
        ));
    }
    Ok(NewAlternative {
        name,
        serves: Tag::parse_all(&b.serves)?,
        contact,
        notes: b.notes.trim().to_owned(),
        active: b.active,
    })
}

#[utoipa::path(
    get, path = "/api/v1/alternatives", tag = "recovery",
    responses((status = 200, body = [AlternativeView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_alternatives(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AlternativeView>>, ApiError> {
    caller.require_agent()?;
    Ok(Json(
        state
            .store
            .alternatives()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/alternatives", tag = "recovery",
    request_body = AlternativeBody,
    responses((status = 201, body = AlternativeView), (status = 403, description = "Managers and admins", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn create_alternative(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AlternativeBody>,
) -> Result<(StatusCode, Json<AlternativeView>), ApiError> {
    caller.require_role(Role::Manager)?;
    let a = state
        .store
        .save_alternative(None, alternative_input(body)?, now())
        .await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

#[utoipa::path(
    put, path = "/api/v1/alternatives/{id}", tag = "recovery",
    params(("id" = i64, Path, description = "Alternative id")),
    request_body = AlternativeBody,
    responses((status = 200, body = AlternativeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn update_alternative(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AlternativeBody>,
) -> Result<Json<AlternativeView>, ApiError> {
    caller.require_role(Role::Manager)?;
    let id = parse_id(&id, "alternative")?;
    let a = state
        .store
        .save_alternative(Some(id), alternative_input(body)?, now())
        .await?;
    Ok(Json(a.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub alternative: AlternativeView,
    /// 3 per shared tag, 1 per word of the ticket's need they mention.
    pub score: i64,
}

#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/referral/suggestions", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "Best match first", body = [Suggestion]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn referral_suggestions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<Suggestion>>, ApiError> {
    caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let all = state.store.alternatives().await?;
    let ranked = rank_alternatives(&all, &ticket.tags, ticket.need.as_deref());
    Ok(Json(
        ranked
            .into_iter()
            .map(|(a, score)| Suggestion {
                alternative: a.clone().into(),
                score,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostReferral {
    pub alternative_id: i64,
    /// Why we are not the right people for this, in a sentence for the customer.
    pub reason: String,
    /// What the customer is sent; absent, the referral template is used.
    pub message: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/referral", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostReferral,
    responses(
        (status = 200, description = "Referred: the customer was told where to go and the ticket closed with outcome `referred`", body = TicketView),
        (status = 403, description = "Managers only", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not on the top rung, or not active", body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn refer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostReferral>,
) -> Result<Json<TicketView>, ApiError> {
    let manager = caller.require_role(Role::Manager)?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let request = referral_request(&caller, &manager.name, ticket.id, body)?;
    let after = state.desk.refer(request).await?;
    invite_to_survey(&state, &after).await?;
    Ok(Json(after.into()))
}

/// A referral as the store takes it: a reason for the customer, and the message if given.
pub(crate) fn referral_request(
    caller: &Caller,
    manager_name: &str,
    ticket_id: TicketId,
    body: PostReferral,
) -> Result<ReferralRequest, ApiError> {
    if body.reason.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "reason_required",
            "Tell the customer, in a sentence, why someone else can serve them better.",
        ));
    }
    let message = body
        .message
        .as_deref()
        .map(Body::parse)
        .transpose()?
        .map(Body::into_inner);
    Ok(ReferralRequest {
        ticket_id,
        alternative_id: body.alternative_id,
        reason: body.reason,
        message,
        agent_name: Some(manager_name.to_owned()),
        channel: caller.channel(),
        actor: caller.actor(),
        now: now(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostInconsolable {
    /// What was tried and why nothing will do; kept as an internal note.
    pub note: String,
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/inconsolable", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostInconsolable,
    responses((status = 200, description = "Closed with outcome `inconsolable`", body = TicketView), (status = 403, description = "Managers only", body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn inconsolable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostInconsolable>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require_role(Role::Manager)?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    if body.note.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "note_required",
            "Say what was tried and why nothing will satisfy this customer.",
        ));
    }
    let note = Body::parse(&body.note)?;
    // The note first (it explains the close), then the close itself.
    state
        .desk
        .add_message(NewMessage {
            ticket_id: ticket.id,
            kind: MessageKind::Note,
            channel: caller.channel(),
            author: caller.actor(),
            body: note,
            status: None,
            demeanor: None,
            now: now(),
        })
        .await?;
    let after = state
        .desk
        .change_ticket(
            ticket.id,
            TicketChange {
                status: Some(Status::Closed),
                outcome: Some(Outcome::Inconsolable),
                ..TicketChange::default()
            },
            caller.actor(),
            now(),
        )
        .await?;
    Ok(Json(after.into()))
}

// ---------- agent protection ----------

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/messages/{message_id}/reveal", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id"), ("message_id" = i64, Path, description = "Message id")),
    responses((status = 200, description = "The message in full; the look is recorded", body = MessageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn reveal(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, message_id)): Path<(String, String)>,
) -> Result<Json<MessageView>, ApiError> {
    caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let mid = MessageId(parse_id(&message_id, "message")?);
    let m = state
        .desk
        .reveal_message(mid, caller.actor(), now())
        .await?;
    if m.ticket_id != ticket.id {
        return Err(ApiError::not_found("message"));
    }
    let mut v: MessageView = m.into();
    v.masked = false;
    Ok(Json(v))
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/handoff", tag = "recovery",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "Passed to someone else on the rung (or its queue); no reason asked", body = TicketView), (status = 403, body = ErrorBody), (status = 409, description = "Not yours to hand off", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn hand_off(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    let me = caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let after = state.desk.hand_off(ticket.id, me.id, now()).await?;
    Ok(Json(after.into()))
}
