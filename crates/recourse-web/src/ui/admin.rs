//! The admin's screens: agents and teams, the ladder and the automatic rules, the SLA
//! policy and calendar, mailboxes, the referral directory, templates, webhooks and API
//! tokens. Like the rest of the console, every page calls the API's handlers with the
//! signed-in agent as the caller, so the admin check and the validation live there;
//! these pages only add an early "admins only" so others get one clear 403 page.
//!
//! Forms are plain HTML posts (no script needed, so they work from the keyboard and on
//! any browser). A refused change draws the page again with the domain's message next
//! to the form and the values as typed, with status 422; nothing is half-saved.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use recourse_domain::template::{TEMPLATE_KEYS, Template as MessageTemplate};
use recourse_domain::{Agent, EmailAddress, EventKind, Experience, Role};
use recourse_store::TicketFilter;

use super::{PostForm, Session, error_response, go_to, render, when};
use crate::AppState;
use crate::api::{mail, people, recovery, settings, views, webhooks};
use crate::error::ApiError;
use crate::extract::ApiJson;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/agents", get(agents_page).post(add_agent))
        .route("/admin/agents/{id}", post(change_agent))
        .route("/admin/teams", post(add_team))
        .route("/admin/ladder", get(ladder_page).post(save_ladder))
        .route("/admin/rules", post(save_rules))
        .route("/admin/sla", get(sla_page))
        .route("/admin/sla/policy", post(save_policy))
        .route("/admin/sla/calendar", post(save_calendar))
        .route("/admin/mailboxes", get(mailboxes_page).post(add_mailbox))
        .route("/admin/mailboxes/{id}/delete", post(delete_mailbox))
        .route(
            "/admin/referrals",
            get(referrals_page).post(add_alternative),
        )
        .route("/admin/referrals/{id}", post(save_alternative))
        .route("/admin/templates", get(templates_page))
        .route("/admin/templates/{key}", post(save_template))
        .route("/admin/webhooks", get(webhooks_page).post(add_webhook))
        .route("/admin/webhooks/{id}/delete", post(delete_webhook))
        .route("/admin/tokens", get(tokens_page).post(add_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
}

fn admins_only(s: &Session) -> Result<(), ApiError> {
    s.caller().require_role(Role::Admin).map(|_| ())
}

/// A posted form as its pairs in order, so repeated names (checkboxes) keep every value.
type Pairs = Vec<(String, String)>;

fn field(f: &Pairs, name: &str) -> String {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn fields(f: &Pairs, name: &str) -> Vec<String> {
    f.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

fn checked(f: &Pairs, name: &str) -> bool {
    f.iter().any(|(k, _)| k == name)
}

/// `?done=` codes from a redirect after a change, as the line shown above the page.
fn notice(q: &HashMap<String, String>) -> Option<String> {
    let text = match q.get("done").map(String::as_str)? {
        "agent_added" => "The agent was added.",
        "agent_changed" => "The agent was changed.",
        "team_added" => "The team was added.",
        "ladder_saved" => "The ladder was saved.",
        "rules_saved" => "The escalation rules were saved.",
        "policy_saved" => "The SLA targets were saved.",
        "calendar_saved" => "The business hours were saved.",
        "mailbox_saved" => "The mailbox was saved.",
        "mailbox_removed" => "The mailbox was removed; mail to it is no longer accepted.",
        "alternative_added" => "The alternative was added to the directory.",
        "alternative_saved" => "The alternative was saved.",
        "template_saved" => "The template was saved.",
        "template_reset" => "The template is back to the built-in text.",
        "webhook_stopped" => "The webhook was stopped.",
        "token_revoked" => "The token was revoked; it no longer works.",
        _ => return None,
    };
    Some(text.to_owned())
}

type Query = axum::extract::Query<HashMap<String, String>>;

/// Runs a page builder, turning a refusal (403 for non-admins) into the error page.
fn page(headers: &HeaderMap, s: &Session, r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(|e| error_response(headers, s, &e, "/console"))
}

/// A page drawn again after a refused change: the refusal's status, not 200.
fn refused(mut r: Response, status: StatusCode) -> Response {
    if r.status() == StatusCode::OK {
        *r.status_mut() = if status.is_client_error() {
            status
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
    }
    r
}

/// The outcome of a form post: on success go to `to`; on a refusal the admin check
/// answers with its 403 page, and any other refusal draws the form again.
async fn after_post<F>(
    f: &PostForm<Pairs>,
    result: Result<(), ApiError>,
    to: &str,
    redraw: F,
) -> Response
where
    F: AsyncFnOnce(ApiError) -> Result<Response, ApiError>,
{
    match result {
        Ok(()) => go_to(&f.headers, to),
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            error_response(&f.headers, &f.session, &e, "/console")
        }
        Err(e) => {
            let status = e.status;
            match redraw(e).await {
                Ok(r) => refused(r, status),
                Err(e2) => error_response(&f.headers, &f.session, &e2, "/admin"),
            }
        }
    }
}

// ---------- overview ----------

#[derive(Template)]
#[template(path = "admin_home.html")]
struct HomePage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
}

async fn home(s: Session, headers: HeaderMap) -> Response {
    let r = admins_only(&s).map(|()| {
        render(&HomePage {
            me: Some(&s.agent),
            csrf: &s.csrf,
            section: "",
            notice: None,
            error: None,
        })
    });
    page(&headers, &s, r)
}

// ---------- agents and teams ----------

struct AgentRow {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    experience: &'static str,
    team_id: i64,
    team: String,
    capacity: i32,
    load: i64,
    present: bool,
    active: bool,
    is_me: bool,
}

impl AgentRow {
    fn is_role(&self, r: &str) -> bool {
        self.role == r
    }
    fn is_experience(&self, e: &str) -> bool {
        self.experience == e
    }
    fn in_team(&self, t: &i64) -> bool {
        self.team_id == *t
    }
}

struct TeamRow {
    id: i64,
    name: String,
    members: usize,
}

/// The add-agent form as typed, drawn again after a refusal.
#[derive(Default)]
struct NewAgentForm {
    name: String,
    email: String,
    role: String,
    experience: String,
    team_id: String,
}

impl NewAgentForm {
    fn is_role(&self, r: &str) -> bool {
        self.role == r || (self.role.is_empty() && r == "agent")
    }
    fn is_experience(&self, e: &str) -> bool {
        self.experience == e || (self.experience.is_empty() && e == "junior")
    }
    fn in_team(&self, t: &i64) -> bool {
        self.team_id == t.to_string()
    }
}

#[derive(Template)]
#[template(path = "admin_agents.html")]
struct AgentsPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    agents: Vec<AgentRow>,
    teams: Vec<TeamRow>,
    roles: &'static [&'static str],
    experiences: &'static [&'static str],
    new_agent: NewAgentForm,
    team_name: String,
}

