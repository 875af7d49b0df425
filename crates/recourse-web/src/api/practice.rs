//! The practice desk over HTTP: scenarios to rehearse on, a scored attempt, an agent's
//! own progress and the team's together (never split by person, DESIGN P3), and the
//! admins' scenario editing. Practice touches no ticket or customer.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_desk::practice::{self, Progress, Rehearsal, TeamPractice};
use recourse_desk::{NewPracticeScenario, PracticeAttempt, PracticeScenario, PracticeTally};
use recourse_domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::judge::CoachFlagView;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, parse_id};
use crate::{AppState, now, rfc3339};

#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioView {
    pub id: i64,
    /// The library's key for a shipped scenario; null for one an admin wrote.
    pub slug: Option<String>,
    /// frontline_recovery, repeated_contact, cant_help, abuse, referral or inconsolable.
    pub kind: String,
    /// The kind for people ("When we can't help").
    pub kind_label: String,
    pub subject: String,
    pub topic: String,
    /// What the (made-up) customer wrote.
    pub customer_message: String,
    /// What the customer needs.
    pub need: String,
    /// What a good answer offers.
    pub good_answer: String,
    pub example_answer: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<PracticeScenario> for ScenarioView {
    fn from(s: PracticeScenario) -> Self {
        ScenarioView {
            id: s.id,
            slug: s.slug,
            kind_label: practice::kind_label(&s.kind).to_owned(),
            kind: s.kind,
            subject: s.subject,
            topic: s.topic,
            customer_message: s.customer_message,
            need: s.need,
            good_answer: s.good_answer,
            example_answer: s.example_answer,
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioBody {
    /// frontline_recovery, repeated_contact, cant_help, abuse, referral or inconsolable.
    pub kind: String,
    /// One line, at most 200 characters.
    pub subject: String,
    /// One line, at most 40 characters (delivery, refund, billing, repair, account…).
    pub topic: String,
    pub customer_message: String,
    /// One line, at most 300 characters.
    pub need: String,
    pub good_answer: String,
    pub example_answer: String,
}

impl From<ScenarioBody> for NewPracticeScenario {
    fn from(b: ScenarioBody) -> Self {
        NewPracticeScenario {
            slug: None,
            kind: b.kind,
            subject: b.subject,
            topic: b.topic,
            customer_message: b.customer_message,
            need: b.need,
            good_answer: b.good_answer,
            example_answer: b.example_answer,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    /// The trainee's reply to the customer; 1 to 10,000 bytes.
    pub reply: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub id: i64,
    pub scenario_id: i64,
    pub reply: String,
    /// 0 to 100.
    pub score: i64,
    /// The coach's flag identifiers.
    pub flags: Vec<String>,
    pub created_at: String,
}

impl From<PracticeAttempt> for AttemptView {
    fn from(a: PracticeAttempt) -> Self {
        AttemptView {
            id: a.id,
            scenario_id: a.scenario_id,
            reply: a.reply,
            score: a.score,
            flags: a.flags,
            created_at: rfc3339(a.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    /// What a good answer does ("Offers something concrete").
    pub label: String,
    pub passed: bool,
    /// Its share of the score.
    pub weight: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RehearsalView {
    pub attempt: AttemptView,
    /// 0 to 100: 100 less the weight of each check missed.
    pub score: i64,
    /// Ready to send, Nearly there, or Try again.
    pub verdict: String,
    pub checks: Vec<CheckView>,
    /// The coach's advice on the reply.
    pub flags: Vec<CoachFlagView>,
    pub good_answer: String,
    pub example_answer: String,
}

pub(crate) fn rehearsal_view(r: Rehearsal) -> RehearsalView {
    RehearsalView {
        score: r.attempt.score,
        attempt: r.attempt.into(),
        verdict: r.verdict.to_owned(),
        checks: r
            .checks
            .into_iter()
            .map(|c| CheckView {
                label: c.label.to_owned(),
                passed: c.passed,
                weight: c.weight,
            })
            .collect(),
        flags: r
            .flags
            .into_iter()
            .map(|f| CoachFlagView {
                kind: f.kind.as_str().to_owned(),
                label: f.label.to_owned(),
                explanation: f.explanation,
                hint: f.hint,
                evidence: f.evidence,
                missing: f.missing,
            })
            .collect(),
        good_answer: r.scenario.good_answer,
        example_answer: r.scenario.example_answer,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TallyView {
    /// The scenario kind, or the day (YYYY-MM-DD, UTC).
    pub key: String,
    /// The kind for people, or the day again.
    pub label: String,
    pub attempts: i64,
    /// 0 to 100, one decimal.
    pub average_score: f64,
}

fn kind_tally(t: PracticeTally) -> TallyView {
    TallyView {
        label: practice::kind_label(&t.key).to_owned(),
        average_score: (t.average() * 10.0).round() / 10.0,
        attempts: t.attempts,
        key: t.key,
    }
}

fn day_tally(t: PracticeTally) -> TallyView {
    let day = t.key.parse::<i64>().unwrap_or(0);
    let date = rfc3339(recourse_domain::Millis(day * 86_400_000))
        .get(..10)
        .unwrap_or_default()
        .to_owned();
    TallyView {
        key: date.clone(),
        label: date,
        average_score: (t.average() * 10.0).round() / 10.0,
        attempts: t.attempts,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    /// Your attempts, newest first (up to 50).
    pub recent: Vec<AttemptView>,
    pub by_kind: Vec<TallyView>,
    /// The last 90 days with attempts, oldest first.
    pub by_day: Vec<TallyView>,
}

pub(crate) fn progress_view(p: Progress) -> ProgressView {
    ProgressView {
        recent: p.recent.into_iter().map(Into::into).collect(),
        by_kind: p.by_kind.into_iter().map(kind_tally).collect(),
        by_day: p.by_day.into_iter().map(day_tally).collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamPracticeView {
    /// Every attempt by anyone, ever.
    pub attempts: i64,
    /// Attempts and average score by scenario kind, the whole team together.
    pub by_kind: Vec<TallyView>,
    /// The last 90 days with attempts, oldest first.
    pub by_day: Vec<TallyView>,
}

pub(crate) fn team_view(t: TeamPractice) -> TeamPracticeView {
    TeamPracticeView {
        attempts: t.by_kind.iter().map(|k| k.attempts).sum(),
        by_kind: t.by_kind.into_iter().map(kind_tally).collect(),
        by_day: t.by_day.into_iter().map(day_tally).collect(),
    }
}

#[utoipa::path(
    get, path = "/api/v1/practice/scenarios", tag = "practice",
    responses((status = 200, description = "Every scenario, by kind", body = [ScenarioView]), (status = 401, body = ErrorBody), (status = 403, description = "Agents only", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_scenarios(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ScenarioView>>, ApiError> {
    caller.require_agent()?;
    let all = state.desk.practice_scenarios(now()).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

#[utoipa::path(
    post, path = "/api/v1/practice/scenarios", tag = "practice",
    request_body = ScenarioBody,
    responses((status = 201, body = ScenarioView), (status = 403, description = "Admins only", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn create_scenario(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ScenarioBody>,
) -> Result<(StatusCode, Json<ScenarioView>), ApiError> {
    let admin = caller.require_role(Role::Admin)?;
    let s = state
        .desk
        .save_practice_scenario(admin, None, body.into(), now())
        .await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

#[utoipa::path(
    get, path = "/api/v1/practice/scenarios/{id}", tag = "practice",
    params(("id" = i64, Path, description = "Scenario id")),
    responses((status = 200, body = ScenarioView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_scenario(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ScenarioView>, ApiError> {
    caller.require_agent()?;
    let id = parse_id(&id, "scenario")?;
    Ok(Json(state.desk.practice_scenario(id, now()).await?.into()))
}

#[utoipa::path(
    put, path = "/api/v1/practice/scenarios/{id}", tag = "practice",
    params(("id" = i64, Path, description = "Scenario id")),
    request_body = ScenarioBody,
    responses((status = 200, body = ScenarioView), (status = 403, description = "Admins only", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn update_scenario(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScenarioBody>,
) -> Result<Json<ScenarioView>, ApiError> {
    let admin = caller.require_role(Role::Admin)?;
    let id = parse_id(&id, "scenario")?;
    let s = state
        .desk
        .save_practice_scenario(admin, Some(id), body.into(), now())
        .await?;
    Ok(Json(s.into()))
}

#[utoipa::path(
    post, path = "/api/v1/practice/scenarios/{id}/attempts", tag = "practice",
    params(("id" = i64, Path, description = "Scenario id")),
    request_body = AttemptBody,
    responses((status = 201, description = "Scored and stored", body = RehearsalView), (status = 403, body = ErrorBody), (status = 404, description = "No such scenario", body = ErrorBody), (status = 422, description = "An empty or over-long reply", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn attempt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AttemptBody>,
) -> Result<(StatusCode, Json<RehearsalView>), ApiError> {
    let agent = caller.require_agent()?;
    let id = parse_id(&id, "scenario")?;
    let r = state
        .desk
        .practise(agent.id, id, &body.reply, now())
        .await?;
    Ok((StatusCode::CREATED, Json(rehearsal_view(r))))
}

#[utoipa::path(
    get, path = "/api/v1/practice/progress", tag = "practice",
    responses((status = 200, description = "Your own attempts and scores", body = ProgressView), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn progress(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProgressView>, ApiError> {
    let agent = caller.require_agent()?;
    let p = state.desk.practice_progress(agent.id, now()).await?;
    Ok(Json(progress_view(p)))
}

#[utoipa::path(
    get, path = "/api/v1/practice/team", tag = "practice",
    responses((status = 200, description = "The team's practice together, never by person", body = TeamPracticeView), (status = 403, description = "Managers and admins", body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn team(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TeamPracticeView>, ApiError> {
    let manager = caller.require_role(Role::Manager)?;
    let t = state.desk.practice_team(manager, now()).await?;
    Ok(Json(team_view(t)))
}
