//! When the desk cannot help, over HTTP: can't-help and its review, transfers, the
//! referral directory and referral close, inconsolable, agent protection (masking,
//! hand-off, supervision), the satisfaction survey, and the recovery report.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_domain::recovery::{
    Alternative, CantHelpDraft, SurveyAnswer, ThirdParty, check_cant_help, check_transfer_line,
    rank_alternatives,
};
use recourse_domain::{
    AgentId, Body, CantHelpReason, CustomerId, MessageId, MessageKind, Outcome, Role, Status, Tag,
    TeamId, Ticket, TicketChange,
};
use recourse_store::config::{keys, template_from};
use recourse_store::{
    CantHelpRecord, CantHelpRequest, CantHelpReview, NewAlternative, NewMessage, ReferralRequest,
    ReportQuery, TransferRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ladder::may_work;
use super::tickets::visible_ticket;
use super::views::{MessageView, TicketView, words};
use crate::auth::{Caller, new_secret, sha256_hex};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, parse_id};
use crate::{AppState, now, rfc3339};

/// Loads a ticket the caller works (assignee, its rung, or a manager).
async fn worked_ticket(state: &AppState, caller: &Caller, id: &str) -> Result<Ticket, ApiError> {
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

/// Sends the satisfaction survey when a ticket has ended in a way that asks for one
/// (resolved, explained, referred). The link's token is the only credential and is
/// stored hashed; the invitation goes into the conversation.
pub(crate) async fn invite_to_survey(state: &AppState, ticket: &Ticket) -> Result<(), ApiError> {
    if !matches!(
        ticket.outcome,
        Some(Outcome::Resolved | Outcome::Explained | Outcome::Referred)
    ) {
        return Ok(());
    }
    let token = new_secret("srv");
    let key = "survey_invite";
    let stored = state
        .store
        .setting(&format!("{}{key}", keys::TEMPLATE_PREFIX))
        .await?;
    let template = template_from(key, stored.as_deref())?;
    let customer = state.store.get_customer(ticket.customer_id).await?;
    let link = format!(
        "{}/survey/{token}",
        state.config.public_url.trim_end_matches('/')
    );
    let text = template.render(|var| match var {
        "customer_name" => customer.name.clone().unwrap_or_else(|| "there".into()),
        "ticket_number" => ticket.number.to_string(),
        "subject" => ticket.subject.clone(),
        "survey_link" => link.clone(),
        _ => String::new(),
    });
    state
        .store
        .open_survey(ticket.id, &sha256_hex(&token), &text, now())
        .await?;
    Ok(())
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
    let (after, record) = state
        .store
        .cant_help(CantHelpRequest {
            ticket_id: ticket.id,
            cant_help: checked,
            channel: caller.channel(),
            actor: caller.actor(),
            now: now(),
        })
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
        .store
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
    if body.to_agent_id.is_none() && body.to_team_id.is_none() && body.to_rung.is_none() {
        return Err(ApiError::unprocessable(
            "transfer_target_required",
            "Say where the ticket goes: `to_agent_id`, `to_team_id` or `to_rung`.",
        ));
    }
    let line = check_transfer_line(body.customer_message.as_deref())?;
    let line = Body::parse(&line)?.into_inner();
    let after = state
        .store
        .transfer(TransferRequest {
            ticket_id: ticket.id,
            to_agent: body.to_agent_id.map(AgentId),
            to_team: body.to_team_id.map(TeamId),
            to_rung: body.to_rung,
            customer_message: line,
            channel: caller.channel(),
            actor: caller.actor(),
            now: now(),
        })
        .await?;
    Ok(Json(after.into()))
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

fn alternative_input(b: AlternativeBody) -> Result<NewAlternative, ApiError> {
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
    let after = state
        .store
        .refer(ReferralRequest {
            ticket_id: ticket.id,
            alternative_id: body.alternative_id,
            reason: body.reason,
            message,
            agent_name: Some(manager.name.clone()),
            channel: caller.channel(),
            actor: caller.actor(),
            now: now(),
        })
        .await?;
    invite_to_survey(&state, &after).await?;
    Ok(Json(after.into()))
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
        .store
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
    let after = state.store.hand_off(ticket.id, me.id, now()).await?;
    Ok(Json(after.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub organization_id: Option<i64>,
    /// New tickets start with a manager.
    pub supervised: bool,
    /// Messages of theirs that read as abusive.
    pub abusive_messages: i64,
    pub created_at: String,
}

async fn customer_view(
    state: &AppState,
    c: recourse_domain::Customer,
) -> Result<CustomerView, ApiError> {
    Ok(CustomerView {
        abusive_messages: state.store.abuse_count(c.id).await?,
        id: c.id.0,
        email: c.email.into_inner(),
        name: c.name,
        organization_id: c.organization_id.map(|o| o.0),
        supervised: c.supervised,
        created_at: rfc3339(c.created_at),
    })
}

#[utoipa::path(
    get, path = "/api/v1/customers/{id}", tag = "recovery",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CustomerView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CustomerView>, ApiError> {
    caller.require_agent()?;
    let c = state
        .store
        .get_customer(CustomerId(parse_id(&id, "customer")?))
        .await?;
    Ok(Json(customer_view(&state, c).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisionBody {
    pub supervised: bool,
}

#[utoipa::path(
    put, path = "/api/v1/customers/{id}/supervision", tag = "recovery",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = SupervisionBody,
    responses((status = 200, body = CustomerView), (status = 403, description = "Managers only", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn set_supervision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SupervisionBody>,
) -> Result<Json<CustomerView>, ApiError> {
    caller.require_role(Role::Manager)?;
    let c = state
        .store
        .set_supervised(
            CustomerId(parse_id(&id, "customer")?),
            body.supervised,
            caller.actor(),
            now(),
        )
        .await?;
    Ok(Json(customer_view(&state, c).await?))
}

// ---------- the survey ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyView {
    pub ticket_number: i64,
    pub subject: String,
    pub answered: bool,
    /// Until when the answer may still be changed (a week after first answering).
    pub editable_until: Option<String>,
    pub product: Option<u8>,
    pub pleasantness: Option<u8>,
    pub competence: Option<u8>,
    pub recommend: Option<u8>,
    pub comment: Option<String>,
}

fn survey_view(s: recourse_store::Survey) -> SurveyView {
    let week = recourse_domain::recovery::SURVEY_EDIT_DAYS * 24 * 3_600_000;
    SurveyView {
        ticket_number: s.ticket_number,
        subject: s.subject,
        answered: s.answered_at.is_some(),
        editable_until: s
            .answered_at
            .map(|a| rfc3339(recourse_domain::Millis(a.0 + week))),
        product: s.answer.map(|a| a.product),
        pleasantness: s.answer.map(|a| a.pleasantness),
        competence: s.answer.map(|a| a.competence),
        recommend: s.answer.map(|a| a.recommend),
        comment: s.comment,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyBody {
    /// The product itself, 1–5.
    pub product: i64,
    /// How pleasant we were to deal with, 1–5.
    pub pleasantness: i64,
    /// How well we knew what we were doing, 1–5.
    pub competence: i64,
    /// Would you recommend us, 0–10.
    pub recommend: i64,
    pub comment: Option<String>,
}

/// The survey behind a link, for the HTML page (`None`: no such survey).
pub(crate) async fn survey_for_page(state: &AppState, token: &str) -> Option<SurveyView> {
    survey_for(state, token).await.ok().map(survey_view)
}

async fn survey_for(state: &AppState, token: &str) -> Result<recourse_store::Survey, ApiError> {
    // The link's token is the credential; an unknown one looks like any missing survey.
    state
        .store
        .survey_by_token(&sha256_hex(token))
        .await?
        .ok_or_else(|| ApiError::not_found("survey"))
}

#[utoipa::path(
    get, path = "/api/v1/surveys/{token}", tag = "recovery",
    params(("token" = String, Path, description = "The token from the survey link")),
    responses((status = 200, body = SurveyView), (status = 404, body = ErrorBody))
)]
pub async fn get_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<SurveyView>, ApiError> {
    Ok(Json(survey_view(survey_for(&state, &token).await?)))
}

pub(crate) async fn answer(
    state: &AppState,
    token: &str,
    body: SurveyBody,
) -> Result<SurveyView, ApiError> {
    survey_for(state, token).await?;
    answer_by_hash(state, &sha256_hex(token), body).await
}

/// Answers the survey whose token hashes to `hash` (the link's, or the portal's for a
/// signed-in customer's own ticket).
pub(crate) async fn answer_by_hash(
    state: &AppState,
    hash: &str,
    body: SurveyBody,
) -> Result<SurveyView, ApiError> {
    let answer = SurveyAnswer::parse(
        body.product,
        body.pleasantness,
        body.competence,
        body.recommend,
    )?;
    let comment = body
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 5000) {
        return Err(ApiError::unprocessable(
            "comment_too_long",
            "A comment is at most 5,000 characters.",
        ));
    }
    let s = state
        .store
        .answer_survey(hash, answer, comment, now())
        .await
        .map_err(|e| match e {
            recourse_store::StoreError::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, "survey_closed", format!("{m}."))
            }
            other => other.into(),
        })?;
    Ok(survey_view(s))
}

#[utoipa::path(
    put, path = "/api/v1/surveys/{token}", tag = "recovery",
    params(("token" = String, Path, description = "The token from the survey link")),
    request_body = SurveyBody,
    responses((status = 200, description = "Answered (or changed, within a week)", body = SurveyView), (status = 404, body = ErrorBody), (status = 409, description = "survey_closed: answered more than a week ago", body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn put_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<SurveyBody>,
) -> Result<Json<SurveyView>, ApiError> {
    Ok(Json(answer(&state, &token, body).await?))
}

// ---------- the report ----------

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// RFC 3339; tickets that ended (resolved or closed) from here… Default: 30 days ago.
    pub from: Option<String>,
    /// …to here (exclusive). Default: now.
    pub to: Option<String>,
    /// Only tickets of this team.
    pub team: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationCountView {
    pub to_rung: String,
    pub reason: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub from: String,
    pub to: String,
    pub team: Option<i64>,
    /// Tickets that ended in the range: the population of every figure below except
    /// escalations and referrals, which count what happened in the range.
    pub ended: i64,
    pub outcomes: Vec<Count>,
    pub inconsolable: i64,
    /// inconsolable / ended.
    pub inconsolable_share: Option<f64>,
    /// The share a desk should expect: about 2% of customers cannot be satisfied.
    pub inconsolable_reference: f64,
    pub started_negative: i64,
    pub recovered: i64,
    /// recovered / started_negative.
    pub recovery_rate: Option<f64>,
    /// By rung and reason; never by agent.
    pub escalations: Vec<EscalationCountView>,
    pub transfers: i64,
    pub transfers_per_ticket: Option<f64>,
    pub ping_pong: i64,
    pub referrals: i64,
    pub returned_after_referral: i64,
    pub survey_answers: i64,
    /// Mean product rating, 1–5.
    pub product_satisfaction: Option<f64>,
    /// Mean of pleasantness and competence, 1–5.
    pub service_satisfaction: Option<f64>,
    pub pleasantness: Option<f64>,
    pub competence: Option<f64>,
    /// % promoters (9–10) − % detractors (0–6).
    pub nps: Option<f64>,
    /// Mean minutes from opening to the first message to the customer.
    pub first_response_minutes: Option<f64>,
    /// Mean minutes from opening to resolution.
    pub resolution_minutes: Option<f64>,
    /// Share of ended tickets whose SLA deadlines were all met.
    pub sla_attainment: Option<f64>,
}

fn instant(
    raw: Option<&str>,
    field: &'static str,
) -> Result<Option<recourse_domain::Millis>, ApiError> {
    raw.map(|s| {
        recourse_domain::sla::parse_instant(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_time",
                format!("`{field}` is an RFC 3339 time, e.g. 2026-11-01T00:00:00Z."),
            )
        })
    })
    .transpose()
}

#[utoipa::path(
    get, path = "/api/v1/reports/summary", tag = "recovery",
    params(ReportParams),
    responses((status = 200, body = ReportView), (status = 400, body = ErrorBody), (status = 403, description = "Managers and admins", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<Json<ReportView>, ApiError> {
    caller.require_role(Role::Manager)?;
    let to = instant(p.to.as_deref(), "to")?.unwrap_or_else(now);
    let from = instant(p.from.as_deref(), "from")?
        .unwrap_or(recourse_domain::Millis(to.0 - 30 * 24 * 3_600_000));
    if from >= to {
        return Err(ApiError::bad_request(
            "invalid_range",
            "`from` must come before `to`.",
        ));
    }
    let s = state
        .store
        .report_summary(&ReportQuery {
            from,
            to,
            team: p.team.map(TeamId),
        })
        .await?;
    Ok(Json(ReportView {
        from: rfc3339(from),
        to: rfc3339(to),
        team: p.team,
        ended: s.ended,
        outcomes: s
            .outcomes
            .iter()
            .map(|(k, c)| Count {
                key: k.clone(),
                count: *c,
            })
            .collect(),
        inconsolable: s.inconsolable,
        inconsolable_share: s.inconsolable_share(),
        inconsolable_reference: recourse_domain::recovery::ReportCounts::INCONSOLABLE_REFERENCE,
        started_negative: s.started_negative,
        recovered: s.recovered,
        recovery_rate: s.recovery_rate(),
        escalations: s
            .escalations
            .iter()
            .map(|(r, why, c)| EscalationCountView {
                to_rung: r.clone(),
                reason: why.clone(),
                count: *c,
            })
            .collect(),
        transfers: s.transfers,
        transfers_per_ticket: s.transfers_per_ticket(),
        ping_pong: s.ping_pong,
        referrals: s.referrals,
        returned_after_referral: s.returned_after_referral,
        survey_answers: s.survey_answers,
        product_satisfaction: s.product_satisfaction(),
        service_satisfaction: s.service_satisfaction(),
        pleasantness: s.pleasantness(),
        competence: s.competence(),
        nps: s.nps(),
        first_response_minutes: s.first_response_minutes(),
        resolution_minutes: s.resolution_minutes(),
        sla_attainment: s.sla_attainment(),
    }))
}
