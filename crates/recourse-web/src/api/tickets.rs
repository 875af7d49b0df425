//! Tickets: create, read, list, edit, converse, record interventions, search.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_desk::{
    AssigneeFilter, NewIntervention, NewMessage, NewTicket, SearchQuery, TicketFilter, TicketFlag,
    TicketFor,
};
use recourse_domain::{
    AgentId, Body, Demeanor, EmailAddress, EventKind, MessageId, MessageKind, Need, PersonName,
    Priority, Status, Subject, Tag, Ticket, TicketChange, TicketId,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::views::*;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, parse_id};
use crate::{AppState, now};

/// Loads a ticket the caller may see. A customer asking for someone else's ticket
/// gets the same 404 as for a ticket that does not exist: no existence leak.
pub(crate) async fn visible_ticket(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
) -> Result<Ticket, ApiError> {
    let id = TicketId(parse_id(raw_id, "ticket")?);
    let ticket = state.store.get_ticket(id).await?;
    match caller {
        Caller::Customer { customer, .. } if ticket.customer_id != customer.id => {
            Err(ApiError::not_found("ticket"))
        }
        _ => Ok(ticket),
    }
}

#[utoipa::path(
    post, path = "/api/v1/tickets", tag = "tickets",
    request_body = CreateTicket,
    responses(
        (status = 201, description = "Ticket created", body = TicketView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn create_ticket(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTicket>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let ticket = state.desk.open_ticket(new_ticket(&caller, body)?).await?;
    state
        .metrics
        .tickets_created
        .fetch_add(1, Ordering::Relaxed);
    Ok((StatusCode::CREATED, Json(ticket.into())))
}

/// A new ticket as the desk takes it: agents say who it is for, customers open their own.
pub(crate) fn new_ticket(caller: &Caller, body: CreateTicket) -> Result<NewTicket, ApiError> {
    let subject = Subject::parse(&body.subject)?;
    let text = Body::parse(&body.body)?;
    let demeanor = super::judge::reading_for(MessageKind::Inbound, text.as_str());
    let need = body.need.as_deref().map(Need::parse).transpose()?.flatten();
    let tags = Tag::parse_all(&body.tags)?;
    let now = now();
    let (customer, channel) = match caller {
        Caller::Agent { .. } => {
            let input = body.customer.as_ref().ok_or_else(|| {
                ApiError::unprocessable(
                    "missing_customer",
                    "Say who the ticket is for: `customer.email`.",
                )
            })?;
            let email = EmailAddress::parse(&input.email)?;
            let name = input.name.as_deref().map(PersonName::parse).transpose()?;
            // Found or added in the ticket's own transaction.
            (TicketFor::Address { email, name }, caller.channel())
        }
        Caller::Customer { customer, .. } => {
            // A customer can only open tickets for themselves.
            if let Some(input) = &body.customer
                && EmailAddress::parse(&input.email)? != customer.email
            {
                return Err(ApiError::forbidden(
                    "A customer can only open tickets for themselves.",
                ));
            }
            (customer.id.into(), caller.channel())
        }
    };
    Ok(NewTicket {
        customer,
        subject,
        body: text,
        need,
        priority: body.priority.unwrap_or(Priority::Normal),
        tags,
        channel,
        demeanor,
        actor: caller.actor(),
        now,
    })
}

#[utoipa::path(
    get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TicketDetail>, ApiError> {
    let ticket = visible_ticket(&state, &caller, &id).await?;
    Ok(Json(ticket_detail(&state, &caller, ticket).await?))
}

/// A ticket the caller may see with its conversation, interventions and history, as
/// much of each as the caller may read (customers: their side of it only).
pub(crate) async fn ticket_detail(
    state: &AppState,
    caller: &Caller,
    ticket: Ticket,
) -> Result<TicketDetail, ApiError> {
    let (messages, interventions, events) = tokio::try_join!(
        state.store.messages(ticket.id),
        state.store.interventions(ticket.id),
        state.store.events(ticket.id)
    )?;
    let for_customer = caller.agent().is_none();
    let messages: Vec<MessageView> = messages
        .into_iter()
        .filter(|m| !(for_customer && m.kind == MessageKind::Note))
        .map(|m| {
            // Customers read their own words; agents see abusive ones masked (P8).
            if for_customer {
                MessageView::for_customer(m)
            } else {
                MessageView::for_agent(m)
            }
        })
        .collect();
    // Customers see the conversation and status changes, not the desk's inner workings.
    let history = events
        .into_iter()
        .filter(|e| {
            !for_customer
                || matches!(
                    e.kind,
                    EventKind::TicketCreated { .. }
                        | EventKind::StatusChanged { .. }
                        | EventKind::MessageAdded {
                            kind: MessageKind::Inbound | MessageKind::Reply,
                            ..
                        }
                )
        })
        .map(Into::into)
        .collect();
    let demeanor_trajectory = if for_customer {
        Vec::new()
    } else {
        messages
            .iter()
            .filter_map(|m| {
                Some(DemeanorPoint {
                    message_id: m.id,
                    demeanor: m.demeanor?,
                    at: m.created_at.clone(),
                })
            })
            .collect()
    };
    let interventions = if for_customer {
        Vec::new()
    } else {
        interventions.into_iter().map(Into::into).collect()
    };
    Ok(TicketDetail {
        ticket: ticket.into(),
        messages,
        interventions,
        demeanor_trajectory,
        history,
    })
}

/// `limit` for lists and searches: 1 to 100, 25 when absent.
pub(crate) fn page_limit(raw: Option<i64>) -> Result<i64, ApiError> {
    let limit = raw.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "`limit` must be between 1 and 100.",
        ));
    }
    Ok(limit)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// new, open, pending_customer, resolved or closed
    status: Option<String>,
    rung: Option<String>,
    /// An agent id, `me` or `none`.
    assignee: Option<String>,
    tag: Option<String>,
    /// Full-text search over subjects and messages; results come best match first.
    q: Option<String>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1 to 100, default 25.
    limit: Option<i64>,
    /// Managers' queues: `ping_pong` (passed on too often without an answer) or
    /// `review_pending` (a can't-help that offered nothing, waiting for review).
    flag: Option<String>,
}

