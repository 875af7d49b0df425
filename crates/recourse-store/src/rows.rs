//! Rows every area writes: events, tickets and their tags, messages, customers by
//! address, migrations. Plain functions over a [`Db`] (a transaction or a pool); the
//! area modules (`tickets`, `ladder`, `mail`, …) build on them.

pub(crate) use recourse_domain::{
    Actor, Agent, AgentId, Customer, CustomerId, EmailAddress, Event, EventKind, Intervention,
    InterventionId, Message, MessageId, Millis, Organization, OrganizationId, Team, TeamId, Ticket,
    TicketId,
};

pub(crate) use crate::common::{AGENT_COLS, MESSAGE_COLS, TICKET_COLS, fk_as_assignee, map_unique};
pub(crate) use crate::db::{self, Db, Row, SqlBuilder};
pub(crate) use crate::decode;
pub(crate) use crate::ladder::*;
pub(crate) use crate::mail;
pub(crate) use crate::table::{Cell, Col, Row as TableRow, Table};
pub(crate) use crate::{
    ApiToken, AssigneeFilter, Backend, NewAgent, NewApiToken, NewIntervention, NewSession, Result,
    SearchHit, SearchQuery, Session, Store, StoreError, TicketFilter,
};

/// Runs the migrations not yet recorded in `schema_migrations`, inside the
/// caller's transaction (which has created that table and holds any lock).
pub(crate) async fn apply_migrations(
    conn: &mut impl Db,
    migrations: &'static [(i64, &'static str, &'static str)],
) -> Result<()> {
    for (version, name, sql) in migrations {
        let done: Option<i64> =
            db::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *conn)
                .await?;
        if done.is_some() {
            continue;
        }
        db::raw_execute(sql, &mut *conn)
            .await
            .map_err(|e| StoreError::Migration(format!("{version}_{name}: {e}")))?;
        db::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(name)
            .bind(decode::now_millis())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Appends an event. The database queues it for every active webhook in the
/// same statement (the outbox trigger), so a committed event is never left
/// unsent.
pub(crate) async fn insert_event(
    conn: &mut impl Db,
    ticket: Option<TicketId>,
    actor: Actor,
    kind: &EventKind,
    at: Millis,
) -> Result<()> {
    insert_events(conn, ticket, &[(actor, kind)], at).await
}

/// Appends several events of one moment with one statement: every statement
/// is a round trip (on SQLite, a hand-off to the connection's thread).
pub(crate) async fn insert_events(
    conn: &mut impl Db,
    ticket: Option<TicketId>,
    events: &[(Actor, &EventKind)],
    at: Millis,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut qb =
        SqlBuilder::new("INSERT INTO events (ticket_id, actor_kind, actor_id, kind, data, at) ");
    qb.push_values(events, |mut row, (actor, kind)| {
        row.push_bind(ticket.map(|t| t.0))
            .push_bind(actor.kind())
            .push_bind(actor.id())
            .push_bind(kind.name())
            .push_bind(decode::event_json(kind))
            .push_bind(at.0);
    });
    qb.build().execute(&mut *conn).await?;
    Ok(())
}

/// Reads a ticket inside a write transaction, locked until it commits.
pub(crate) async fn lock_ticket(conn: &mut impl Db, id: TicketId) -> Result<Ticket> {
    let row = db::query(format!(
        "SELECT {TICKET_COLS} FROM tickets WHERE id = $1{}",
        conn.backend().row_lock()
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound("ticket"))?;
    decode::ticket(&row)
}

/// Writes a ticket's new state and its events, keeping `ticket_tags` and the
/// subject's search document in step.
pub(crate) async fn save_ticket(
    conn: &mut impl Db,
    cfg: &DeskConfig,
    before: &Ticket,
    after: &Ticket,
    events: &[EventKind],
    actor: Actor,
    now: Millis,
) -> Result<()> {
    // Nothing changed and nothing to record: no write at all.
    if before == after && events.is_empty() {
        return Ok(());
    }
    let sla = &after.sla;
    db::query(
        "UPDATE tickets SET need = $1, status = $2, priority = $3, assignee_id = $4, tags = $5, outcome = $6, updated_at = $7,
             rung = $8, needs_experience = $9, first_response_due = $10, next_update_due = $11, resolution_due = $12,
             sla_paused_at = $13, sla_warned = $14, sla_breached = $15, sla_next_at = $16,
             first_response_at = $17, ended_at = $18
         WHERE id = $19",
    )
    .bind(&after.need)
    .bind(after.status.as_str())
    .bind(after.priority.as_str())
    .bind(after.assignee_id.map(|a| a.0))
    .bind(decode::tags_json(&after.tags))
    .bind(after.outcome.map(|o| o.as_str()))
    .bind(after.updated_at.0)
    .bind(&after.rung)
    .bind(after.needs_experience)
    .bind(sla.first_response_due.map(|m| m.0))
    .bind(sla.next_update_due.map(|m| m.0))
    .bind(sla.resolution_due.map(|m| m.0))
    .bind(sla.paused_at.map(|m| m.0))
    .bind(i64::from(sla.warned))
    .bind(i64::from(sla.breached))
    .bind(sla.next_check(&cfg.sla).map(|m| m.0))
    .bind(after.first_response_at.map(|m| m.0))
    .bind(after.ended_at.map(|m| m.0))
    .bind(after.id.0)
    .execute(&mut *conn)
    .await?;
    if after.assignee_id.is_some() && after.assignee_id != before.assignee_id {
        note_assigned(conn, after.assignee_id, now).await?;
    }
    if before.tags != after.tags {
        db::query("DELETE FROM ticket_tags WHERE ticket_id = $1")
            .bind(after.id.0)
            .execute(&mut *conn)
            .await?;
        insert_tags(conn, after.id, &after.tags).await?;
    }
    let events: Vec<(Actor, &EventKind)> = events.iter().map(|e| (actor, e)).collect();
    insert_events(conn, Some(after.id), &events, now).await
}

pub(crate) async fn insert_tags(conn: &mut impl Db, id: TicketId, tags: &[String]) -> Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut qb = SqlBuilder::new("INSERT INTO ticket_tags (ticket_id, tag) ");
    qb.push_values(tags, |mut row, tag| {
        row.push_bind(id.0).push_bind(tag.clone());
    });
    qb.build().execute(&mut *conn).await?;
    Ok(())
}

pub(crate) fn push_filter(qb: &mut SqlBuilder, f: &TicketFilter) {
    if let Some(s) = f.status {
        qb.push(" AND t.status = ").push_bind(s.as_str());
    }
    if let Some(r) = &f.rung {
        qb.push(" AND t.rung = ").push_bind(r.clone());
    }
    match f.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => {
            qb.push(" AND t.assignee_id IS NULL");
        }
        AssigneeFilter::Agent(a) => {
            qb.push(" AND t.assignee_id = ").push_bind(a.0);
        }
    }
    if let Some(tag) = &f.tag {
        qb.push(" AND t.id IN (SELECT ticket_id FROM ticket_tags WHERE tag = ")
            .push_bind(tag.clone())
            .push(")");
    }
    if let Some(c) = f.customer {
        qb.push(" AND t.customer_id = ").push_bind(c.0);
    }
    match f.flag {
        Some(crate::TicketFlag::PingPong) => {
            qb.push(" AND t.ping_pong = ").push_bind(true);
        }
        Some(crate::TicketFlag::ReviewPending) => {
            qb.push(" AND t.review_pending = ").push_bind(true);
        }
        None => {}
    }
    if let Some(b) = f.before {
        qb.push(" AND t.id < ").push_bind(b.0);
    }
}

