//! The agent's screens: the queues and the ticket page with its actions. Each action
//! is a small form; htmx posts it and either follows the redirect it gets back or shows
//! the error next to the form. Without script the same forms work as plain posts.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::atomic::Ordering;

use recourse_desk::{AssigneeFilter, ConsoleQueue, NewIntervention, TicketFilter};
use recourse_domain::recovery::{CantHelpReason, rank_alternatives};
use recourse_domain::{
    Agent, Body, EscalationReason, InterventionKind, InterventionResult, MessageId, MessageKind,
    Millis, Role, TicketId,
};
use serde::Deserialize;
use serde_json::json;

use super::{PostForm, Session, answer, error_response, go_to, render, until, when, words};
use crate::AppState;
use crate::api::surveys::invite_to_survey;
use crate::api::views::{MessageView, TicketPage, TicketView};
use crate::api::{canned, escalations, judge, recovery, tickets};
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(queue))
        .route("/console/tickets/{id}", get(ticket))
        .route("/console/tickets/{id}/coach", post(coach))
        .route("/console/tickets/{id}/reply", post(reply))
        .route("/console/tickets/{id}/need", post(set_need))
        .route("/console/tickets/{id}/take", post(take))
        .route(
            "/console/tickets/{id}/interventions",
            post(add_intervention),
        )
        .route(
            "/console/tickets/{id}/escalate",
            get(escalate_form).post(escalate),
        )
        .route("/console/tickets/{id}/cant-help", post(cant_help))
        .route("/console/tickets/{id}/transfer", post(transfer))
        .route("/console/tickets/{id}/messages/{mid}/reveal", post(reveal))
        .route("/console/tickets/{id}/hand-off", post(hand_off))
        .route("/console/tickets/{id}/refer", post(refer))
        .route("/console/tickets/{id}/presence", post(presence))
        .route("/console/tickets/{id}/presence/leave", post(leave))
}

fn ticket_url(id: &str) -> String {
    format!("/console/tickets/{}", id.trim())
}

/// Agent ids to names, for authors and assignees.
async fn agent_names(state: &AppState) -> Result<HashMap<i64, String>, ApiError> {
    Ok(state
        .store
        .list_agents()
        .await?
        .into_iter()
        .map(|a| (a.id.0, a.name))
        .collect())
}

// ---------- queues ----------

/// One queue tab: its key in the address, its label, how to ask the API for it.
struct View {
    key: &'static str,
    label: &'static str,
}

const VIEWS: &[View] = &[
    View {
        key: "mine",
        label: "Mine",
    },
    View {
        key: "rung",
        label: "My rung",
    },
    View {
        key: "unassigned",
        label: "Unassigned",
    },
    View {
        key: "waiting",
        label: "Waiting on customer",
    },
    View {
        key: "breaching",
        label: "Breaching soon",
    },
    View {
        key: "flagged",
        label: "Flagged",
    },
    View {
        key: "ping_pong",
        label: "Passed around",
    },
    View {
        key: "review_pending",
        label: "Can't-help reviews",
    },
];

/// The queues count at most this many tickets: a number past it reads "999+". Each
/// count is one capped index scan (see `ConsoleQueue`), so it costs the same at a
/// million tickets as at a thousand.
pub(super) const COUNT_CAP: i64 = 999;

/// "Breaching soon" looks this far ahead (and at least as far as the SLA warning, so
/// every warned ticket is in it).
const BREACHING_SOON_HOURS: i64 = 4;

/// A count as the tabs show it.
pub(super) fn capped(n: i64) -> String {
    if n >= COUNT_CAP {
        format!("{COUNT_CAP}+")
    } else {
        n.to_string()
    }
}