async fn agents_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    new_agent: NewAgentForm,
    team_name: String,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let agents = people::list_agents(State(state.clone()), s.caller())
        .await?
        .0;
    let teams = people::list_teams(State(state.clone()), s.caller())
        .await?
        .0;
    let loads: HashMap<i64, i64> = state
        .store
        .open_tickets_by_agent()
        .await?
        .into_iter()
        .map(|(a, n)| (a.0, n))
        .collect();
    let team_name_of: HashMap<i64, &str> = teams.iter().map(|t| (t.id, t.name.as_str())).collect();
    let rows = agents
        .iter()
        .map(|a| AgentRow {
            id: a.id,
            name: a.name.clone(),
            email: a.email.clone(),
            role: a.role.as_str(),
            experience: a.experience.as_str(),
            team_id: a.team_id.unwrap_or(0),
            team: a
                .team_id
                .and_then(|t| team_name_of.get(&t).copied())
                .unwrap_or("")
                .to_owned(),
            capacity: a.capacity,
            load: loads.get(&a.id).copied().unwrap_or(0),
            present: a.present,
            active: a.active,
            is_me: a.id == s.agent.id.0,
        })
        .collect();
    let team_rows = teams
        .iter()
        .map(|t| TeamRow {
            id: t.id,
            name: t.name.clone(),
            members: agents
                .iter()
                .filter(|a| a.active && a.team_id == Some(t.id))
                .count(),
        })
        .collect();
    Ok(render(&AgentsPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "agents",
        notice,
        error,
        agents: rows,
        teams: team_rows,
        roles: Role::WORDS,
        experiences: Experience::WORDS,
        new_agent,
        team_name,
    }))
}

async fn agents_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = agents_view(
        &state,
        &s,
        notice(&q),
        None,
        NewAgentForm::default(),
        String::new(),
    )
    .await;
    page(&headers, &s, r)
}

fn team_choice(raw: &str) -> Result<Option<i64>, ApiError> {
    if raw.is_empty() {
        return Ok(None);
    }
    crate::extract::parse_id(raw, "team").map(Some)
}

fn parse_word<T>(
    raw: &str,
    parse: fn(&str) -> Result<T, recourse_domain::UnknownVariant>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|e| ApiError::unprocessable("invalid_choice", e.to_string()))
}

