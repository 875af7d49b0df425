//! Mailboxes: the addresses the desk takes mail at, and the team each one feeds.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_domain::{Agent, EmailAddress, TeamId};

use super::agents::TeamRow;
use super::form::{Pairs, Query, admins_only, field, notice, page, submit, team_choice};
use crate::AppState;
use crate::api::mail;
use crate::error::ApiError;
use crate::ui::{PostForm, Session, render, when};

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
    let boxes = mail::mailbox_views(state).await?;
    let teams: Vec<crate::api::views::TeamView> = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
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

pub(super) async fn mailboxes_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = mailboxes_view(&state, &s, notice(&q), None, String::new()).await;
    page(&headers, &s, r)
}

pub(super) async fn add_mailbox(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let s = &f.session;
    submit(
        &f,
        field(&f.form, "address"),
        "/admin/mailboxes?done=mailbox_saved",
        async |address| {
            let team_id = team_choice(&field(&f.form, "team_id"))?;
            let address = EmailAddress::parse(address)?;
            Ok::<_, ApiError>(
                state
                    .store
                    .save_mailbox(&address, team_id.map(TeamId), crate::now())
                    .await?,
            )
        },
        async |address, e| mailboxes_view(&state, s, None, Some(e.message), address).await,
    )
    .await
}

pub(super) async fn delete_mailbox(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let s = &f.session;
    submit(
        &f,
        (),
        "/admin/mailboxes?done=mailbox_removed",
        async |()| {
            let id = crate::extract::parse_id(&id, "mailbox")?;
            Ok::<_, ApiError>(state.store.delete_mailbox(id).await?)
        },
        async |(), e| mailboxes_view(&state, s, None, Some(e.message), String::new()).await,
    )
    .await
}
