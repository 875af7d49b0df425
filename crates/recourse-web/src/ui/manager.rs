//! The manager's screens: what waits on them (escalations at the top rung, can't-help
//! reviews, cases passed around), the agents' load and presence, and the reports.
//! Deliberately no per-agent escalation figures: escalating must never look like a fault.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use recourse_domain::{Agent, Role};
use serde::Deserialize;
use serde_json::json;

use super::{Session, error_response, render, when, words};
use crate::AppState;
use crate::api::recovery;
use crate::api::views::TicketView;
use crate::error::ApiError;
use crate::extract::ApiQuery;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/manage", get(manage))
        .route("/console/reports", get(reports))
}

fn managers_only(s: &Session) -> Result<(), ApiError> {
    s.caller().require_role(Role::Manager).map(|_| ())
}

struct Line {
    id: i64,
    number: i64,
    subject: String,
    detail: String,
}

struct Load {
    name: String,
    role: &'static str,
    present: bool,
    open: String,
    capacity: i32,
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    top_rung: String,
    waiting: Vec<Line>,
    reviews: Vec<Line>,
    ping_pong: Vec<Line>,
    load: Vec<Load>,
}

fn line(t: TicketView, detail: String) -> Line {
    Line {
        id: t.id,
        number: t.number,
        subject: t.subject,
        detail,
    }
}

async fn manage(State(state): State<AppState>, s: Session, headers: HeaderMap) -> Response {
    match manage_inner(&state, &s).await {
        Ok(r) => r,
        Err(e) => error_response(&headers, &s, &e, "/console"),
    }
}

async fn manage_inner(state: &AppState, s: &Session) -> Result<Response, ApiError> {
    managers_only(s)?;
    let top = state.store.desk_config().await?.ladder.top().name.clone();
    let waiting = super::console::list(state, s, json!({ "rung": top }), 50).await?;
    let ping_pong = super::console::list(state, s, json!({ "flag": "ping_pong" }), 50).await?;
    let reviews = recovery::review_queue(State(state.clone()), s.caller())
        .await?
        .0;
    let mut review_lines = Vec::with_capacity(reviews.len());
    for r in reviews {
        let t = state
            .store
            .get_ticket(recourse_domain::TicketId(r.ticket_id))
            .await?;
        let t: TicketView = t.into();
        review_lines.push(line(
            t,
            format!(
                "{}: {} (asked {})",
                words(r.reason.as_str()),
                r.explanation,
                when(&r.created_at)
            ),
        ));
    }
    // Load: open tickets each agent holds, counted up to the same cap as the queues.
    let agents = state.store.list_agents().await?;
    let mut load = Vec::with_capacity(agents.len());
    for a in agents.into_iter().filter(|a| a.active) {
        let page = super::console::list(
            state,
            s,
            json!({ "assignee": a.id.0.to_string() }),
            super::console::COUNT_CAP,
        )
        .await?;
        let open = page
            .tickets
            .iter()
            .filter(|t| {
                !matches!(
                    t.status,
                    recourse_domain::Status::Resolved | recourse_domain::Status::Closed
                )
            })
            .count();
        load.push(Load {
            name: a.name,
            role: a.role.as_str(),
            present: a.present,
            open: if page.next_cursor.is_some() {
                format!("{open}+")
            } else {
                open.to_string()
            },
            capacity: a.capacity,
        });
    }
    let status = |t: &TicketView| format!("{} · {}", words(t.status.as_str()), when(&t.updated_at));
    Ok(render(&ManagePage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        waiting: waiting
            .tickets
            .into_iter()
            .filter(|t| {
                !matches!(
                    t.status,
                    recourse_domain::Status::Resolved | recourse_domain::Status::Closed
                )
            })
            .map(|t| {
                let d = status(&t);
                line(t, d)
            })
            .collect(),
        top_rung: top,
        reviews: review_lines,
        ping_pong: ping_pong
            .tickets
            .into_iter()
            .map(|t| {
                let d = status(&t);
                line(t, d)
            })
            .collect(),
        load,
    }))
}