async fn add_agent(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let form = NewAgentForm {
        name: field(&f.form, "name"),
        email: field(&f.form, "email"),
        role: field(&f.form, "role"),
        experience: field(&f.form, "experience"),
        team_id: field(&f.form, "team_id"),
    };
    let result = async {
        admins_only(&f.session)?;
        let mut password = f
            .form
            .iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if password.is_empty() {
            // "Set it later": a long random secret nobody is told, so the account
            // cannot be used until an admin sets a real password on its row.
            password = crate::auth::new_secret("unset");
        }
        let body = views::CreateAgent {
            email: form.email.clone(),
            name: form.name.clone(),
            role: parse_word(&form.role, Role::parse)?,
            experience: parse_word(&form.experience, Experience::parse)?,
            skills: Vec::new(),
            team_id: team_choice(&form.team_id)?,
            capacity: None,
            password,
        };
        let _ =
            people::create_agent(State(state.clone()), f.session.caller(), ApiJson(body)).await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(&f, result, "/admin/agents?done=agent_added", async |e| {
        agents_view(&state, s, None, Some(e.message), form, String::new()).await
    })
    .await
}

async fn change_agent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let result = async {
        admins_only(&f.session)?;
        let action = field(&f.form, "action");
        let mut body = views::UpdateAgent::default();
        match action.as_str() {
            "switch_off" => body.active = Some(false),
            "switch_on" => body.active = Some(true),
            _ => {
                body.role = Some(parse_word(&field(&f.form, "role"), Role::parse)?);
                body.experience = Some(parse_word(
                    &field(&f.form, "experience"),
                    Experience::parse,
                )?);
                body.team_id = Some(team_choice(&field(&f.form, "team_id"))?);
                let capacity = field(&f.form, "capacity");
                body.capacity = Some(capacity.parse().map_err(|_| {
                    ApiError::unprocessable(
                        "invalid_capacity",
                        "Capacity is a whole number of tickets.",
                    )
                })?);
                let password = f
                    .form
                    .iter()
                    .find(|(k, _)| k == "password")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                body.password = (!password.is_empty()).then_some(password);
            }
        }
        let _ = people::update_agent(
            State(state.clone()),
            f.session.caller(),
            Path(id.clone()),
            ApiJson(body),
        )
        .await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(&f, result, "/admin/agents?done=agent_changed", async |e| {
        agents_view(
            &state,
            s,
            None,
            Some(e.message),
            NewAgentForm::default(),
            String::new(),
        )
        .await
    })
    .await
}

async fn add_team(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let name = field(&f.form, "team_name");
    let result = async {
        admins_only(&f.session)?;
        let _ = people::create_team(
            State(state.clone()),
            f.session.caller(),
            ApiJson(views::CreateTeam { name: name.clone() }),
        )
        .await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(
        &f,
        result,
        "/admin/agents?done=team_added#teams",
        async |e| {
            agents_view(
                &state,
                s,
                None,
                Some(e.message),
                NewAgentForm::default(),
                name,
            )
            .await
        },
    )
    .await
}

// ---------- the ladder and the automatic rules ----------

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
            let l = settings::get_ladder(State(state.clone()), s.caller())
                .await?
                .0;
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
            let r = settings::get_rules(State(state.clone()), s.caller())
                .await?
                .0;
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

async fn ladder_page(
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

async fn save_ladder(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let rows = typed_rungs(&f.form);
    let result = async {
        admins_only(&f.session)?;
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
        let _ = settings::put_ladder(
            State(state.clone()),
            f.session.caller(),
            ApiJson(settings::LadderBody { rungs }),
        )
        .await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(&f, result, "/admin/ladder?done=ladder_saved", async |e| {
        ladder_view(&state, s, None, Some(e.message), None, Some(rows), None).await
    })
    .await
}

fn whole_number(raw: &str, what: &str) -> Result<u32, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::unprocessable(
            "invalid_number",
            format!("{what} is a whole number, 0 or more."),
        )
    })
}

async fn save_rules(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = RulesForm {
        repeated_contact_after: field(&f.form, "repeated_contact_after"),
        angry_after_interventions: field(&f.form, "angry_after_interventions"),
        ping_pong_after: field(&f.form, "ping_pong_after"),
        abuse_to_top: checked(&f.form, "abuse_to_top"),
    };
    let result = async {
        admins_only(&f.session)?;
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
        let _ =
            settings::put_rules(State(state.clone()), f.session.caller(), ApiJson(body)).await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(
        &f,
        result,
        "/admin/ladder?done=rules_saved#rules",
        async |e| ladder_view(&state, s, None, None, Some(e.message), None, Some(typed)).await,
    )
    .await
}

// ---------- SLA policy and business hours ----------

struct TargetRow {
    priority: &'static str,
    first_response: String,
    next_update: String,
    resolution: String,
}

struct DayRow {
    day: &'static str,
    label: &'static str,
    hours: String,
}

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

#[derive(Template)]
#[template(path = "admin_sla.html")]
struct SlaPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    calendar_error: Option<String>,
    warn_before: String,
    targets: Vec<TargetRow>,
    time_zone: String,
    days: Vec<DayRow>,
    holidays: String,
}

struct PolicyForm {
    warn_before: String,
    targets: Vec<TargetRow>,
}

struct CalendarForm {
    time_zone: String,
    days: Vec<DayRow>,
    holidays: String,
}

async fn sla_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    calendar_error: Option<String>,
    policy: Option<PolicyForm>,
    calendar: Option<CalendarForm>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let policy = match policy {
        Some(p) => p,
        None => {
            let p = settings::get_sla_policy(State(state.clone()), s.caller())
                .await?
                .0;
            let row = |priority, t: &settings::SlaTargetBody| TargetRow {
                priority,
                first_response: t.first_response_minutes.to_string(),
                next_update: t.next_update_minutes.to_string(),
                resolution: t.resolution_minutes.to_string(),
            };
            PolicyForm {
                warn_before: p.warn_before_minutes.to_string(),
                targets: vec![
                    row("low", &p.low),
                    row("normal", &p.normal),
                    row("high", &p.high),
                    row("urgent", &p.urgent),
                ],
            }
        }
    };
    let calendar = match calendar {
        Some(c) => c,
        None => {
            let c = settings::get_calendar(State(state.clone()), s.caller())
                .await?
                .0;
            let days = DAYS
                .iter()
                .map(|(day, label)| DayRow {
                    day,
                    label,
                    hours: c
                        .hours
                        .iter()
                        .filter(|h| h.days.iter().any(|d| d == day))
                        .map(|h| format!("{}-{}", h.open, h.close))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect();
            CalendarForm {
                time_zone: c.time_zone,
                days,
                holidays: c.holidays.join("\n"),
            }
        }
    };
    Ok(render(&SlaPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "sla",
        notice,
        error,
        calendar_error,
        warn_before: policy.warn_before,
        targets: policy.targets,
        time_zone: calendar.time_zone,
        days: calendar.days,
        holidays: calendar.holidays,
    }))
}

async fn sla_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = sla_view(&state, &s, notice(&q), None, None, None, None).await;
    page(&headers, &s, r)
}

