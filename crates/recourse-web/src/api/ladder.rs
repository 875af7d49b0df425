//! The escalation ladder over HTTP: its configuration (rungs, SLA policy, calendar,
//! automatic rules, templates), escalating with a handoff message, moving down,
//! presence, demeanor readings, the sweeper and webhooks.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_domain::ladder::EscalationRules;
use recourse_domain::sla::CalendarSpec;
use recourse_domain::template::{TEMPLATE_KEYS, Template, default_template};
use recourse_domain::{
    AgentId, Body, Calendar, Demeanor, EscalationReason, Ladder, MessageId, Role, SlaPolicy,
    TicketId,
};
use recourse_store::config::keys;
use recourse_store::{Descent, EscalationRecord, EscalationRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::tickets::visible_ticket;
use super::views::{AgentView, TicketView, words};
use crate::auth::{Caller, new_secret};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, parse_id};
use crate::{AppState, now, rfc3339};

// ---------- configuration ----------

/// The ladder as the API shows it: rungs from first (where tickets start) to top.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LadderBody {
    pub rungs: Vec<RungBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RungBody {
    /// Lower-case slug, e.g. `experienced`.
    pub name: String,
    /// The least role that may work the rung.
    #[schema(schema_with = words::role)]
    pub role: Role,
    /// The least experience that may work the rung.
    #[schema(schema_with = words::experience)]
    pub min_experience: recourse_domain::Experience,
    /// How customers hear about whoever works it, e.g. "a support manager".
    pub title: String,
}

impl From<&Ladder> for LadderBody {
    fn from(l: &Ladder) -> Self {
        LadderBody {
            rungs: l
                .rungs()
                .iter()
                .map(|r| RungBody {
                    name: r.name.clone(),
                    role: r.role,
                    min_experience: r.min_experience,
                    title: r.title.clone(),
                })
                .collect(),
        }
    }
}