/// The store's description of a queue tab, for its count (and, for the queues whose
/// listing needs an index the API's filter cannot name, its rows). Every agent may list every ticket
/// (as `GET /api/v1/tickets` allows), so reading the store directly grants nothing new.
async fn store_queue(
    state: &AppState,
    s: &Session,
    key: &str,
    my_rung: Option<&str>,
) -> Result<ConsoleQueue, ApiError> {
    let f = |f: TicketFilter| ConsoleQueue::Filter(f);
    Ok(match key {
        "rung" => f(TicketFilter {
            rung: Some(my_rung.unwrap_or("frontline").to_owned()),
            ..Default::default()
        }),
        "unassigned" => f(TicketFilter {
            assignee: AssigneeFilter::Unassigned,
            ..Default::default()
        }),
        "waiting" => f(TicketFilter {
            status: Some(recourse_domain::Status::PendingCustomer),
            ..Default::default()
        }),
        "ping_pong" => ConsoleQueue::PassedAround,
        "review_pending" => ConsoleQueue::ReviewPending,
        "breaching" => {
            let warn = i64::from(state.store.desk_config().await?.sla.warn_before_minutes);
            let ahead_min = (BREACHING_SOON_HOURS * 60).max(warn);
            ConsoleQueue::BreachingSoon {
                until: Millis(crate::now().0 + ahead_min * 60_000),
            }
        }
        "flagged" => ConsoleQueue::Flagged,
        _ => f(TicketFilter {
            assignee: AssigneeFilter::Agent(s.agent.id),
            ..Default::default()
        }),
    })
}

fn view_params(key: &str, my_rung: Option<&str>) -> serde_json::Value {
    match key {
        "rung" => json!({ "rung": my_rung.unwrap_or("frontline") }),
        "unassigned" => json!({ "assignee": "none" }),
        "waiting" => json!({ "status": "pending_customer" }),
        _ => json!({ "assignee": "me" }),
    }
}

pub(super) async fn list(
    state: &AppState,
    s: &Session,
    mut params: serde_json::Value,
    limit: i64,
) -> Result<TicketPage, ApiError> {
    params["limit"] = json!(limit);
    let p: tickets::ListParams = serde_json::from_value(params)
        .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?;
    tickets::ticket_page(state, &s.caller(), &p).await
}

/// The highest rung this agent may work: the queue they are most needed in.
async fn my_rung(state: &AppState, agent: &Agent) -> Result<Option<String>, ApiError> {
    let ladder = state.store.desk_config().await?.ladder;
    Ok(ladder
        .rungs()
        .iter()
        .rev()
        .find(|r| r.admits(agent.role, agent.experience))
        .map(|r| r.name.clone()))
}

struct Tab {
    key: &'static str,
    label: &'static str,
    count: String,
    current: bool,
}

struct Row {
    id: i64,
    number: i64,
    subject: String,
    status: String,
    priority: String,
    rung: String,
    assignee: String,
    flags: Vec<&'static str>,
    /// The nearest SLA deadline in words, empty when none runs.
    due: String,
    overdue: bool,
    updated: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    tabs: Vec<Tab>,
    label: &'a str,
    rows: Vec<Row>,
    query: String,
}

#[derive(Deserialize)]
struct QueueQuery {
    view: Option<String>,
    q: Option<String>,
}

async fn queue(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Response {
    match queue_inner(&state, &s, q).await {
        Ok(r) => r,
        Err(e) => error_response(&headers, &s, &e, "/console"),
    }
}

async fn queue_inner(state: &AppState, s: &Session, q: QueueQuery) -> Result<Response, ApiError> {
    let current = VIEWS
        .iter()
        .find(|v| Some(v.key) == q.view.as_deref())
        .unwrap_or(&VIEWS[0]);
    let rung = my_rung(state, &s.agent).await?;
    // The managers' flags are for managers; agents see their own work.
    let views: Vec<&View> = VIEWS
        .iter()
        .filter(|v| s.is_manager() || !matches!(v.key, "ping_pong" | "review_pending"))
        .collect();
    let mut tabs = Vec::with_capacity(views.len());
    for v in &views {
        let queue = store_queue(state, s, v.key, rung.as_deref()).await?;
        let n = state.store.count_console_queue(&queue, COUNT_CAP).await?;
        tabs.push(Tab {
            key: v.key,
            label: v.label,
            count: capped(n),
            current: v.key == current.key,
        });
    }
    let search = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let tickets: Vec<TicketView> = match (search, current.key) {
        (Some(text), _) => list(state, s, json!({ "q": text }), 50).await?.tickets,
        (None, "breaching" | "flagged" | "ping_pong" | "review_pending") => {
            let queue = store_queue(state, s, current.key, rung.as_deref()).await?;
            state
                .store
                .console_queue(&queue, 50)
                .await?
                .into_iter()
                .map(Into::into)
                .collect()
        }
        (None, key) => {
            list(state, s, view_params(key, rung.as_deref()), 50)
                .await?
                .tickets
        }
    };
    let names = agent_names(state).await?;
    let now = crate::now();
    let rows = tickets.into_iter().map(|t| row(t, &names, now)).collect();
    Ok(render(&QueuePage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        tabs,
        label: if search.is_some() {
            "Search results"
        } else {
            current.label
        },
        rows,
        query: search.unwrap_or_default().to_owned(),
    }))
}