async fn save_policy(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = PolicyForm {
        warn_before: field(&f.form, "warn_before"),
        targets: PRIORITIES
            .iter()
            .map(|p| TargetRow {
                priority: p,
                first_response: field(&f.form, &format!("{p}_first_response")),
                next_update: field(&f.form, &format!("{p}_next_update")),
                resolution: field(&f.form, &format!("{p}_resolution")),
            })
            .collect(),
    };
    let result = async {
        admins_only(&f.session)?;
        let mut t = Vec::new();
        for row in &typed.targets {
            let what = |w: &str| format!("The {} {w} target", row.priority);
            t.push(settings::SlaTargetBody {
                first_response_minutes: whole_number(&row.first_response, &what("first response"))?,
                next_update_minutes: whole_number(&row.next_update, &what("next update"))?,
                resolution_minutes: whole_number(&row.resolution, &what("resolution"))?,
            });
        }
        let mut t = t.into_iter();
        let mut next = || t.next().expect("four priorities");
        let body = settings::SlaPolicyBody {
            warn_before_minutes: whole_number(&typed.warn_before, "The warning time")?,
            low: next(),
            normal: next(),
            high: next(),
            urgent: next(),
        };
        let _ = settings::put_sla_policy(State(state.clone()), f.session.caller(), ApiJson(body))
            .await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(&f, result, "/admin/sla?done=policy_saved", async |e| {
        sla_view(&state, s, None, Some(e.message), None, Some(typed), None).await
    })
    .await
}

async fn save_calendar(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = CalendarForm {
        time_zone: field(&f.form, "time_zone"),
        days: DAYS
            .iter()
            .map(|(day, label)| DayRow {
                day,
                label,
                hours: field(&f.form, &format!("hours_{day}")),
            })
            .collect(),
        holidays: field(&f.form, "holidays"),
    };
    let result = async {
        admins_only(&f.session)?;
        let mut hours = Vec::new();
        for d in &typed.days {
            for range in d.hours.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                let Some((open, close)) = range.split_once('-') else {
                    return Err(ApiError::unprocessable(
                        "invalid_hours",
                        format!(
                            "{}: write opening hours as 09:00-17:00 (several separated by commas), or leave it empty when closed.",
                            d.label
                        ),
                    ));
                };
                hours.push(settings::OpeningHoursBody {
                    days: vec![d.day.to_owned()],
                    open: open.trim().to_owned(),
                    close: close.trim().to_owned(),
                });
            }
        }
        let body = settings::CalendarBody {
            time_zone: typed.time_zone.clone(),
            hours,
            holidays: typed
                .holidays
                .split(['\n', ','])
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let _ = settings::put_calendar(State(state.clone()), f.session.caller(), ApiJson(body)).await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(
        &f,
        result,
        "/admin/sla?done=calendar_saved#calendar",
        async |e| sla_view(&state, s, None, None, Some(e.message), None, Some(typed)).await,
    )
    .await
}

// ---------- mailboxes ----------

struct MailboxRow {
    id: i64,
    address: String,
    team: String,
    created: String,
}

#[derive(Template)]
#[template(path = "admin_mailboxes.html")]
struct MailboxesPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    mailboxes: Vec<MailboxRow>,
    teams: Vec<TeamRow>,
    address: String,
}

async fn mailboxes_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    address: String,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let boxes = mail::list_mailboxes(State(state.clone()), s.caller())
        .await?
        .0;
    let teams = people::list_teams(State(state.clone()), s.caller())
        .await?
        .0;
    let name: HashMap<i64, &str> = teams.iter().map(|t| (t.id, t.name.as_str())).collect();
    Ok(render(&MailboxesPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "mailboxes",
        notice,
        error,
        mailboxes: boxes
            .into_iter()
            .map(|m| MailboxRow {
                id: m.id,
                team: m
                    .team_id
                    .and_then(|t| name.get(&t).copied())
                    .unwrap_or("")
                    .to_owned(),
                address: m.address,
                created: when(&m.created_at),
            })
            .collect(),
        teams: teams
            .iter()
            .map(|t| TeamRow {
                id: t.id,
                name: t.name.clone(),
                members: 0,
            })
            .collect(),
        address,
    }))
}