fn parse_filter(p: &ListParams, caller: &Caller) -> Result<TicketFilter, ApiError> {
    let status = p
        .status
        .as_deref()
        .map(Status::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_status", e.to_string()))?;
    let rung = p
        .rung
        .as_deref()
        .map(recourse_domain::RungName::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.code, e.message))?;
    let assignee = match p.assignee.as_deref() {
        None => AssigneeFilter::Any,
        Some("none") => AssigneeFilter::Unassigned,
        Some("me") => AssigneeFilter::Agent(caller.require_agent()?.id),
        Some(raw) => AssigneeFilter::Agent(AgentId(raw.parse().map_err(|_| {
            ApiError::bad_request(
                "invalid_assignee",
                "`assignee` is an agent id, `me` or `none`.",
            )
        })?)),
    };
    let tag = p
        .tag
        .as_deref()
        .map(Tag::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.code, e.message))?;
    let before = match p.cursor.as_deref() {
        None => None,
        Some(c) => Some(TicketId(
            c.strip_prefix("t")
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_cursor",
                        "That cursor did not come from this API.",
                    )
                })?,
        )),
    };
    let limit = page_limit(p.limit)?;
    let customer = caller.customer_id();
    let flag = match p.flag.as_deref() {
        None => None,
        Some("ping_pong") => Some(TicketFlag::PingPong),
        Some("review_pending") => Some(TicketFlag::ReviewPending),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_flag",
                "`flag` is `ping_pong` or `review_pending`.",
            ));
        }
    };
    Ok(TicketFilter {
        flag,
        status,
        rung: rung.map(|r| r.into_inner()),
        assignee,
        tag: tag.map(|t| t.into_inner()),
        customer,
        before,
        limit,
    })
}