fn row(t: TicketView, names: &HashMap<i64, String>, now: recourse_domain::Millis) -> Row {
    let mut flags = Vec::new();
    if t.ping_pong {
        flags.push("passed around");
    }
    if t.review_pending {
        flags.push("review pending");
    }
    if !t.sla.breached.is_empty() {
        flags.push("SLA breached");
    }
    let due = [
        &t.sla.first_response_due,
        &t.sla.next_update_due,
        &t.sla.resolution_due,
    ]
    .into_iter()
    .flatten()
    .min()
    .map(|d| until(d, now))
    .unwrap_or_default();
    Row {
        id: t.id,
        number: t.number,
        subject: t.subject,
        status: words(t.status.as_str()),
        priority: t.priority.as_str().to_owned(),
        rung: t.rung,
        assignee: t
            .assignee_id
            .and_then(|a| names.get(&a).cloned())
            .unwrap_or_else(|| "nobody".into()),
        flags,
        due: due.0,
        overdue: due.1,
        updated: when(&t.updated_at),
    }
}

// ---------- the ticket page ----------

struct Msg {
    id: i64,
    kind: &'static str,
    author: String,
    body: String,
    demeanor: Option<&'static str>,
    masked: bool,
    when: String,
    channel: &'static str,
    /// The received mail whose HTML the agent may look at (`/console/mail/{id}/html`).
    original: Option<i64>,
}

struct Iv {
    kind: String,
    description: String,
    result: &'static str,
    by: String,
    when: String,
}

struct Clock {
    label: &'static str,
    at: String,
    rel: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketScreen<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    t: TicketView,
    customer: String,
    supervised: bool,
    assignee: String,
    mine: bool,
    /// Some message was abusive: the agent may pass the case on without a reason.
    abusive: bool,
    messages: Vec<Msg>,
    interventions: Vec<Iv>,
    trajectory: Vec<(&'static str, String)>,
    clocks: Vec<Clock>,
    breached: Vec<String>,
    agents: Vec<(i64, String)>,
    rungs: Vec<(String, String)>,
    intervention_kinds: Vec<Choice>,
    intervention_results: Vec<Choice>,
    cant_help_reasons: Vec<Choice>,
    escalation_reasons: Vec<Choice>,
    /// For a manager on the top rung: where else the customer could be served, best
    /// match first (id, label). Empty hides the referral form.
    referrals: Vec<(i64, String)>,
    /// The canned replies to pick from (id, title).
    canned: Vec<(i64, String)>,
    /// What the composer starts with: a canned reply picked without script.
    draft: String,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageFragment<'a> {
    m: &'a Msg,
    t: &'a TicketView,
    csrf: &'a str,
}

fn msg(m: MessageView, names: &HashMap<i64, String>, customer: &str) -> Msg {
    let author = match (m.author.kind.as_str(), m.author.id) {
        ("agent", Some(id)) => names.get(&id).cloned().unwrap_or_else(|| "an agent".into()),
        ("customer", _) => customer.to_owned(),
        _ => "the desk".into(),
    };
    Msg {
        id: m.id,
        kind: m.kind.as_str(),
        author,
        body: m.body,
        demeanor: m.demeanor.map(|d| d.as_str()),
        masked: m.masked,
        when: when(&m.created_at),
        channel: m.channel.as_str(),
        original: None,
    }
}

struct Choice {
    value: &'static str,
    label: String,
    selected: bool,
}

fn choices(words_: &'static [&'static str], default: &str) -> Vec<Choice> {
    words_
        .iter()
        .map(|w| Choice {
            value: w,
            label: words(w),
            selected: *w == default,
        })
        .collect()
}