/// Finds or adds a customer by address. A name given later fills in a missing
/// one but never overwrites what we know; a customer whose mail domain belongs
/// to an organization joins it.
pub(crate) const UPSERT_CUSTOMER: &str =
    "INSERT INTO customers (email, name, organization_id, created_at)
     VALUES ($1, $2, (SELECT id FROM organizations WHERE domain = $3), $4)
     ON CONFLICT (email) DO UPDATE SET
         name = COALESCE(customers.name, excluded.name),
         organization_id = COALESCE(customers.organization_id, excluded.organization_id)
     RETURNING id, email, name, organization_id, supervised, created_at";

/// The customer a new ticket is for, and whether they are supervised.
pub(crate) async fn ticket_customer(
    conn: &mut impl Db,
    who: &crate::TicketFor,
    now: Millis,
) -> Result<(CustomerId, bool)> {
    match who {
        crate::TicketFor::Customer(id) => {
            let supervised: bool =
                db::query_scalar("SELECT supervised FROM customers WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound("customer"))?;
            Ok((*id, supervised))
        }
        crate::TicketFor::Address { email, name } => {
            let row = db::query(UPSERT_CUSTOMER)
                .bind(email.as_str())
                .bind(name.as_ref().map(|n| n.as_str()))
                .bind(email.domain())
                .bind(now.0)
                .fetch_one(&mut *conn)
                .await?;
            let customer = decode::customer(&row)?;
            Ok((customer.id, customer.supervised))
        }
    }
}

// One argument per column of `messages`; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_message(
    conn: &mut impl Db,
    ticket: TicketId,
    kind: recourse_domain::MessageKind,
    channel: recourse_domain::Channel,
    author: Actor,
    body: &str,
    demeanor: Option<recourse_domain::Demeanor>,
    now: Millis,
) -> Result<MessageId> {
    let id = insert_message_row(conn, ticket, kind, channel, author, body, demeanor, now).await?;
    if let Some(d) = demeanor {
        note_demeanor(conn, ticket, d).await?;
    }
    if kind == recourse_domain::MessageKind::Reply {
        // Every reply is also mailed to the customer: queued here, in the
        // reply's transaction, so a committed reply is never left unsent.
        mail::queue_outbound(conn, ticket, id, author == Actor::System, now).await?;
        // An answer to the customer ends any run of silent transfers.
        db::query("UPDATE tickets SET transfers_since_reply = 0 WHERE id = $1 AND transfers_since_reply <> 0")
            .bind(ticket.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

/// The message row alone (its search document follows by itself: a trigger
/// on SQLite, a generated column on PostgreSQL).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_message_row(
    conn: &mut impl Db,
    ticket: TicketId,
    kind: recourse_domain::MessageKind,
    channel: recourse_domain::Channel,
    author: Actor,
    body: &str,
    demeanor: Option<recourse_domain::Demeanor>,
    now: Millis,
) -> Result<MessageId> {
    let id: i64 = db::query_scalar(
        "INSERT INTO messages (ticket_id, kind, channel, author_kind, author_id, body, demeanor, masked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(ticket.0)
    .bind(kind.as_str())
    .bind(channel.as_str())
    .bind(author.kind())
    .bind(author.id())
    .bind(body)
    .bind(demeanor.map(|d| d.as_str()))
    .bind(demeanor == Some(recourse_domain::Demeanor::Abusive))
    .bind(now.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(MessageId(id))
}
