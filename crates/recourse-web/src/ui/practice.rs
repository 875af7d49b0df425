//! The practice desk in the console: pick a made-up customer, write a reply, and see
//! the coach's verdict next to an example answer; your own progress over time; the
//! team's practice together for managers (never split by person, DESIGN P3). No page
//! here reads or writes a ticket or a customer.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use recourse_desk::PracticeScenario;
use recourse_desk::practice::{KINDS, kind_label};
use recourse_domain::Agent;
use serde::Deserialize;

use super::{PostForm, Session, error_response, render, when};
use crate::AppState;
use crate::api::practice::{
    ProgressView, RehearsalView, TallyView, progress_view, rehearsal_view, team_view,
};
use crate::error::ApiError;
use crate::extract::parse_id;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/practice", get(home))
        .route("/console/practice/team", get(team))
        .route(
            "/console/practice/{id}",
            get(scenario_page).post(submit_reply),
        )
}

struct Group {
    label: &'static str,
    scenarios: Vec<PracticeScenario>,
}

struct Recent {
    subject: String,
    score: i64,
    when: String,
}

#[derive(Template)]
#[template(path = "practice.html")]
struct HomePage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    manager: bool,
    groups: Vec<Group>,
    progress: ProgressView,
    recent: Vec<Recent>,
}

async fn home(State(state): State<AppState>, s: Session, headers: HeaderMap) -> Response {
    match home_inner(&state, &s).await {
        Ok(r) => r,
        Err(e) => error_response(&headers, &s, &e, "/console"),
    }
}

async fn home_inner(state: &AppState, s: &Session) -> Result<Response, ApiError> {
    let now = crate::now();
    let all = state.desk.practice_scenarios(now).await?;
    let progress = progress_view(state.desk.practice_progress(s.agent.id, now).await?);
    let recent = progress
        .recent
        .iter()
        .take(10)
        .map(|a| Recent {
            subject: all
                .iter()
                .find(|sc| sc.id == a.scenario_id)
                .map_or_else(String::new, |sc| sc.subject.clone()),
            score: a.score,
            when: when(&a.created_at),
        })
        .collect();
    let groups = KINDS
        .iter()
        .map(|k| Group {
            label: kind_label(k),
            scenarios: all.iter().filter(|sc| sc.kind == *k).cloned().collect(),
        })
        .collect();
    Ok(render(&HomePage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        manager: s.is_manager(),
        groups,
        progress,
        recent,
    }))
}

#[derive(Template)]
#[template(path = "practice_scenario.html")]
struct ScenarioPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    scenario: PracticeScenario,
    kind: &'static str,
    reply: String,
    error: Option<String>,
    result: Option<RehearsalView>,
}

async fn scenario_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let found = async {
        let id = parse_id(&id, "scenario")?;
        Ok::<_, ApiError>(state.desk.practice_scenario(id, crate::now()).await?)
    }
    .await;
    match found {
        Ok(scenario) => render(&ScenarioPage {
            me: Some(&s.agent),
            csrf: &s.csrf,
            kind: kind_label(&scenario.kind),
            scenario,
            reply: String::new(),
            error: None,
            result: None,
        }),
        Err(e) => error_response(&headers, &s, &e, "/console/practice"),
    }
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    reply: String,
}

async fn submit_reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<ReplyForm>,
) -> Response {
    let s = &f.session;
    let now = crate::now();
    let scenario = async {
        let id = parse_id(&id, "scenario")?;
        Ok::<_, ApiError>(state.desk.practice_scenario(id, now).await?)
    }
    .await;
    let scenario = match scenario {
        Ok(sc) => sc,
        Err(e) => return error_response(&f.headers, s, &e, "/console/practice"),
    };
    match state
        .desk
        .practise(s.agent.id, scenario.id, &f.form.reply, now)
        .await
    {
        Ok(r) => render(&ScenarioPage {
            me: Some(&s.agent),
            csrf: &s.csrf,
            kind: kind_label(&scenario.kind),
            scenario,
            reply: f.form.reply,
            error: None,
            result: Some(rehearsal_view(r)),
        }),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status;
            // The form again, with the reply as typed (an over-long one is not echoed).
            let reply = if f.form.reply.len() > recourse_desk::practice::MAX_REPLY_BYTES {
                String::new()
            } else {
                f.form.reply
            };
            let mut r = render(&ScenarioPage {
                me: Some(&s.agent),
                csrf: &s.csrf,
                kind: kind_label(&scenario.kind),
                scenario,
                reply,
                error: Some(e.message),
                result: None,
            });
            *r.status_mut() = status;
            r
        }
    }
}

#[derive(Template)]
#[template(path = "practice_team.html")]
struct TeamPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    attempts: i64,
    by_kind: Vec<TallyView>,
    by_day: Vec<TallyView>,
}

async fn team(State(state): State<AppState>, s: Session, headers: HeaderMap) -> Response {
    match state.desk.practice_team(&s.agent, crate::now()).await {
        Ok(t) => {
            let t = team_view(t);
            render(&TeamPage {
                me: Some(&s.agent),
                csrf: &s.csrf,
                attempts: t.attempts,
                by_kind: t.by_kind,
                by_day: t.by_day,
            })
        }
        Err(e) => {
            let mut r = error_response(&headers, &s, &ApiError::from(e), "/console/practice");
            if r.status() == StatusCode::OK && !super::is_htmx(&headers) {
                *r.status_mut() = StatusCode::FORBIDDEN;
            }
            r
        }
    }
}