#[derive(Deserialize)]
struct TicketQuery {
    /// A canned reply to start the composer with (the picker's no-script path).
    canned: Option<String>,
}

async fn ticket(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TicketQuery>,
) -> Response {
    match ticket_inner(&state, &s, &id, q).await {
        Ok(r) => r,
        Err(e) => error_response(&headers, &s, &e, "/console"),
    }
}

async fn ticket_inner(
    state: &AppState,
    s: &Session,
    id: &str,
    q: TicketQuery,
) -> Result<Response, ApiError> {
    let caller = s.caller();
    let ticket = tickets::visible_ticket(state, &caller, id).await?;
    let detail = tickets::ticket_detail(state, &caller, ticket).await?;
    let t = detail.ticket;
    let names = agent_names(state).await?;
    let customer = state
        .store
        .get_customer(recourse_domain::CustomerId(t.customer_id))
        .await?;
    let customer_name = match &customer.name {
        Some(n) => format!("{n} <{}>", customer.email.as_str()),
        None => customer.email.as_str().to_owned(),
    };
    let ladder = state.store.desk_config().await?.ladder;
    let now = crate::now();
    let clocks = [
        ("First response", &t.sla.first_response_due),
        ("Next update", &t.sla.next_update_due),
        ("Resolution", &t.sla.resolution_due),
    ]
    .into_iter()
    .filter_map(|(label, due)| {
        let due = due.as_deref()?;
        let (rel, overdue) = until(due, now);
        Some(Clock {
            label,
            at: when(due),
            rel,
            overdue,
        })
    })
    .collect();
    // Emails that had an HTML part offer their formatting; masked ones never do.
    let originals: HashMap<i64, i64> = state
        .store
        .message_mail(TicketId(t.id))
        .await?
        .into_iter()
        .filter(|mm| mm.has_html)
        .map(|mm| (mm.message.0, mm.inbound_id))
        .collect();
    let messages: Vec<Msg> = detail
        .messages
        .into_iter()
        .map(|m| msg(m, &names, &customer_name))
        .map(|m| Msg {
            original: originals.get(&m.id).copied().filter(|_| !m.masked),
            ..m
        })
        .collect();
    let interventions = detail
        .interventions
        .into_iter()
        .map(|i| Iv {
            kind: words(i.kind.as_str()),
            description: i.description,
            result: i.result.as_str(),
            by: i
                .agent_id
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_default(),
            when: when(&i.created_at),
        })
        .collect();
    let trajectory = detail
        .demeanor_trajectory
        .iter()
        .map(|p| (p.demeanor.as_str(), when(&p.at)))
        .collect();
    let on_top = ladder.top().name == t.rung;
    let referrals = if s.is_manager() && on_top && t.status.is_active() {
        referral_choices(state, s, id).await?
    } else {
        Vec::new()
    };
    let mut agents: Vec<(i64, String)> = names
        .iter()
        .filter(|(a, _)| **a != s.agent.id.0)
        .map(|(a, n)| (*a, n.clone()))
        .collect();
    agents.sort_by(|a, b| a.1.cmp(&b.1));
    let canned_all = state.store.canned_replies().await?;
    let draft = match q.canned.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => {
            let cid = crate::extract::parse_id(raw, "canned reply")?;
            let reply = state.store.canned_reply(cid).await?;
            let ticket = state.store.get_ticket(TicketId(t.id)).await?;
            canned::render_for(state, &s.caller(), &reply, &ticket).await?
        }
        None => String::new(),
    };
    let screen = TicketScreen {
        me: Some(&s.agent),
        csrf: &s.csrf,
        customer: customer_name,
        supervised: customer.supervised,
        assignee: t
            .assignee_id
            .and_then(|a| names.get(&a).cloned())
            .unwrap_or_else(|| "nobody yet".into()),
        mine: t.assignee_id == Some(s.agent.id.0),
        abusive: messages.iter().any(|m: &Msg| m.demeanor == Some("abusive")),
        messages,
        interventions,
        trajectory,
        clocks,
        breached: t.sla.breached.iter().map(|b| words(b)).collect(),
        agents,
        rungs: ladder
            .rungs()
            .iter()
            .map(|r| (r.name.clone(), r.title.clone()))
            .collect(),
        intervention_kinds: choices(InterventionKind::WORDS, ""),
        intervention_results: choices(InterventionResult::WORDS, "pending"),
        cant_help_reasons: choices(CantHelpReason::WORDS, ""),
        escalation_reasons: choices(EscalationReason::WORDS, "agent_request"),
        referrals,
        canned: canned_all.into_iter().map(|c| (c.id, c.title)).collect(),
        draft,
        t,
    };
    Ok(render(&screen))
}