async fn mailboxes_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = mailboxes_view(&state, &s, notice(&q), None, String::new()).await;
    page(&headers, &s, r)
}

async fn add_mailbox(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let address = field(&f.form, "address");
    let result = async {
        admins_only(&f.session)?;
        let body = mail::MailboxBody {
            address: address.clone(),
            team_id: team_choice(&field(&f.form, "team_id"))?,
        };
        let _ = mail::save_mailbox(State(state.clone()), f.session.caller(), ApiJson(body)).await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(
        &f,
        result,
        "/admin/mailboxes?done=mailbox_saved",
        async |e| mailboxes_view(&state, s, None, Some(e.message), address).await,
    )
    .await
}

async fn delete_mailbox(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let result = async {
        admins_only(&f.session)?;
        mail::delete_mailbox(State(state.clone()), f.session.caller(), Path(id)).await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(
        &f,
        result,
        "/admin/mailboxes?done=mailbox_removed",
        async |e| mailboxes_view(&state, s, None, Some(e.message), String::new()).await,
    )
    .await
}

// ---------- the referral directory ----------

#[derive(Default)]
struct AlternativeRow {
    id: i64,
    name: String,
    serves: String,
    contact: String,
    notes: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin_referrals.html")]
struct ReferralsPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    alternatives: Vec<AlternativeRow>,
    new_alternative: AlternativeRow,
}

async fn referrals_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    typed: AlternativeRow,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let all = recovery::list_alternatives(State(state.clone()), s.caller())
        .await?
        .0;
    let mut rows: Vec<AlternativeRow> = all
        .into_iter()
        .map(|a| AlternativeRow {
            id: a.id,
            name: a.name,
            serves: a.serves.join(", "),
            contact: a.contact,
            notes: a.notes,
            active: a.active,
        })
        .collect();
    // Those still suggested first; retired ones stay listed for the record.
    rows.sort_by_key(|a| !a.active);
    Ok(render(&ReferralsPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "referrals",
        notice,
        error,
        alternatives: rows,
        new_alternative: typed,
    }))
}

async fn referrals_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = referrals_view(&state, &s, notice(&q), None, AlternativeRow::default()).await;
    page(&headers, &s, r)
}

fn typed_alternative(f: &Pairs, active: bool) -> AlternativeRow {
    AlternativeRow {
        id: 0,
        name: field(f, "name"),
        serves: field(f, "serves"),
        contact: field(f, "contact"),
        notes: field(f, "notes"),
        active,
    }
}

fn alternative_body(a: &AlternativeRow) -> recovery::AlternativeBody {
    recovery::AlternativeBody {
        name: a.name.clone(),
        serves: a
            .serves
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        contact: a.contact.clone(),
        notes: a.notes.clone(),
        active: a.active,
    }
}

