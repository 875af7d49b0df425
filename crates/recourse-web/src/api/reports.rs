//! The recovery report over HTTP: how tickets ended, escalations, referrals and
//! satisfaction over a range.

use axum::Json;
use axum::extract::State;
use recourse_desk::ReportQuery;
use recourse_domain::{Role, TeamId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::{AppState, now, rfc3339};

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
    let q = report_query(&p)?;
    Ok(Json(report_view(&state, &q).await?))
}

/// The report's range and team from the request; 30 days to now by default.
pub(crate) fn report_query(p: &ReportParams) -> Result<ReportQuery, ApiError> {
    let to = instant(p.to.as_deref(), "to")?.unwrap_or_else(now);
    let from = instant(p.from.as_deref(), "from")?
        .unwrap_or(recourse_domain::Millis(to.0 - 30 * 24 * 3_600_000));
    if from >= to {
        return Err(ApiError::bad_request(
            "invalid_range",
            "`from` must come before `to`.",
        ));
    }
    Ok(ReportQuery {
        from,
        to,
        team: p.team.map(TeamId),
    })
}

/// The report's figures for a range, as the API shows them.
pub(crate) async fn report_view(state: &AppState, q: &ReportQuery) -> Result<ReportView, ApiError> {
    let s = state.store.report_summary(q).await?;
    Ok(ReportView {
        from: rfc3339(q.from),
        to: rfc3339(q.to),
        team: q.team.map(|t| t.0),
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
    })
}
