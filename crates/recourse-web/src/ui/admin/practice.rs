//! The practice scenarios: admins add a made-up customer for agents to rehearse on, or
//! edit one (the shipped library's included). Saved through the practice API, which
//! checks every field.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_desk::practice::{KINDS, kind_label};
use recourse_domain::Agent;

use super::form::{Pairs, Query, admins_only, field, notice, page, submit};
use crate::AppState;
use crate::api::practice::{self, ScenarioBody};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::ui::{PostForm, Session, render};

#[derive(Default)]
struct ScenarioRow {
    id: i64,
    kind: String,
    subject: String,
    topic: String,
    customer_message: String,
    need: String,
    good_answer: String,
    example_answer: String,
}

#[derive(Template)]
#[template(path = "admin_practice.html")]
struct PracticePage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    kinds: Vec<(&'static str, &'static str)>,
    scenarios: Vec<ScenarioRow>,
    new_scenario: ScenarioRow,
}

async fn practice_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    typed: ScenarioRow,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let all = practice::list_scenarios(State(state.clone()), s.caller())
        .await?
        .0;
    Ok(render(&PracticePage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "practice",
        notice,
        error,
        kinds: KINDS.iter().map(|k| (*k, kind_label(k))).collect(),
        scenarios: all
            .into_iter()
            .map(|v| ScenarioRow {
                id: v.id,
                kind: v.kind,
                subject: v.subject,
                topic: v.topic,
                customer_message: v.customer_message,
                need: v.need,
                good_answer: v.good_answer,
                example_answer: v.example_answer,
            })
            .collect(),
        new_scenario: typed,
    }))
}

pub(super) async fn practice_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = practice_view(&state, &s, notice(&q), None, ScenarioRow::default()).await;
    page(&headers, &s, r)
}

fn typed_scenario(f: &Pairs) -> ScenarioRow {
    ScenarioRow {
        id: 0,
        kind: field(f, "kind"),
        subject: field(f, "subject"),
        topic: field(f, "topic"),
        customer_message: field(f, "customer_message"),
        need: field(f, "need"),
        good_answer: field(f, "good_answer"),
        example_answer: field(f, "example_answer"),
    }
}

fn body(s: &ScenarioRow) -> ScenarioBody {
    ScenarioBody {
        kind: s.kind.clone(),
        subject: s.subject.clone(),
        topic: s.topic.clone(),
        customer_message: s.customer_message.clone(),
        need: s.need.clone(),
        good_answer: s.good_answer.clone(),
        example_answer: s.example_answer.clone(),
    }
}

pub(super) async fn add_scenario(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let s = &f.session;
    submit(
        &f,
        typed_scenario(&f.form),
        "/admin/practice?done=scenario_added",
        async |typed| {
            practice::create_scenario(State(state.clone()), s.caller(), ApiJson(body(typed))).await
        },
        async |typed, e| practice_view(&state, s, None, Some(e.message), typed).await,
    )
    .await
}

pub(super) async fn save_scenario(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let s = &f.session;
    submit(
        &f,
        typed_scenario(&f.form),
        "/admin/practice?done=scenario_saved",
        async |typed| {
            practice::update_scenario(
                State(state.clone()),
                s.caller(),
                Path(id),
                ApiJson(body(typed)),
            )
            .await
        },
        async |_, e| practice_view(&state, s, None, Some(e.message), ScenarioRow::default()).await,
    )
    .await
}