async fn add_alternative(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = typed_alternative(&f.form, true);
    let result = async {
        admins_only(&f.session)?;
        let _ = recovery::create_alternative(
            State(state.clone()),
            f.session.caller(),
            ApiJson(alternative_body(&typed)),
        )
        .await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(
        &f,
        result,
        "/admin/referrals?done=alternative_added",
        async |e| referrals_view(&state, s, None, Some(e.message), typed).await,
    )
    .await
}

async fn save_alternative(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    // "Remove" retires the entry: past referrals still name it, so it is not deleted.
    let active = match field(&f.form, "action").as_str() {
        "retire" => false,
        "restore" => true,
        _ => checked(&f.form, "active"),
    };
    let typed = typed_alternative(&f.form, active);
    let result = async {
        admins_only(&f.session)?;
        let _ = recovery::update_alternative(
            State(state.clone()),
            f.session.caller(),
            Path(id),
            ApiJson(alternative_body(&typed)),
        )
        .await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(
        &f,
        result,
        "/admin/referrals?done=alternative_saved",
        async |e| referrals_view(&state, s, None, Some(e.message), AlternativeRow::default()).await,
    )
    .await
}

// ---------- templates ----------

struct TemplateCard {
    key: String,
    title: &'static str,
    body: String,
    variables: Vec<String>,
    is_default: bool,
    preview: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_templates.html")]
struct TemplatesPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    sample: String,
    cards: Vec<TemplateCard>,
}

fn template_title(key: &str) -> &'static str {
    match key {
        "handoff" => "Handoff (sent when a case moves up the ladder)",
        "referral" => "Referral (the manager's last stand)",
        "survey_invite" => "Survey invitation (after a case ends)",
        _ => "Template",
    }
}

/// Values for a preview: the newest ticket on the desk where there is one, and made-up
/// but plausible values for what only exists at the moment of sending.
async fn sample_values(
    state: &AppState,
    s: &Session,
) -> Result<(String, HashMap<&'static str, String>), ApiError> {
    let newest = state
        .store
        .list_tickets(&TicketFilter {
            limit: 1,
            ..TicketFilter::default()
        })
        .await?
        .into_iter()
        .next();
    let mut v: HashMap<&'static str, String> = HashMap::new();
    let label = match &newest {
        Some(t) => {
            let c = state.store.get_customer(t.customer_id).await?;
            v.insert(
                "customer_name",
                c.name.unwrap_or_else(|| c.email.as_str().to_owned()),
            );
            v.insert("ticket_number", t.number.to_string());
            v.insert("subject", t.subject.clone());
            format!("ticket #{} “{}”", t.number, t.subject)
        }
        None => {
            v.insert("customer_name", "Grace Brennan".into());
            v.insert("ticket_number", "1001".into());
            v.insert("subject", "Kettle arrived with a cracked lid".into());
            "a made-up ticket (the desk has none yet)".into()
        }
    };
    let cfg = state.store.desk_config().await?;
    v.insert(
        "tried",
        "- Apology: said sorry for the delay (accepted)\n- Replacement: sent a new one by courier (declined)".into(),
    );
    v.insert("next_owner", cfg.ladder.top().title.clone());
    v.insert(
        "reply_by",
        jiff::Timestamp::from_millisecond(crate::now().0 + 4 * 3_600_000)
            .map(|t| t.strftime("%A %H:%M UTC").to_string())
            .unwrap_or_default(),
    );
    v.insert("agent_name", s.agent.name.clone());
    let alt = state
        .store
        .alternatives()
        .await?
        .into_iter()
        .find(|a| a.active);
    let (alt_name, alt_serves, alt_contact) = match alt {
        Some(a) => (a.name, a.serves.join(", "), a.contact),
        None => (
            "Riverside Repairs".to_owned(),
            "repairs, spare parts".to_owned(),
            "https://repairs.example".to_owned(),
        ),
    };
    v.insert("alternative_name", alt_name);
    v.insert("alternative_serves", alt_serves);
    v.insert("alternative_contact", alt_contact);
    v.insert(
        "reason",
        "we do not repair items bought more than five years ago.".into(),
    );
    v.insert("survey_link", "https://desk.example/survey/sample".into());
    Ok((label, v))
}

async fn templates_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    typed: Option<(String, String, Option<String>, Option<String>)>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let stored = settings::list_templates(State(state.clone()), s.caller())
        .await?
        .0;
    let (sample, values) = sample_values(state, s).await?;
    let preview = |key: &str, body: &str| -> Result<String, String> {
        MessageTemplate::parse(key, body)
            .map(|t| t.render(|name| values.get(name).cloned().unwrap_or_default()))
            .map_err(|e| e.message)
    };
    let cards = stored
        .into_iter()
        .map(|t| {
            let mine = typed.as_ref().filter(|(k, ..)| *k == t.key);
            let body = mine.map(|(_, b, ..)| b.clone()).unwrap_or(t.body);
            let error = mine.and_then(|(_, _, e, _)| e.clone());
            let shown = mine.and_then(|(_, _, _, p)| p.clone());
            let preview = match shown {
                Some(p) => Some(p),
                None if error.is_none() => preview(&t.key, &body).ok(),
                None => None,
            };
            TemplateCard {
                title: template_title(&t.key),
                key: t.key,
                body,
                variables: t.variables,
                is_default: t.is_default,
                preview,
                error,
            }
        })
        .collect();
    Ok(render(&TemplatesPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "templates",
        notice,
        error: None,
        sample,
        cards,
    }))
}

async fn templates_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = templates_view(&state, &s, notice(&q), None).await;
    page(&headers, &s, r)
}

