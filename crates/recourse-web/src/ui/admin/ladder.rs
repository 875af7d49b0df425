//! The ladder's rungs and the automatic escalation rules, on one screen.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_domain::{Agent, Experience, Role};

use super::form::{
    Pairs, Query, admins_only, checked, field, notice, page, parse_word, submit, whole_number,
};
use crate::AppState;
use crate::api::settings;
use crate::error::ApiError;
use crate::ui::{PostForm, Session, render};
use recourse_desk::config::keys;

struct RungRow {
    index: usize,
    name: String,
    title: String,
    role: String,
    experience: String,
    /// Rungs already saved keep their name: tickets refer to it.
    existing: bool,
}

impl RungRow {
    fn is_role(&self, r: &str) -> bool {
        self.role == r
    }
    fn is_experience(&self, e: &str) -> bool {
        self.experience == e
    }
}

struct RulesForm {
    repeated_contact_after: String,
    angry_after_interventions: String,
    ping_pong_after: String,
    abuse_to_top: bool,
}

#[derive(Template)]
#[template(path = "admin_ladder.html")]
struct LadderPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    rules_error: Option<String>,
    rungs: Vec<RungRow>,
    roles: &'static [&'static str],
    experiences: &'static [&'static str],
    rules: RulesForm,
}

async fn ladder_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    rules_error: Option<String>,
    typed: Option<Vec<RungRow>>,
    typed_rules: Option<RulesForm>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let rungs = match typed {
        Some(r) => r,
        None => {
            let l = settings::LadderBody::from(&state.store.desk_config().await?.ladder);
            let mut rows: Vec<RungRow> = l
                .rungs
                .into_iter()
                .enumerate()
                .map(|(i, r)| RungRow {
                    index: i,
                    name: r.name,
                    title: r.title,
                    role: r.role.as_str().to_owned(),
                    experience: r.min_experience.as_str().to_owned(),
                    existing: true,
                })
                .collect();
            rows.push(RungRow {
                index: rows.len(),
                name: String::new(),
                title: String::new(),
                role: "manager".into(),
                experience: "senior".into(),
                existing: false,
            });
            rows
        }
    };
    let rules = match typed_rules {
        Some(r) => r,
        None => {
            let r = settings::rules_body(&state.store.desk_config().await?.rules);
            RulesForm {
                repeated_contact_after: r.repeated_contact_after.to_string(),
                angry_after_interventions: r.angry_after_interventions.to_string(),
                ping_pong_after: r.ping_pong_after.to_string(),
                abuse_to_top: r.abuse_to_top,
            }
        }
    };
    Ok(render(&LadderPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "ladder",
        notice,
        error,
        rules_error,
        rungs,
        roles: Role::WORDS,
        experiences: Experience::WORDS,
        rules,
    }))
}

pub(super) async fn ladder_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = ladder_view(&state, &s, notice(&q), None, None, None, None).await;
    page(&headers, &s, r)
}

/// The rows of the ladder form as typed (`name_0`, `title_0`, … per row).
fn typed_rungs(f: &Pairs) -> Vec<RungRow> {
    let count = f
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("title_")?.parse::<usize>().ok())
        .max()
        .map_or(0, |m| m + 1)
        .min(recourse_domain::Ladder::MAX_RUNGS + 1);
    (0..count)
        .map(|i| RungRow {
            index: i,
            name: field(f, &format!("name_{i}")),
            title: field(f, &format!("title_{i}")),
            role: field(f, &format!("role_{i}")),
            experience: field(f, &format!("experience_{i}")),
            existing: checked(f, &format!("existing_{i}")),
        })
        .collect()
}

pub(super) async fn save_ladder(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let s = &f.session;
    submit(
        &f,
        typed_rungs(&f.form),
        "/admin/ladder?done=ladder_saved",
        async |rows| {
            let mut rungs = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                if checked(&f.form, &format!("remove_{i}")) {
                    continue;
                }
                // The blank "add a rung" row is ignored until it has a name.
                if !r.existing && r.name.is_empty() && r.title.is_empty() {
                    continue;
                }
                rungs.push(settings::RungBody {
                    name: r.name.clone(),
                    role: parse_word(&r.role, Role::parse)?,
                    min_experience: parse_word(&r.experience, Experience::parse)?,
                    title: r.title.clone(),
                });
            }
            let ladder = settings::ladder_from(settings::LadderBody { rungs })?;
            let value = settings::to_json(&ladder);
            let actor = s.caller().actor();
            Ok::<_, ApiError>(
                state
                    .store
                    .put_setting(keys::LADDER, &value, actor, crate::now())
                    .await?,
            )
        },
        async |rows, e| ladder_view(&state, s, None, Some(e.message), None, Some(rows), None).await,
    )
    .await
}

pub(super) async fn save_rules(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = RulesForm {
        repeated_contact_after: field(&f.form, "repeated_contact_after"),
        angry_after_interventions: field(&f.form, "angry_after_interventions"),
        ping_pong_after: field(&f.form, "ping_pong_after"),
        abuse_to_top: checked(&f.form, "abuse_to_top"),
    };
    let s = &f.session;
    submit(
        &f,
        typed,
        "/admin/ladder?done=rules_saved#rules",
        async |typed| {
            let body = settings::RulesBody {
                repeated_contact_after: whole_number(
                    &typed.repeated_contact_after,
                    "Repeated contact",
                )?,
                angry_after_interventions: whole_number(
                    &typed.angry_after_interventions,
                    "Still angry after",
                )?,
                abuse_to_top: typed.abuse_to_top,
                ping_pong_after: whole_number(&typed.ping_pong_after, "Passed around after")?,
            };
            let value = settings::to_json(&settings::rules_from(&body));
            let actor = s.caller().actor();
            Ok::<_, ApiError>(
                state
                    .store
                    .put_setting(keys::ESCALATION_RULES, &value, actor, crate::now())
                    .await?,
            )
        },
        async |typed, e| {
            ladder_view(&state, s, None, None, Some(e.message), None, Some(typed)).await
        },
    )
    .await
}
