//! Agents and teams: the list with each agent's load, adding an agent, changing one
//! (role, experience, team, capacity, password, switched off), adding a team.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_domain::{Agent, AgentId, Experience, Role};

use super::form::{
    Pairs, Query, admins_only, field, notice, page, parse_word, raw_field, submit, team_choice,
};
use crate::AppState;
use crate::api::{people, views};
use crate::error::ApiError;
use crate::ui::{PostForm, Session, render};

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

pub(super) struct TeamRow {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) members: usize,
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
    let agents: Vec<views::AgentView> = state
        .store
        .list_agents()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let teams: Vec<views::TeamView> = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
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

pub(super) async fn agents_page(
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

pub(super) async fn add_agent(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let form = NewAgentForm {
        name: field(&f.form, "name"),
        email: field(&f.form, "email"),
        role: field(&f.form, "role"),
        experience: field(&f.form, "experience"),
        team_id: field(&f.form, "team_id"),
    };
    let s = &f.session;
    submit(
        &f,
        form,
        "/admin/agents?done=agent_added",
        async |form| {
            let mut password = raw_field(&f.form, "password");
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
            Ok::<_, ApiError>(state.store.create_agent(people::new_agent(body)?).await?)
        },
        async |form, e| agents_view(&state, s, None, Some(e.message), form, String::new()).await,
    )
    .await
}

pub(super) async fn change_agent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let s = &f.session;
    submit(
        &f,
        (),
        "/admin/agents?done=agent_changed",
        async |()| {
            let mut body = views::UpdateAgent::default();
            match field(&f.form, "action").as_str() {
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
                    let password = raw_field(&f.form, "password");
                    body.password = (!password.is_empty()).then_some(password);
                }
            }
            let id = AgentId(crate::extract::parse_id(&id, "agent")?);
            let password_hash = people::checked_agent_update(&state, s.agent.id, id, &body).await?;
            let actor = s.caller().actor();
            let now = crate::now();
            if body.active == Some(false) {
                // Going away first hands their open tickets to colleagues on the same rung.
                state.desk.set_presence(id, false, actor, now).await?;
            }
            state
                .store
                .update_agent(id, people::agent_change(&body), actor, now)
                .await?;
            if let Some(hash) = password_hash {
                state.store.set_agent_password(id, &hash).await?;
            }
            Ok::<_, ApiError>(())
        },
        async |(), e| {
            agents_view(
                &state,
                s,
                None,
                Some(e.message),
                NewAgentForm::default(),
                String::new(),
            )
            .await
        },
    )
    .await
}

pub(super) async fn add_team(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let s = &f.session;
    submit(
        &f,
        field(&f.form, "team_name"),
        "/admin/agents?done=team_added#teams",
        async |name| {
            let body = views::CreateTeam { name: name.clone() };
            Ok::<_, ApiError>(state.store.create_team(people::team_name(&body)?).await?)
        },
        async |name, e| {
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