// ---------- the reply composer and its coach ----------

#[derive(Deserialize)]
struct DraftForm {
    #[serde(default)]
    body: String,
}

struct FlagLine {
    /// The stable identifier, for scripts and tests (`data-flag`).
    kind: String,
    /// The advice in a few words, for people.
    label: String,
    explanation: String,
    hint: String,
    evidence: Vec<String>,
}

#[derive(Template)]
#[template(path = "coach.html")]
struct CoachFragment {
    empty: bool,
    flags: Vec<FlagLine>,
    customer: Option<String>,
}

async fn coach(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<DraftForm>,
) -> Response {
    let draft = f.form.body;
    if draft.trim().is_empty() {
        return render(&CoachFragment {
            empty: true,
            flags: Vec::new(),
            customer: None,
        });
    }
    let ticket_id = match crate::extract::parse_id(&id, "ticket") {
        Ok(t) => t,
        Err(e) => return error_response(&f.headers, &f.session, &e, "/console"),
    };
    // Reading the draft is not enough: the ticket must be one this agent can see.
    if let Err(e) = tickets::visible_ticket(&state, &f.session.caller(), &id).await {
        return error_response(&f.headers, &f.session, &e, "/console");
    }
    let body = judge::CoachBody {
        draft,
        ticket_id: Some(ticket_id),
    };
    match judge::coach_view(&state, &body).await {
        Ok(v) => render(&CoachFragment {
            empty: false,
            flags: v
                .flags
                .into_iter()
                .map(|fl| FlagLine {
                    kind: fl.kind,
                    label: fl.label,
                    explanation: fl.explanation,
                    hint: fl.hint,
                    evidence: fl.evidence,
                })
                .collect(),
            customer: v.customer.map(|c| c.label),
        }),
        Err(e) => error_response(&f.headers, &f.session, &e, &ticket_url(&id)),
    }
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
}

async fn reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<ReplyForm>,
) -> Response {
    let back = ticket_url(&id);
    let kind = if f.form.kind == "note" {
        MessageKind::Note
    } else {
        MessageKind::Reply
    };
    let status = match f.form.status.as_str() {
        "" => None,
        s => match recourse_domain::Status::parse(s) {
            Ok(s) => Some(s),
            Err(e) => {
                let e = ApiError::bad_request("invalid_status", e.to_string());
                return error_response(&f.headers, &f.session, &e, &back);
            }
        },
    };
    let body = crate::api::views::PostMessage {
        kind: Some(kind),
        body: f.form.body,
        status,
    };
    let caller = f.session.caller();
    let sent: Result<(), ApiError> = async {
        let ticket = tickets::visible_ticket(&state, &caller, &id).await?;
        let message = tickets::new_message(&caller, ticket.id, body)?;
        state.desk.add_message(message).await?;
        state.metrics.messages_added.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    .await;
    let presence = state.presence.clone();
    match sent {
        Ok(()) => {
            // Sent: no longer "replying" (the page's next poll says it is still open).
            if let Ok(t) = crate::extract::parse_id(&id, "ticket") {
                presence.leave(TicketId(t), f.session.agent.id);
            }
            go_to(&f.headers, &back)
        }
        Err(e) => error_response(&f.headers, &f.session, &e, &back),
    }
}

// ---------- need and assignee ----------

#[derive(Deserialize)]
struct NeedForm {
    #[serde(default)]
    need: String,
}

async fn patch(
    state: AppState,
    f: &PostForm<impl Sized>,
    id: String,
    change: serde_json::Value,
) -> Response {
    let back = ticket_url(&id);
    let body = match serde_json::from_value(change) {
        Ok(b) => b,
        Err(e) => {
            let e = ApiError::bad_request("invalid_form", e.to_string());
            return error_response(&f.headers, &f.session, &e, &back);
        }
    };
    let caller = f.session.caller();
    let changed: Result<(), ApiError> = async {
        let ticket_id = TicketId(crate::extract::parse_id(&id, "ticket")?);
        let change = tickets::ticket_change(&state, body).await?;
        let after = state
            .desk
            .change_ticket(ticket_id, change, caller.actor(), crate::now())
            .await?;
        invite_to_survey(&state, &after).await?;
        Ok(())
    }
    .await;
    answer(&f.headers, &f.session, changed, &back)
}

async fn set_need(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<NeedForm>,
) -> Response {
    let need = f.form.need.trim().to_owned();
    patch(state, &f, id, json!({ "need": need })).await
}

#[derive(Deserialize)]
struct Empty {}

async fn take(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Empty>,
) -> Response {
    let me = f.session.agent.id.0;
    patch(state, &f, id, json!({ "assignee_id": me })).await
}

// ---------- interventions ----------

#[derive(Deserialize)]
struct InterventionForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    result: String,
}

