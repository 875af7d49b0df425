//! The manager's screens: what waits on them (escalations at the top rung, can't-help
//! reviews, decided right there, cases passed around), the agents' load and presence,
//! and the reports with their CSV downloads. Deliberately no per-agent escalation
//! figures: escalating must never look like a fault.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use recourse_desk::CantHelpReview;
use recourse_domain::{Agent, Role};
use serde::Deserialize;
use serde_json::json;

use super::{PostForm, Session, error_response, go_to, render, when, words};
use crate::AppState;
use crate::api::views::TicketView;
use crate::api::{recovery, reports};
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/manage", get(manage))
        .route("/console/manage/reviews/{id}", post(decide_review))
        .route("/console/reports", get(reports))
        .route("/console/reports/{table}", get(report_csv))
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
    let ping_pong: Vec<TicketView> = state
        .store
        .console_queue(&recourse_desk::ConsoleQueue::PassedAround, 50)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let reviews: Vec<recovery::CantHelpView> = state
        .store
        .cant_help_records(None, 100)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let mut review_lines = Vec::with_capacity(reviews.len());
    for r in reviews {
        let t = state
            .store
            .get_ticket(recourse_domain::TicketId(r.ticket_id))
            .await?;
        let t: TicketView = t.into();
        let why_nothing = r
            .no_partial_justification
            .map(|j| format!(" Nothing to offer because: {j}"))
            .unwrap_or_default();
        review_lines.push(line(
            t,
            format!(
                "{}: {}{why_nothing} (asked {})",
                words(r.reason.as_str()),
                r.explanation,
                when(&r.created_at)
            ),
        ));
    }
    // Load: active tickets each agent holds, one capped index count per agent.
    let agents = state.store.list_agents().await?;
    let mut load = Vec::with_capacity(agents.len());
    for a in agents.into_iter().filter(|a| a.active) {
        let n = state
            .store
            .count_console_queue(
                &recourse_desk::ConsoleQueue::ActiveLoad(a.id),
                super::console::COUNT_CAP,
            )
            .await?;
        load.push(Load {
            name: a.name,
            role: a.role.as_str(),
            present: a.present,
            open: super::console::capped(n),
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
    /// The query the CSV downloads carry.
    csv_query: String,
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

/// A date from the form (`2026-03-01`) as the API's RFC 3339 instant at UTC midnight;
/// an instant (from a download link, which repeats the page's exact range) as it is.
fn day(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    if raw.contains('T') {
        return Some(raw.to_owned());
    }
    (!raw.is_empty()).then(|| format!("{raw}T00:00:00Z"))
}

/// The report as the page and its downloads show it.
struct ReportData {
    from: String,
    to: String,
    team: Option<i64>,
    /// The query the charts fetch from the reports API, and the downloads repeat.
    api_query: String,
    figures: Vec<Figure>,
    outcomes: Vec<(String, i64)>,
    escalations: Vec<(String, String, i64)>,
}

async fn report_data(
    state: &AppState,
    s: &Session,
    q: &RangeQuery,
) -> Result<ReportData, ApiError> {
    managers_only(s)?;
    let team = q
        .team
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| crate::extract::parse_id(t, "team"))
        .transpose()?;
    let params = reports::ReportParams {
        from: day(q.from.as_deref()),
        to: day(q.to.as_deref()),
        team,
    };
    let r = reports::report_view(state, &reports::report_query(&params)?).await?;
    let from = r.from.get(..10).unwrap_or_default().to_owned();
    let to = r.to.get(..10).unwrap_or_default().to_owned();
    // The range actually reported (defaults filled in), so the charts and the
    // downloads show exactly what the tables show.
    let mut api_query = vec![format!("from={}", r.from), format!("to={}", r.to)];
    if let Some(t) = team {
        api_query.push(format!("team={t}"));
    }
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
    Ok(ReportData {
        from,
        to,
        team,
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
    })
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
    let d = report_data(state, s, &q).await?;
    let mut teams: Vec<(i64, String)> = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .map(|t| (t.id.0, t.name))
        .collect();
    teams.sort();
    Ok(render(&ReportsPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        from: d.from,
        to: d.to,
        team: d.team.map(|t| t.to_string()).unwrap_or_default(),
        teams,
        csv_query: d.api_query.clone(),
        api_query: d.api_query,
        figures: d.figures,
        outcomes: d.outcomes,
        escalations: d.escalations,
    }))
}

// ---------- CSV downloads ----------

/// One CSV cell: quoted when it holds a separator, quote or line break (quotes
/// doubled, RFC 4180), and defused when a spreadsheet would read it as a formula
/// (`=`, `+`, `-`, `@`, or a tab or carriage return first): a leading `'` keeps it text.
pub(crate) fn csv_cell(raw: &str) -> String {
    let mut v = String::with_capacity(raw.len() + 3);
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        v.push('\'');
    }
    v.push_str(raw);
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// A whole table, header first, lines ended with CRLF as RFC 4180 has it.
pub(crate) fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = String>, out: &mut String| {
        let joined: Vec<String> = cells.map(|c| csv_cell(&c)).collect();
        out.push_str(&joined.join(","));
        out.push_str("\r\n");
    };
    line(&mut header.iter().map(|h| (*h).to_owned()), &mut out);
    for r in rows {
        line(&mut r.iter().cloned(), &mut out);
    }
    out
}