fn to_json(v: &impl Serialize) -> String {
    // Plain data structures: serialising cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

#[utoipa::path(
    get, path = "/api/v1/ladder", tag = "ladder",
    responses((status = 200, body = LadderBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_ladder(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<LadderBody>, ApiError> {
    caller.require_agent()?;
    Ok(Json((&state.store.desk_config().await?.ladder).into()))
}

#[utoipa::path(
    put, path = "/api/v1/ladder", tag = "ladder",
    request_body = LadderBody,
    responses((status = 200, body = LadderBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn put_ladder(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<LadderBody>,
) -> Result<Json<LadderBody>, ApiError> {
    caller.require_role(Role::Admin)?;
    let ladder = Ladder::new(
        body.rungs
            .into_iter()
            .map(|r| recourse_domain::Rung {
                name: r.name,
                role: r.role,
                min_experience: r.min_experience,
                title: r.title,
            })
            .collect(),
    )?;
    state
        .store
        .put_setting(keys::LADDER, &to_json(&ladder), caller.actor(), now())
        .await?;
    Ok(Json((&ladder).into()))
}

/// Targets in business minutes per priority, and how early to warn the assignee.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicyBody {
    pub warn_before_minutes: u32,
    pub low: SlaTargetBody,
    pub normal: SlaTargetBody,
    pub high: SlaTargetBody,
    pub urgent: SlaTargetBody,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaTargetBody {
    pub first_response_minutes: u32,
    pub next_update_minutes: u32,
    pub resolution_minutes: u32,
}

fn policy_body(p: &SlaPolicy) -> SlaPolicyBody {
    let t = |t: recourse_domain::sla::SlaTarget| SlaTargetBody {
        first_response_minutes: t.first_response_minutes,
        next_update_minutes: t.next_update_minutes,
        resolution_minutes: t.resolution_minutes,
    };
    SlaPolicyBody {
        warn_before_minutes: p.warn_before_minutes,
        low: t(p.low),
        normal: t(p.normal),
        high: t(p.high),
        urgent: t(p.urgent),
    }
}

#[utoipa::path(
    get, path = "/api/v1/sla/policy", tag = "ladder",
    responses((status = 200, body = SlaPolicyBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_sla_policy(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SlaPolicyBody>, ApiError> {
    caller.require_agent()?;
    Ok(Json(policy_body(&state.store.desk_config().await?.sla)))
}

#[utoipa::path(
    put, path = "/api/v1/sla/policy", tag = "ladder",
    request_body = SlaPolicyBody,
    responses((status = 200, body = SlaPolicyBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn put_sla_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SlaPolicyBody>,
) -> Result<Json<SlaPolicyBody>, ApiError> {
    caller.require_role(Role::Admin)?;
    let t = |t: SlaTargetBody| recourse_domain::sla::SlaTarget {
        first_response_minutes: t.first_response_minutes,
        next_update_minutes: t.next_update_minutes,
        resolution_minutes: t.resolution_minutes,
    };
    let policy = SlaPolicy {
        warn_before_minutes: body.warn_before_minutes,
        low: t(body.low),
        normal: t(body.normal),
        high: t(body.high),
        urgent: t(body.urgent),
    };
    policy.validate()?;
    state
        .store
        .put_setting(keys::SLA_POLICY, &to_json(&policy), caller.actor(), now())
        .await?;
    Ok(Json(policy_body(&policy)))
}

/// When the desk works. Deadlines count only these hours.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    /// IANA name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub hours: Vec<OpeningHoursBody>,
    /// `YYYY-MM-DD`, local dates the desk is closed.
    #[serde(default)]
    pub holidays: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHoursBody {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM`.
    pub open: String,
    /// `HH:MM`; `24:00` for the end of the day.
    pub close: String,
}

fn calendar_body(c: CalendarSpec) -> CalendarBody {
    CalendarBody {
        time_zone: c.time_zone,
        hours: c
            .hours
            .into_iter()
            .map(|h| OpeningHoursBody {
                days: h.days,
                open: h.open,
                close: h.close,
            })
            .collect(),
        holidays: c.holidays,
    }
}

#[utoipa::path(
    get, path = "/api/v1/sla/calendar", tag = "ladder",
    responses((status = 200, body = CalendarBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_calendar(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CalendarBody>, ApiError> {
    caller.require_agent()?;
    Ok(Json(calendar_body(
        state.store.desk_config().await?.calendar_spec,
    )))
}

#[utoipa::path(
    put, path = "/api/v1/sla/calendar", tag = "ladder",
    request_body = CalendarBody,
    responses((status = 200, body = CalendarBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn put_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CalendarBody>,
) -> Result<Json<CalendarBody>, ApiError> {
    caller.require_role(Role::Admin)?;
    let spec = CalendarSpec {
        time_zone: body.time_zone,
        hours: body
            .hours
            .into_iter()
            .map(|h| recourse_domain::sla::OpeningHours {
                days: h.days,
                open: h.open,
                close: h.close,
            })
            .collect(),
        holidays: body.holidays,
    };
    Calendar::parse(&spec)?;
    state
        .store
        .put_setting(keys::CALENDAR, &to_json(&spec), caller.actor(), now())
        .await?;
    Ok(Json(calendar_body(spec)))
}

/// The automatic escalation rules; 0 turns a threshold rule off.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    /// Escalate when the customer has written this many times without an answer.
    pub repeated_contact_after: u32,
    /// Escalate when the customer still reads angry after this many interventions.
    pub angry_after_interventions: u32,
    /// Move abusive cases straight to the top rung.
    pub abuse_to_top: bool,
    /// Flag a ticket for managers when it is transferred more than this many times
    /// without an answer to the customer.
    pub ping_pong_after: u32,
}

#[utoipa::path(
    get, path = "/api/v1/escalation-rules", tag = "ladder",
    responses((status = 200, body = RulesBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_rules(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RulesBody>, ApiError> {
    caller.require_agent()?;
    let r = state.store.desk_config().await?.rules;
    Ok(Json(RulesBody {
        repeated_contact_after: r.repeated_contact_after,
        angry_after_interventions: r.angry_after_interventions,
        abuse_to_top: r.abuse_to_top,
        ping_pong_after: r.ping_pong_after,
    }))
}

#[utoipa::path(
    put, path = "/api/v1/escalation-rules", tag = "ladder",
    request_body = RulesBody,
    responses((status = 200, body = RulesBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn put_rules(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RulesBody>,
) -> Result<Json<RulesBody>, ApiError> {
    caller.require_role(Role::Admin)?;
    let rules = EscalationRules {
        repeated_contact_after: body.repeated_contact_after,
        angry_after_interventions: body.angry_after_interventions,
        abuse_to_top: body.abuse_to_top,
        ping_pong_after: body.ping_pong_after,
    };
    state
        .store
        .put_setting(
            keys::ESCALATION_RULES,
            &to_json(&rules),
            caller.actor(),
            now(),
        )
        .await?;
    Ok(Json(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub key: String,
    pub body: String,
    /// The variables the template may use, written `{{name}}`.
    pub variables: Vec<String>,
    /// Whether this is the built-in text (no edit stored).
    pub is_default: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub body: String,
}

async fn template_view(state: &AppState, key: &str) -> Result<TemplateView, ApiError> {
    let Some((key, vars)) = TEMPLATE_KEYS.iter().find(|(k, _)| *k == key) else {
        return Err(ApiError::not_found("template"));
    };
    let stored = state
        .store
        .setting(&format!("{}{key}", keys::TEMPLATE_PREFIX))
        .await?;
    Ok(TemplateView {
        key: (*key).to_owned(),
        is_default: stored.is_none(),
        body: stored.unwrap_or_else(|| default_template(key).unwrap_or_default().to_owned()),
        variables: vars.iter().map(|v| (*v).to_owned()).collect(),
    })
}

#[utoipa::path(
    get, path = "/api/v1/templates", tag = "ladder",
    responses((status = 200, body = [TemplateView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TemplateView>>, ApiError> {
    caller.require_agent()?;
    let mut out = Vec::new();
    for (key, _) in TEMPLATE_KEYS {
        out.push(template_view(&state, key).await?);
    }
    Ok(Json(out))
}

#[utoipa::path(
    put, path = "/api/v1/templates/{key}", tag = "ladder",
    params(("key" = String, Path, description = "Template key, e.g. `handoff`")),
    request_body = TemplateBody,
    responses((status = 200, body = TemplateView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn put_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<Json<TemplateView>, ApiError> {
    caller.require_role(Role::Admin)?;
    let t = Template::parse(&key, &body.body)?;
    state
        .store
        .put_setting(
            &format!("{}{}", keys::TEMPLATE_PREFIX, t.key()),
            t.body(),
            caller.actor(),
            now(),
        )
        .await?;
    Ok(Json(template_view(&state, t.key()).await?))
}

#[utoipa::path(
    delete, path = "/api/v1/templates/{key}", tag = "ladder",
    params(("key" = String, Path, description = "Template key")),
    responses((status = 200, description = "Back to the built-in text", body = TemplateView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn reset_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<TemplateView>, ApiError> {
    caller.require_role(Role::Admin)?;
    if default_template(&key).is_none() {
        return Err(ApiError::not_found("template"));
    }
    state
        .store
        .reset_setting(
            &format!("{}{key}", keys::TEMPLATE_PREFIX),
            caller.actor(),
            now(),
        )
        .await?;
    Ok(Json(template_view(&state, &key).await?))
}

// ---------- moving on the ladder ----------

/// Whether the caller works this ticket: its assignee, anyone who may work its rung,
/// or a manager. Escalating is open to all of them, without a reason to justify (P3).
pub(crate) fn may_work(caller: &Caller, ladder: &Ladder, ticket: &recourse_domain::Ticket) -> bool {
    let Some(agent) = caller.agent() else {
        return false;
    };
    ticket.assignee_id == Some(agent.id)
        || agent.role.at_least(Role::Manager)
        || ladder
            .get(&ticket.rung)
            .is_some_and(|r| r.admits(agent.role, agent.experience))
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
    caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let ladder = state.store.desk_config().await?.ladder;
    if !may_work(&caller, &ladder, &ticket) {
        return Err(ApiError::forbidden(
            "Only someone working this ticket (its assignee, anyone on its rung, or a manager) can escalate it.",
        ));
    }
    let message = match body.message {
        Some(m) => Some(Body::parse(&m)?),
        None => None,
    };
    let after = state
        .desk
        .escalate(EscalationRequest {
            ticket_id: ticket.id,
            reason: body.reason,
            note: note_of(body.note),
            message,
            assignee: body.assignee_id.map(AgentId),
            channel: caller.channel(),
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

// ---------- presence and readings ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    /// `false` marks the agent away: no new work, and their active tickets are handed on.
    pub present: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceResult {
    pub agent: AgentView,
    /// Tickets handed on because the agent went away.
    pub reassigned: Vec<i64>,
}

#[utoipa::path(
    put, path = "/api/v1/agents/{id}/presence", tag = "agents",
    params(("id" = i64, Path, description = "Agent id")),
    request_body = PresenceBody,
    responses((status = 200, body = PresenceResult), (status = 403, description = "Yourself, or a manager for anyone", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn set_presence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PresenceBody>,
) -> Result<Json<PresenceResult>, ApiError> {
    let me = caller.require_agent()?;
    let id = AgentId(parse_id(&id, "agent")?);
    if id != me.id && !me.role.at_least(Role::Manager) {
        return Err(ApiError::forbidden(
            "Agents set their own presence; a manager may set anyone's.",
        ));
    }
    let (agent, moved) = state
        .desk
        .set_presence(id, body.present, caller.actor(), now())
        .await?;
    Ok(Json(PresenceResult {
        agent: agent.into(),
        reassigned: moved.into_iter().map(|t| t.0).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemeanorBody {
    #[schema(schema_with = words::demeanor)]
    pub demeanor: Demeanor,
}

#[utoipa::path(
    put, path = "/api/v1/tickets/{id}/messages/{message_id}/demeanor", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id"), ("message_id" = i64, Path, description = "Message id")),
    request_body = DemeanorBody,
    responses(
        (status = 200, description = "Recorded; the automatic rules ran on it", body = TicketView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn set_demeanor(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, message_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<DemeanorBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let message = MessageId(parse_id(&message_id, "message")?);
    let belongs = state
        .store
        .messages(ticket.id)
        .await?
        .iter()
        .any(|m| m.id == message);
    if !belongs {
        return Err(ApiError::not_found("message"));
    }
    let after = state
        .desk
        .set_demeanor(message, body.demeanor, caller.actor(), now())
        .await?;
    Ok(Json(after.into()))
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

// ---------- webhooks ----------

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

impl From<recourse_store::Webhook> for WebhookView {
    fn from(w: recourse_store::Webhook) -> Self {
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
    let secret = new_secret("whsec");
    let hook = state
        .store
        .create_webhook(url, &secret, &events, now())
        .await?;
    let mut view: WebhookView = hook.into();
    view.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
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