async fn add_intervention(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<InterventionForm>,
) -> Response {
    let back = ticket_url(&id);
    let parsed = InterventionKind::parse(&f.form.kind).and_then(|k| {
        let r = match f.form.result.as_str() {
            "" => None,
            r => Some(InterventionResult::parse(r)?),
        };
        Ok((k, r))
    });
    let (kind, result) = match parsed {
        Ok(v) => v,
        Err(e) => {
            let e = ApiError::unprocessable("invalid_kind", e.to_string());
            return error_response(&f.headers, &f.session, &e, &back);
        }
    };
    let caller = f.session.caller();
    let added: Result<(), ApiError> = async {
        let ticket = tickets::visible_ticket(&state, &caller, &id).await?;
        let description = Body::parse_description(&f.form.description)?;
        state
            .store
            .add_intervention(NewIntervention {
                ticket_id: ticket.id,
                kind,
                description,
                result: result.unwrap_or(InterventionResult::Pending),
                agent_id: Some(f.session.agent.id),
                now: crate::now(),
            })
            .await?;
        Ok(())
    }
    .await;
    answer(&f.headers, &f.session, added, &back)
}

// ---------- escalation with the handoff draft ----------

#[derive(Template)]
#[template(path = "escalate.html")]
struct EscalateFragment<'a> {
    csrf: &'a str,
    id: i64,
    reason: &'a str,
    from_rung: String,
    to_rung: String,
    assignee: Option<String>,
    reply_by: String,
    body: String,
}

#[derive(Deserialize)]
struct ReasonQuery {
    reason: Option<String>,
}

async fn escalate_form(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ReasonQuery>,
) -> Response {
    let back = ticket_url(&id);
    let reason = match q.reason.as_deref().filter(|r| !r.is_empty()) {
        None => EscalationReason::AgentRequest,
        Some(r) => match EscalationReason::parse(r) {
            Ok(r) => r,
            Err(e) => {
                let e = ApiError::bad_request("invalid_reason", e.to_string());
                return error_response(&headers, &s, &e, &back);
            }
        },
    };
    let ticket_id = match crate::extract::parse_id(&id, "ticket") {
        Ok(t) => t,
        Err(e) => return error_response(&headers, &s, &e, &back),
    };
    let draft: Result<_, ApiError> = async {
        let ticket = tickets::visible_ticket(&state, &s.caller(), &id).await?;
        Ok(state
            .desk
            .handoff_draft(ticket.id, reason, crate::now())
            .await?)
    }
    .await;
    match draft {
        Ok(plan) => render(&EscalateFragment {
            csrf: &s.csrf,
            id: ticket_id,
            reason: reason.as_str(),
            from_rung: plan.ticket.rung.clone(),
            to_rung: plan.to.name.clone(),
            assignee: plan.assignee.as_ref().map(|a| a.name.clone()),
            reply_by: when(&crate::rfc3339(plan.reply_by)),
            body: plan.draft(Some(&s.agent.name)),
        }),
        Err(e) => error_response(&headers, &s, &e, &back),
    }
}

#[derive(Deserialize)]
struct EscalateForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    note: String,
}