async fn save_template(
    State(state): State<AppState>,
    Path(key): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    // The body as typed, line ends and all (only `\r\n` from the browser is normalised).
    let body = f
        .form
        .iter()
        .find(|(k, _)| k == "body")
        .map(|(_, v)| v.replace("\r\n", "\n"))
        .unwrap_or_default();
    let action = field(&f.form, "action");
    if !TEMPLATE_KEYS.iter().any(|(k, _)| *k == key) {
        return error_response(
            &f.headers,
            &f.session,
            &ApiError::not_found("template"),
            "/admin/templates",
        );
    }
    let s = &f.session;
    if action == "preview" {
        // Nothing is saved; the card shows the text as typed and how it reads.
        let r = async {
            admins_only(s)?;
            let (_, values) = sample_values(&state, s).await?;
            let (err, shown) = match MessageTemplate::parse(&key, &body) {
                Ok(t) => (
                    None,
                    Some(t.render(|n| values.get(n).cloned().unwrap_or_default())),
                ),
                Err(e) => (Some(e.message), None),
            };
            let failed = err.is_some();
            let mut r = templates_view(
                &state,
                s,
                None,
                Some((key.clone(), body.clone(), err, shown)),
            )
            .await?;
            if failed {
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Ok(r)
        }
        .await;
        return page(&f.headers, s, r);
    }
    let reset = action == "reset";
    let result = async {
        admins_only(s)?;
        if reset {
            let _ = settings::reset_template(State(state.clone()), s.caller(), Path(key.clone()))
                .await?;
        } else {
            let _ = settings::put_template(
                State(state.clone()),
                s.caller(),
                Path(key.clone()),
                ApiJson(settings::TemplateBody { body: body.clone() }),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    let to = format!(
        "/admin/templates?done={}#t-{key}",
        if reset {
            "template_reset"
        } else {
            "template_saved"
        }
    );
    after_post(&f, result, &to, async |e| {
        templates_view(
            &state,
            s,
            None,
            Some((key.clone(), body.clone(), Some(e.message), None)),
        )
        .await
    })
    .await
}

// ---------- webhooks ----------

struct DeliveryRow {
    event_id: i64,
    outcome: String,
    attempts: i64,
}

struct WebhookRow {
    id: i64,
    url: String,
    events: String,
    active: bool,
    created: String,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    hooks: Vec<WebhookRow>,
    event_names: &'static [&'static str],
    url: String,
    picked: Vec<String>,
    /// Shown once, right after the webhook was added.
    secret: Option<String>,
}

impl WebhooksPage<'_> {
    fn is_picked(&self, e: &str) -> bool {
        self.picked.iter().any(|p| p == e)
    }
}

/// How many of each webhook's latest deliveries the page shows.
const DELIVERIES_SHOWN: i64 = 5;

async fn webhooks_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    typed: (String, Vec<String>),
    secret: Option<String>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let hooks = webhooks::list_webhooks(State(state.clone()), s.caller())
        .await?
        .0;
    let mut rows = Vec::with_capacity(hooks.len());
    for h in hooks {
        let deliveries = state
            .store
            .webhook_deliveries(h.id, DELIVERIES_SHOWN)
            .await?
            .into_iter()
            .map(|d| DeliveryRow {
                event_id: d.event_id,
                outcome: match (d.delivered_at, d.failed_at) {
                    (Some(t), _) => format!("delivered {}", when(&crate::rfc3339(t))),
                    (None, Some(t)) => format!(
                        "gave up {}: {}",
                        when(&crate::rfc3339(t)),
                        d.last_error.unwrap_or_default()
                    ),
                    (None, None) => match d.last_error {
                        Some(e) => format!("retrying: {e}"),
                        None => "waiting to be sent".to_owned(),
                    },
                },
                attempts: d.attempts,
            })
            .collect();
        rows.push(WebhookRow {
            id: h.id,
            url: h.url,
            events: if h.events.is_empty() {
                "every event".to_owned()
            } else {
                h.events.join(", ")
            },
            active: h.active,
            created: when(&h.created_at),
            deliveries,
        });
    }
    // Live hooks first, newest first.
    rows.sort_by_key(|r| (!r.active, -r.id));
    Ok(render(&WebhooksPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "webhooks",
        notice,
        error,
        hooks: rows,
        event_names: EventKind::NAMES,
        url: typed.0,
        picked: typed.1,
        secret,
    }))
}

async fn webhooks_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = webhooks_view(
        &state,
        &s,
        notice(&q),
        None,
        (String::new(), Vec::new()),
        None,
    )
    .await;
    page(&headers, &s, r)
}

async fn add_webhook(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let url = field(&f.form, "url");
    let events = fields(&f.form, "event");
    let s = &f.session;
    let r = async {
        admins_only(s)?;
        let made = webhooks::create_webhook(
            State(state.clone()),
            s.caller(),
            ApiJson(webhooks::CreateWebhook {
                url: url.clone(),
                events: events.clone(),
            }),
        )
        .await;
        match made {
            // The page itself, not a redirect: the signing secret is shown only now.
            Ok((_, hook)) => webhooks_view(
                &state,
                s,
                Some(
                    "The webhook was added. Copy its signing secret now; it is not shown again."
                        .into(),
                ),
                None,
                (String::new(), Vec::new()),
                hook.0.secret,
            )
            .await,
            Err(e) if e.status == StatusCode::FORBIDDEN => Err(e),
            Err(e) => {
                let status = e.status;
                let r =
                    webhooks_view(&state, s, None, Some(e.message), (url, events), None).await?;
                Ok(refused(r, status))
            }
        }
    }
    .await;
    page(&f.headers, s, r)
}

async fn delete_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let result = async {
        admins_only(&f.session)?;
        webhooks::delete_webhook(State(state.clone()), f.session.caller(), Path(id)).await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(
        &f,
        result,
        "/admin/webhooks?done=webhook_stopped",
        async |e| {
            webhooks_view(
                &state,
                s,
                None,
                Some(e.message),
                (String::new(), Vec::new()),
                None,
            )
            .await
        },
    )
    .await
}

// ---------- API tokens ----------

struct TokenRow {
    id: i64,
    name: String,
    holder: String,
    scope: String,
    created: String,
    revoked: Option<String>,
}

