//! The desk's settings over HTTP: the ladder's rungs, the SLA policy and business-hours
//! calendar, the automatic escalation rules and the customer-facing message templates.

use axum::Json;
use axum::extract::{Path, State};
use recourse_desk::config::keys;
use recourse_domain::ladder::EscalationRules;
use recourse_domain::sla::CalendarSpec;
use recourse_domain::template::{TEMPLATE_KEYS, Template, default_template};
use recourse_domain::{Calendar, Ladder, Role, SlaPolicy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::views::words;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::{AppState, now};

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

pub(crate) fn to_json(v: &impl Serialize) -> String {
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
    let ladder = ladder_from(body)?;
    state
        .store
        .put_setting(keys::LADDER, &to_json(&ladder), caller.actor(), now())
        .await?;
    Ok(Json((&ladder).into()))
}

/// Targets in business minutes per priority, and how early to warn the assignee.
/// The ladder a body describes, if the domain accepts it.
pub(crate) fn ladder_from(body: LadderBody) -> Result<Ladder, ApiError> {
    Ok(Ladder::new(
        body.rungs
            .into_iter()
            .map(|r| recourse_domain::Rung {
                name: r.name,
                role: r.role,
                min_experience: r.min_experience,
                title: r.title,
            })
            .collect(),
    )?)
}

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

pub(crate) fn policy_body(p: &SlaPolicy) -> SlaPolicyBody {
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
    let policy = sla_policy_from(body)?;
    state
        .store
        .put_setting(keys::SLA_POLICY, &to_json(&policy), caller.actor(), now())
        .await?;
    Ok(Json(policy_body(&policy)))
}

/// When the desk works. Deadlines count only these hours.
/// The SLA policy a body describes, if its targets make sense.
pub(crate) fn sla_policy_from(body: SlaPolicyBody) -> Result<SlaPolicy, ApiError> {
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
    Ok(policy)
}

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

pub(crate) fn calendar_body(c: CalendarSpec) -> CalendarBody {
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
    let spec = calendar_from(body)?;
    state
        .store
        .put_setting(keys::CALENDAR, &to_json(&spec), caller.actor(), now())
        .await?;
    Ok(Json(calendar_body(spec)))
}

/// The automatic escalation rules; 0 turns a threshold rule off.
/// The business-hours calendar a body describes, if it parses.
pub(crate) fn calendar_from(body: CalendarBody) -> Result<CalendarSpec, ApiError> {
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
    Ok(spec)
}

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
    Ok(Json(rules_body(&state.store.desk_config().await?.rules)))
}

pub(crate) fn rules_body(r: &EscalationRules) -> RulesBody {
    RulesBody {
        repeated_contact_after: r.repeated_contact_after,
        angry_after_interventions: r.angry_after_interventions,
        abuse_to_top: r.abuse_to_top,
        ping_pong_after: r.ping_pong_after,
    }
}

pub(crate) fn rules_from(body: &RulesBody) -> EscalationRules {
    EscalationRules {
        repeated_contact_after: body.repeated_contact_after,
        angry_after_interventions: body.angry_after_interventions,
        abuse_to_top: body.abuse_to_top,
        ping_pong_after: body.ping_pong_after,
    }
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
    let rules = rules_from(&body);
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

pub(crate) async fn template_view(state: &AppState, key: &str) -> Result<TemplateView, ApiError> {
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