async fn escalate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<EscalateForm>,
) -> Response {
    let back = ticket_url(&id);
    let reason = match EscalationReason::parse(&f.form.reason) {
        Ok(r) => r,
        Err(e) => {
            let e = ApiError::unprocessable("invalid_reason", e.to_string());
            return error_response(&f.headers, &f.session, &e, &back);
        }
    };
    let body = escalations::PostEscalation {
        reason,
        note: Some(f.form.note.clone()),
        message: Some(f.form.message.clone()),
        assignee_id: None,
    };
    let caller = f.session.caller();
    let escalated: Result<(), ApiError> = async {
        let request = escalations::escalation_request(&state, &caller, &id, body).await?;
        state.desk.escalate(request).await?;
        Ok(())
    }
    .await;
    answer(&f.headers, &f.session, escalated, &back)
}

// ---------- can't help and transfer ----------

#[derive(Deserialize)]
struct CantHelpForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    partial_solution: String,
    #[serde(default)]
    no_partial_justification: String,
    #[serde(default)]
    who: String,
    #[serde(default)]
    why_theirs: String,
    #[serde(default)]
    how_to_reach: String,
}

fn filled(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

async fn cant_help(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<CantHelpForm>,
) -> Response {
    let back = ticket_url(&id);
    let c = &f.form;
    let reason = match CantHelpReason::parse(&c.reason) {
        Ok(r) => r,
        Err(e) => {
            let e = ApiError::unprocessable("invalid_reason", e.to_string());
            return error_response(&f.headers, &f.session, &e, &back);
        }
    };
    let third_party = filled(&c.who).map(|who| recovery::ThirdPartyBody {
        who,
        why_theirs: c.why_theirs.trim().to_owned(),
        how_to_reach: c.how_to_reach.trim().to_owned(),
    });
    let body = recovery::PostCantHelp {
        reason,
        explanation: c.explanation.clone(),
        partial_solution: filled(&c.partial_solution),
        no_partial_justification: filled(&c.no_partial_justification),
        third_party,
        handoff_summary: None,
    };
    let caller = f.session.caller();
    let done: Result<(), ApiError> = async {
        let ticket = recovery::worked_ticket(&state, &caller, &id).await?;
        let request = recovery::cant_help_request(&caller, ticket.id, body)?;
        let (after, _) = state.desk.cant_help(request).await?;
        invite_to_survey(&state, &after).await?;
        Ok(())
    }
    .await;
    answer(&f.headers, &f.session, done, &back)
}

#[derive(Deserialize)]
struct TransferForm {
    #[serde(default)]
    to_agent_id: String,
    #[serde(default)]
    to_rung: String,
    #[serde(default)]
    customer_message: String,
}

async fn transfer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<TransferForm>,
) -> Response {
    let back = ticket_url(&id);
    let to_agent_id = match f.form.to_agent_id.trim() {
        "" => None,
        raw => match crate::extract::parse_id(raw, "agent") {
            Ok(a) => Some(a),
            Err(e) => return error_response(&f.headers, &f.session, &e, &back),
        },
    };
    let body = recovery::PostTransfer {
        to_agent_id,
        to_team_id: None,
        to_rung: filled(&f.form.to_rung),
        // Sent as typed (even empty): the API insists on the customer line.
        customer_message: Some(f.form.customer_message.clone()),
    };
    let caller = f.session.caller();
    let done: Result<(), ApiError> = async {
        let ticket = recovery::worked_ticket(&state, &caller, &id).await?;
        let request = recovery::transfer_request(&caller, ticket.id, body)?;
        state.desk.transfer(request).await?;
        Ok(())
    }
    .await;
    answer(&f.headers, &f.session, done, &back)
}

// ---------- masked messages ----------

async fn reveal(
    State(state): State<AppState>,
    Path((id, mid)): Path<(String, String)>,
    f: PostForm<Empty>,
) -> Response {
    let back = ticket_url(&id);
    let caller = f.session.caller();
    let shown: Result<(MessageView, TicketView), ApiError> = async {
        let ticket = tickets::visible_ticket(&state, &caller, &id).await?;
        let mid = MessageId(crate::extract::parse_id(&mid, "message")?);
        let m = state
            .desk
            .reveal_message(mid, caller.actor(), crate::now())
            .await?;
        if m.ticket_id != ticket.id {
            return Err(ApiError::not_found("message"));
        }
        let mut v: MessageView = m.into();
        v.masked = false;
        // Read again after the look is recorded, as the page shows it now.
        let t = tickets::visible_ticket(&state, &caller, &id).await?;
        Ok((v, t.into()))
    }
    .await;
    match shown {
        Ok((m, t)) => {
            let names = agent_names(&state).await.unwrap_or_default();
            let m = msg(m, &names, "the customer");
            let m = Msg { masked: false, ..m };
            render(&MessageFragment {
                m: &m,
                t: &t,
                csrf: &f.session.csrf,
            })
        }
        Err(e) => error_response(&f.headers, &f.session, &e, &back),
    }
}