#[utoipa::path(
    get, path = "/api/v1/tickets", tag = "tickets",
    params(ListParams),
    responses((status = 200, body = TicketPage), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<TicketPage>, ApiError> {
    Ok(Json(ticket_page(&state, &caller, &p).await?))
}

/// One page of the tickets the caller may see (a customer only their own), by filter
/// or, with `q`, by full-text search.
pub(crate) async fn ticket_page(
    state: &AppState,
    caller: &Caller,
    p: &ListParams,
) -> Result<TicketPage, ApiError> {
    let mut filter = parse_filter(p, caller)?;
    if let Some(q) = p.q.as_deref().filter(|q| !q.trim().is_empty()) {
        if p.cursor.is_some() {
            return Err(ApiError::bad_request(
                "invalid_cursor",
                "Search results come in one page; drop `cursor` when using `q`.",
            ));
        }
        let hits = state
            .store
            .search(&SearchQuery {
                text: q.to_owned(),
                customer: filter.customer,
                filter,
            })
            .await?;
        return Ok(TicketPage {
            tickets: hits.into_iter().map(|h| h.ticket.into()).collect(),
            next_cursor: None,
        });
    }
    let limit = filter.limit;
    filter.limit += 1; // one extra tells whether another page exists
    let mut tickets = state.store.list_tickets(&filter).await?;
    let next_cursor = if tickets.len() as i64 > limit {
        tickets.truncate(limit as usize);
        tickets.last().map(|t| format!("t{}", t.id.0))
    } else {
        None
    };
    Ok(TicketPage {
        tickets: tickets.into_iter().map(Into::into).collect(),
        next_cursor,
    })
}

#[utoipa::path(
    patch, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PatchTicket,
    responses((status = 200, body = TicketView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn patch_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchTicket>,
) -> Result<Json<TicketView>, ApiError> {
    let id = TicketId(parse_id(&id, "ticket")?);
    caller.require_agent()?;
    let change = ticket_change(&state, body).await?;
    let ticket = state
        .desk
        .change_ticket(id, change, caller.actor(), now())
        .await?;
    super::surveys::invite_to_survey(&state, &ticket).await?;
    Ok(Json(ticket.into()))
}

/// An edit as the domain's change: the outcomes with routes of their own are refused,
/// a new assignee must be an active agent.
pub(crate) async fn ticket_change(
    state: &AppState,
    body: PatchTicket,
) -> Result<TicketChange, ApiError> {
    // These outcomes have their own routes, which ask for what they need: a referral
    // names where the customer goes; inconsolable is a manager's call with a note.
    match body.outcome {
        Some(recourse_domain::Outcome::Referred) => {
            return Err(ApiError::unprocessable(
                "use_referral_route",
                "Refer a customer with POST /api/v1/tickets/{id}/referral, which tells them where to go.",
            ));
        }
        Some(recourse_domain::Outcome::Inconsolable) => {
            return Err(ApiError::unprocessable(
                "use_inconsolable_route",
                "Close as inconsolable with POST /api/v1/tickets/{id}/inconsolable (managers, with a note).",
            ));
        }
        _ => {}
    }
    let assignee = match body.assignee_id {
        Some(Some(raw)) => {
            let agent = state.store.get_agent(AgentId(raw)).await.map_err(|_| {
                ApiError::unprocessable(
                    "unknown_assignee",
                    "There is no agent with that id to assign.",
                )
            })?;
            if !agent.active {
                return Err(ApiError::unprocessable(
                    "inactive_assignee",
                    "That agent's account is switched off.",
                ));
            }
            Some(Some(agent.id))
        }
        Some(None) => Some(None),
        None => None,
    };
    Ok(TicketChange {
        status: body.status,
        priority: body.priority,
        need: body
            .need
            .map(|n| {
                n.as_deref()
                    .map(Need::parse)
                    .transpose()
                    .map(Option::flatten)
            })
            .transpose()?,
        assignee,
        tags: body.tags.as_deref().map(Tag::parse_all).transpose()?,
        outcome: body.outcome,
    })
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/messages", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostMessage,
    responses((status = 201, body = MessageCreated), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostMessage>,
) -> Result<(StatusCode, Json<MessageCreated>), ApiError> {
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let (message, ticket) = state
        .desk
        .add_message(new_message(&caller, ticket.id, body)?)
        .await?;
    state.metrics.messages_added.fetch_add(1, Ordering::Relaxed);
    Ok((
        StatusCode::CREATED,
        Json(MessageCreated {
            message: message.into(),
            ticket: ticket.into(),
        }),
    ))
}

/// A message as the desk takes it: agents reply or add notes (and may set a status),
/// customers write; the demeanor judge reads it.
pub(crate) fn new_message(
    caller: &Caller,
    ticket_id: TicketId,
    body: PostMessage,
) -> Result<NewMessage, ApiError> {
    let text = Body::parse(&body.body)?;
    let (kind, channel, status) = match &caller {
        Caller::Agent { .. } => match body.kind {
            Some(k @ (MessageKind::Reply | MessageKind::Note)) => {
                (k, caller.channel(), body.status)
            }
            Some(MessageKind::Inbound) => {
                return Err(ApiError::unprocessable(
                    "invalid_kind",
                    "Agents post a `reply` or a `note`.",
                ));
            }
            None => {
                return Err(ApiError::unprocessable(
                    "missing_field",
                    "Say whether this is a `reply` or a `note` in `kind`.",
                ));
            }
        },
        Caller::Customer { .. } => {
            if matches!(body.kind, Some(MessageKind::Reply | MessageKind::Note))
                || body.status.is_some()
            {
                return Err(ApiError::forbidden(
                    "Customers write messages; only agents reply, add notes or set a status.",
                ));
            }
            (MessageKind::Inbound, caller.channel(), None)
        }
    };
    let demeanor = super::judge::reading_for(kind, text.as_str());
    Ok(NewMessage {
        ticket_id,
        kind,
        channel,
        author: caller.actor(),
        body: text,
        status,
        demeanor,
        now: now(),
    })
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/interventions", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PostIntervention,
    responses((status = 201, body = InterventionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn post_intervention(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostIntervention>,
) -> Result<(StatusCode, Json<InterventionView>), ApiError> {
    let agent = caller.require_agent()?.id;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let description = Body::parse_description(&body.description)?;
    let intervention = state
        .store
        .add_intervention(NewIntervention {
            ticket_id: ticket.id,
            kind: body.kind,
            description,
            result: body
                .result
                .unwrap_or(recourse_domain::InterventionResult::Pending),
            agent_id: Some(agent),
            now: now(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(intervention.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words to look for in subjects and messages.
    q: String,
    /// 1 to 100, default 25.
    limit: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/v1/search", tag = "tickets",
    params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    if p.q.trim().is_empty() {
        return Err(ApiError::bad_request(
            "empty_query",
            "Say what to search for in `q`.",
        ));
    }
    if p.q.len() > 1000 {
        return Err(ApiError::bad_request(
            "query_too_long",
            "Search text is limited to 1000 characters.",
        ));
    }
    let limit = page_limit(p.limit)?;
    let customer = caller.customer_id();
    let hits = state
        .store
        .search(&SearchQuery {
            text: p.q,
            customer,
            filter: TicketFilter {
                limit,
                ..TicketFilter::default()
            },
        })
        .await?;
    Ok(Json(SearchResults {
        hits: hits
            .into_iter()
            .map(|h| SearchHitView {
                ticket: h.ticket.into(),
                score: h.score,
            })
            .collect(),
    }))
}

// ---------- demeanor readings ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemeanorBody {
    #[schema(schema_with = words::demeanor)]
    pub demeanor: Demeanor,
}

#[utoipa::path(
    put, path = "/api/v1/tickets/{id}/messages/{message_id}/demeanor", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id"), ("message_id" = i64, Path, description = "Message id")),
    request_body = DemeanorBody,
    responses(
        (status = 200, description = "Recorded; the automatic rules ran on it", body = TicketView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn set_demeanor(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, message_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<DemeanorBody>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require_agent()?;
    let ticket = visible_ticket(&state, &caller, &id).await?;
    let message = MessageId(parse_id(&message_id, "message")?);
    let belongs = state
        .store
        .messages(ticket.id)
        .await?
        .iter()
        .any(|m| m.id == message);
    if !belongs {
        return Err(ApiError::not_found("message"));
    }
    let after = state
        .desk
        .set_demeanor(message, body.demeanor, caller.actor(), now())
        .await?;
    Ok(Json(after.into()))
}