// ---------- reports ----------

struct Figure {
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    from: String,
    to: String,
    team: String,
    teams: Vec<(i64, String)>,
    /// The query the charts fetch from the reports API.
    api_query: String,
    figures: Vec<Figure>,
    outcomes: Vec<(String, i64)>,
    escalations: Vec<(String, String, i64)>,
}

#[derive(Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn num(v: Option<f64>, unit: &str) -> String {
    v.map(|v| format!("{v:.1}{unit}"))
        .unwrap_or_else(|| "–".into())
}

/// A date from the form (`2026-03-01`) as the API's RFC 3339 instant at UTC midnight.
fn day(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    (!raw.is_empty()).then(|| format!("{raw}T00:00:00Z"))
}

async fn reports(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Response {
    match reports_inner(&state, &s, q).await {
        Ok(r) => r,
        Err(e) => error_response(&headers, &s, &e, "/console/reports"),
    }
}

async fn reports_inner(state: &AppState, s: &Session, q: RangeQuery) -> Result<Response, ApiError> {
    managers_only(s)?;
    let team = q
        .team
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| crate::extract::parse_id(t, "team"))
        .transpose()?;
    let params = recovery::ReportParams {
        from: day(q.from.as_deref()),
        to: day(q.to.as_deref()),
        team,
    };
    let mut api_query: Vec<String> = Vec::new();
    if let Some(f) = &params.from {
        api_query.push(format!("from={f}"));
    }
    if let Some(t) = &params.to {
        api_query.push(format!("to={t}"));
    }
    if let Some(t) = team {
        api_query.push(format!("team={t}"));
    }
    let r = recovery::summary(State(state.clone()), s.caller(), ApiQuery(params))
        .await?
        .0;
    let teams: HashMap<i64, String> = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .map(|t| (t.id.0, t.name))
        .collect();
    let mut teams: Vec<(i64, String)> = teams.into_iter().collect();
    teams.sort();
    let figures = vec![
        Figure {
            label: "Tickets ended",
            value: r.ended.to_string(),
        },
        Figure {
            label: "Inconsolable share",
            value: format!(
                "{} (expect about {})",
                pct(r.inconsolable_share),
                pct(Some(r.inconsolable_reference))
            ),
        },
        Figure {
            label: "Recovered after a bad start",
            value: format!(
                "{} of {} ({})",
                r.recovered,
                r.started_negative,
                pct(r.recovery_rate)
            ),
        },
        Figure {
            label: "Transfers per ticket",
            value: num(r.transfers_per_ticket, ""),
        },
        Figure {
            label: "Passed around (ping-pong)",
            value: r.ping_pong.to_string(),
        },
        Figure {
            label: "Referrals (came back later)",
            value: format!("{} ({})", r.referrals, r.returned_after_referral),
        },
        Figure {
            label: "Product satisfaction (1–5)",
            value: num(r.product_satisfaction, ""),
        },
        Figure {
            label: "Service satisfaction (1–5)",
            value: num(r.service_satisfaction, ""),
        },
        Figure {
            label: "Net promoter score",
            value: num(r.nps, ""),
        },
        Figure {
            label: "First response (mean)",
            value: num(r.first_response_minutes, " min"),
        },
        Figure {
            label: "Resolution (mean)",
            value: num(r.resolution_minutes, " min"),
        },
        Figure {
            label: "SLA met",
            value: pct(r.sla_attainment),
        },
    ];
    Ok(render(&ReportsPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        from: r.from.get(..10).unwrap_or_default().to_owned(),
        to: r.to.get(..10).unwrap_or_default().to_owned(),
        team: team.map(|t| t.to_string()).unwrap_or_default(),
        teams,
        api_query: api_query.join("&"),
        figures,
        outcomes: r
            .outcomes
            .into_iter()
            .map(|c| (words(&c.key), c.count))
            .collect(),
        escalations: r
            .escalations
            .into_iter()
            .map(|e| (e.to_rung, words(&e.reason), e.count))
            .collect(),
    }))
}