async fn report_csv(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(table): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let made = async {
        let d = report_data(&state, &s, &q).await?;
        let (name, body) = match table.as_str() {
            "figures.csv" => (
                "figures",
                csv(
                    &["figure", "value"],
                    &d.figures
                        .iter()
                        .map(|f| vec![f.label.to_owned(), f.value.clone()])
                        .collect::<Vec<_>>(),
                ),
            ),
            "outcomes.csv" => (
                "outcomes",
                csv(
                    &["outcome", "tickets"],
                    &d.outcomes
                        .iter()
                        .map(|(k, n)| vec![k.clone(), n.to_string()])
                        .collect::<Vec<_>>(),
                ),
            ),
            "escalations.csv" => (
                "escalations",
                csv(
                    &["to_rung", "reason", "escalations"],
                    &d.escalations
                        .iter()
                        .map(|(r, why, n)| vec![r.clone(), why.clone(), n.to_string()])
                        .collect::<Vec<_>>(),
                ),
            ),
            _ => return Err(ApiError::not_found("report table")),
        };
        let team = d.team.map(|t| format!("-team{t}")).unwrap_or_default();
        Ok((
            format!("recourse-{name}-{}-{}{team}.csv", d.from, d.to),
            body,
        ))
    }
    .await;
    match made {
        Ok((file, body)) => {
            let mut r = (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                body,
            )
                .into_response();
            // The name is built from digits, dashes and our own words only.
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => error_response(&headers, &s, &e, "/console/reports"),
    }
}

// ---------- deciding a can't-help review ----------

#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    partial_solution: String,
}

/// Approve (the explanation goes to the customer and the ticket resolves) or send it
/// back to the agent with a note saying what is missing.
async fn decide_review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<ReviewForm>,
) -> Response {
    let back = "/console/manage";
    let filled = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let note = filled(&f.form.note);
    let approve = match f.form.decision.as_str() {
        "approve" => true,
        "return" if note.is_some() => false,
        "return" => {
            let e = ApiError::unprocessable(
                "note_required",
                "Say what is missing when you send an explanation back, so the agent knows what to change.",
            );
            return error_response(&f.headers, &f.session, &e, back);
        }
        _ => {
            let e = ApiError::bad_request("invalid_decision", "Choose to approve or to send back.");
            return error_response(&f.headers, &f.session, &e, back);
        }
    };
    let caller = f.session.caller();
    let decided: Result<(), ApiError> = async {
        caller.require_role(Role::Manager)?;
        let ticket = crate::api::tickets::visible_ticket(&state, &caller, &id).await?;
        let (after, _) = state
            .desk
            .review_cant_help(CantHelpReview {
                ticket_id: ticket.id,
                approve,
                note,
                partial_solution: filled(&f.form.partial_solution),
                channel: caller.channel(),
                actor: caller.actor(),
                now: crate::now(),
            })
            .await?;
        crate::api::surveys::invite_to_survey(&state, &after).await?;
        Ok(())
    }
    .await;
    match decided {
        Ok(()) => go_to(&f.headers, back),
        Err(e) => error_response(&f.headers, &f.session, &e, back),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_cell("plain words"), "plain words");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        for bad in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(
                csv_cell(bad).trim_start_matches('"').starts_with('\''),
                "{bad:?}"
            );
        }
        assert_eq!(
            csv_cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell("4.5%"), "4.5%");
        assert_eq!(
            csv(&["a", "b"], &[vec!["1".into(), "x,y".into()]]),
            "a,b\r\n1,\"x,y\"\r\n"
        );
    }
}