// ---------- after abuse ----------

async fn hand_off(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Empty>,
) -> Response {
    let back = ticket_url(&id);
    let caller = f.session.caller();
    let done: Result<(), ApiError> = async {
        let ticket = tickets::visible_ticket(&state, &caller, &id).await?;
        state
            .desk
            .hand_off(ticket.id, f.session.agent.id, crate::now())
            .await?;
        Ok(())
    }
    .await;
    answer(&f.headers, &f.session, done, &back)
}

// ---------- referral, the manager's last stand ----------

/// The referral directory for this ticket: suggestions first, then every other active
/// entry, so a manager can always choose.
async fn referral_choices(
    state: &AppState,
    s: &Session,
    id: &str,
) -> Result<Vec<(i64, String)>, ApiError> {
    let ticket = tickets::visible_ticket(state, &s.caller(), id).await?;
    let all = state.store.alternatives().await?;
    let suggested = rank_alternatives(&all, &ticket.tags, ticket.need.as_deref());
    let mut out: Vec<(i64, String)> = suggested
        .into_iter()
        .map(|(a, _)| (a.id, format!("{} (suggested; {})", a.name, a.contact)))
        .collect();
    for a in all.iter().filter(|a| a.active) {
        if !out.iter().any(|(id, _)| *id == a.id) {
            out.push((a.id, format!("{} ({})", a.name, a.contact)));
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
struct ReferForm {
    #[serde(default)]
    alternative_id: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
}

async fn refer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<ReferForm>,
) -> Response {
    let back = ticket_url(&id);
    let alternative_id = match crate::extract::parse_id(f.form.alternative_id.trim(), "referral") {
        Ok(a) => a,
        Err(e) => return error_response(&f.headers, &f.session, &e, &back),
    };
    let body = recovery::PostReferral {
        alternative_id,
        reason: f.form.reason.clone(),
        message: filled(&f.form.message),
    };
    let caller = f.session.caller();
    let done: Result<(), ApiError> = async {
        let manager = caller.require_role(Role::Manager)?;
        let ticket = tickets::visible_ticket(&state, &caller, &id).await?;
        let request = recovery::referral_request(&caller, &manager.name, ticket.id, body)?;
        let after = state.desk.refer(request).await?;
        invite_to_survey(&state, &after).await?;
        Ok(())
    }
    .await;
    answer(&f.headers, &f.session, done, &back)
}

// ---------- who else has the ticket open ----------

#[derive(Deserialize)]
struct PresenceForm {
    /// "1" while the agent has typed in the composer since the last report.
    #[serde(default)]
    typing: String,
}

#[derive(Template)]
#[template(path = "presence.html")]
struct PresenceFragment {
    others: Vec<super::presence::Colleague>,
}

/// The ticket page's poll: reports this agent in and answers with the notice.
async fn presence(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<PresenceForm>,
) -> Response {
    let ticket = match tickets::visible_ticket(&state, &f.session.caller(), &id).await {
        Ok(t) => t,
        Err(e) => return error_response(&f.headers, &f.session, &e, "/console"),
    };
    let others = state.presence.report(
        ticket.id,
        f.session.agent.id,
        &f.session.agent.name,
        f.form.typing == "1",
        std::time::Instant::now(),
    );
    render(&PresenceFragment { others })
}

/// Sent (as a beacon) when the page goes away, so the notice clears at once.
async fn leave(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Empty>,
) -> Response {
    if let Ok(t) = crate::extract::parse_id(&id, "ticket") {
        state.presence.leave(TicketId(t), f.session.agent.id);
    }
    axum::http::StatusCode::NO_CONTENT.into_response()
}