struct Holder {
    id: i64,
    label: String,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    tokens: Vec<TokenRow>,
    agents: Vec<Holder>,
    /// The add form as typed.
    name: String,
    holder_kind: String,
    agent_id: String,
    customer_email: String,
    scope: String,
    /// Shown once, right after the token was made.
    secret: Option<String>,
}

impl TokensPage<'_> {
    fn is_agent(&self, id: &i64) -> bool {
        self.agent_id == id.to_string()
    }
}

#[derive(Default)]
struct TokenForm {
    name: String,
    holder_kind: String,
    agent_id: String,
    customer_email: String,
    scope: String,
}

async fn tokens_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    typed: TokenForm,
    secret: Option<String>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let tokens = people::list_tokens(State(state.clone()), s.caller())
        .await?
        .0;
    let agents = people::list_agents(State(state.clone()), s.caller())
        .await?
        .0;
    let agent_label: HashMap<i64, String> = agents
        .iter()
        .map(|a| (a.id, format!("{} <{}>", a.name, a.email)))
        .collect();
    let mut customers: HashMap<i64, String> = HashMap::new();
    let mut rows = Vec::with_capacity(tokens.len());
    for t in tokens {
        let holder = if t.principal_kind == "agent" {
            format!(
                "agent {}",
                agent_label
                    .get(&t.principal_id)
                    .cloned()
                    .unwrap_or_default()
            )
        } else {
            if let std::collections::hash_map::Entry::Vacant(slot) = customers.entry(t.principal_id)
            {
                let c = state
                    .store
                    .get_customer(recourse_domain::CustomerId(t.principal_id))
                    .await?;
                slot.insert(c.email.into_inner());
            }
            format!("customer {}", customers[&t.principal_id])
        };
        rows.push(TokenRow {
            id: t.id,
            name: t.name,
            holder,
            scope: t.scope,
            created: when(&t.created_at),
            revoked: t.revoked_at.as_deref().map(when),
        });
    }
    Ok(render(&TokensPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "tokens",
        notice,
        error,
        tokens: rows,
        agents: agents
            .into_iter()
            .filter(|a| a.active)
            .map(|a| Holder {
                id: a.id,
                label: format!("{} <{}>", a.name, a.email),
            })
            .collect(),
        name: typed.name,
        holder_kind: if typed.holder_kind.is_empty() {
            "agent".into()
        } else {
            typed.holder_kind
        },
        agent_id: if typed.agent_id.is_empty() {
            s.agent.id.0.to_string()
        } else {
            typed.agent_id
        },
        customer_email: typed.customer_email,
        scope: if typed.scope.is_empty() {
            "read".into()
        } else {
            typed.scope
        },
        secret,
    }))
}

async fn tokens_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = tokens_view(&state, &s, notice(&q), None, TokenForm::default(), None).await;
    page(&headers, &s, r)
}

async fn add_token(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = TokenForm {
        name: field(&f.form, "name"),
        holder_kind: field(&f.form, "holder_kind"),
        agent_id: field(&f.form, "agent_id"),
        customer_email: field(&f.form, "customer_email"),
        scope: field(&f.form, "scope"),
    };
    let s = &f.session;
    let r = async {
        admins_only(s)?;
        let made = async {
            let (agent_id, customer_id) = if typed.holder_kind == "customer" {
                let email = EmailAddress::parse(&typed.customer_email)?;
                let c = state
                    .store
                    .customer_by_email(&email)
                    .await?
                    .ok_or_else(|| {
                        ApiError::unprocessable(
                            "unknown_customer",
                            "No customer has that email address yet.",
                        )
                    })?;
                (None, Some(c.id.0))
            } else {
                (
                    Some(crate::extract::parse_id(&typed.agent_id, "agent")?),
                    None,
                )
            };
            let body = views::CreateToken {
                name: typed.name.clone(),
                scope: Some(typed.scope.clone()),
                agent_id,
                customer_id,
            };
            people::create_token(State(state.clone()), s.caller(), ApiJson(body)).await
        }
        .await;
        match made {
            // The page itself, not a redirect: the token is shown only now.
            Ok((_, t)) => {
                tokens_view(
                    &state,
                    s,
                    Some(format!(
                        "The token “{}” was made. Copy it now; it is not shown again.",
                        t.0.name
                    )),
                    None,
                    TokenForm::default(),
                    Some(t.0.token),
                )
                .await
            }
            Err(e) if e.status == StatusCode::FORBIDDEN => Err(e),
            Err(e) => {
                let status = e.status;
                let r = tokens_view(&state, s, None, Some(e.message), typed, None).await?;
                Ok(refused(r, status))
            }
        }
    }
    .await;
    page(&f.headers, s, r)
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let result = async {
        admins_only(&f.session)?;
        people::revoke_token(State(state.clone()), f.session.caller(), Path(id)).await?;
        Ok(())
    }
    .await;
    let s = &f.session;
    after_post(&f, result, "/admin/tokens?done=token_revoked", async |e| {
        tokens_view(&state, s, None, Some(e.message), TokenForm::default(), None).await
    })
    .await
}
