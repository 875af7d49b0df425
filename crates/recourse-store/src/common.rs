//! What the SQLite and PostgreSQL backends share: the column lists, error mapping, and
//! (through [`impl_store!`]) every `Store` method whose SQL is the same on both.

use crate::{SearchQuery, StoreError, TicketFilter};

pub(crate) const TICKET_COLS: &str = "id, number, subject, need, status, priority, rung, customer_id, assignee_id, team_id, tags, outcome, needs_experience, first_response_due, next_update_due, resolution_due, sla_paused_at, sla_warned, sla_breached, first_response_at, ended_at, ping_pong, review_pending, created_at, updated_at";
pub(crate) const AGENT_COLS: &str =
    "id, email, name, role, experience, skills, team_id, capacity, active, present, created_at";
pub(crate) const MESSAGE_COLS: &str =
    "id, ticket_id, kind, channel, author_kind, author_id, body, demeanor, masked, created_at";

pub(crate) fn map_unique(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(format!("{what} already exists"))
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::NotFound("referenced record")
        }
        _ => StoreError::Database(e),
    }
}

/// The ticket columns qualified as `t.…`, for queries that join `tickets t`.
pub(crate) fn ticket_cols_of_t() -> String {
    TICKET_COLS
        .split(", ")
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The listing filter applied to search hits: a customer's search stays within their
/// own tickets, and hits are ranked by score, so the id cursor does not apply.
pub(crate) fn search_filter(q: &SearchQuery) -> TicketFilter {
    let mut filter = q.filter.clone();
    filter.customer = q.customer.or(filter.customer);
    filter.before = None;
    filter
}

/// An assignee that does not exist surfaces as a foreign-key failure on write.
pub(crate) fn fk_as_assignee(e: StoreError) -> StoreError {
    match e {
        StoreError::Database(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
            StoreError::NotFound("assignee")
        }
        other => other,
    }
}

/// Implements [`Store`](crate::Store) for one backend's store type, once for both.
///
/// Both schemas use the same table and column names, and both backends accept `$1`
/// placeholders, so nearly all SQL is identical; only the sqlx types differ. A macro
/// rather than generics because sqlx is generic over the database only through
/// `Encode`/`Type`/`Executor` bounds on every bound value and every executor, which
/// would swamp each method; the macro writes the code once and the compiler checks
/// it twice, against concrete types.
///
/// `impl_store!(StoreType, Database, Connection)` expands to a private `shared`
/// module holding the helpers (`insert_event`, `save_ticket`, `push_filter`,
/// `apply_migrations`, …) and the `impl Store`; it sees the invoking module through
/// `use super::*`. The store type must provide these inherent items, which hold
/// everything that differs between the backends:
///
/// - `const BACKEND: Backend`;
/// - `const ROW_LOCK: &str`, appended to the `SELECT` that reads a ticket about to be
///   changed inside a write transaction;
/// - `const CLAIM_LOCK: &str`, appended to the `SELECT`s that claim work (due SLA
///   checks, webhook deliveries) so several nodes can claim at once without overlap;
/// - `const RAW_HAS_HTML: &str`, an SQL test of whether `i.raw` (a received message's
///   bytes) contains `text/html`;
/// - `fn reader(&self) -> &Pool<DB>` and `fn writer(&self) -> &Pool<DB>`;
/// - `async fn begin(&self) -> Result<Transaction<'static, DB>>`, a write transaction;
/// - `const NEXT_TICKET_NUMBER: &str`, the SQL expression that draws a new ticket's
///   number inside its `INSERT`;
/// - `async fn after_seed(conn: &mut Conn, after: i64) -> Result<()>`, which brings
///   derived data up to date after a bulk seed of tickets with ids above `after`;
/// - `async fn search_impl(&self, q: &SearchQuery) -> Result<Vec<SearchHit>>` and
///   `async fn finish_import_impl(&self) -> Result<()>`, which have their own SQL.
macro_rules! impl_store {
    ($store:ty, $db:ty, $conn:ty) => {
        /// The code both backends share; written once in `common.rs`.
        mod shared {
            use super::*;

            use async_trait::async_trait;
            use recourse_domain::{
                Actor, Agent, AgentId, Customer, CustomerId, EmailAddress, Event, EventKind,
                Intervention, InterventionId, Message, MessageId, Millis, Organization,
                OrganizationId, Team, TeamId, Ticket, TicketChange, TicketId, apply_change,
                message_change,
            };
            use sqlx::{AssertSqlSafe, QueryBuilder, Row};

            use $crate::common::{AGENT_COLS, MESSAGE_COLS, TICKET_COLS, fk_as_assignee, map_unique};
            use $crate::decode;
            use $crate::table::{Cell, Col, Row as TableRow, Table};

            $crate::ladder_sql::ladder_sql!($store, $db, $conn);
            $crate::recovery_sql::recovery_sql!($store, $db, $conn);
            $crate::mail_sql::mail_sql!($store, $db, $conn);
            $crate::portal_sql::portal_sql!($store, $db, $conn);
            $crate::console_sql::console_sql!($store, $db, $conn);
            use $crate::{
                ApiToken, AssigneeFilter, Backend, NewAgent, NewApiToken, NewIntervention,
                NewMessage, NewSession, NewTicket, Result, SearchHit, SearchQuery, Session,
                Store, StoreError, TicketFilter,
            };

            /// Runs the migrations not yet recorded in `schema_migrations`, inside the
            /// caller's transaction (which has created that table and holds any lock).
            pub(super) async fn apply_migrations(
                conn: &mut $conn,
                migrations: &'static [(i64, &'static str, &'static str)],
            ) -> Result<()> {
                for (version, name, sql) in migrations {
                    let done: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                            .bind(version)
                            .fetch_optional(&mut *conn)
                            .await?;
                    if done.is_some() {
                        continue;
                    }
                    sqlx::raw_sql(*sql)
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| StoreError::Migration(format!("{version}_{name}: {e}")))?;
                    sqlx::query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    )
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
            async fn insert_event(
                conn: &mut $conn,
                ticket: Option<TicketId>,
                actor: Actor,
                kind: &EventKind,
                at: Millis,
            ) -> Result<()> {
                insert_events(conn, ticket, &[(actor, kind)], at).await
            }

            /// Appends several events of one moment with one statement: every statement
            /// is a round trip (on SQLite, a hand-off to the connection's thread).
            async fn insert_events(
                conn: &mut $conn,
                ticket: Option<TicketId>,
                events: &[(Actor, &EventKind)],
                at: Millis,
            ) -> Result<()> {
                if events.is_empty() {
                    return Ok(());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "INSERT INTO events (ticket_id, actor_kind, actor_id, kind, data, at) ",
                );
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
            async fn lock_ticket(conn: &mut $conn, id: TicketId) -> Result<Ticket> {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {TICKET_COLS} FROM tickets WHERE id = $1{}",
                    <$store>::ROW_LOCK
                )))
                .bind(id.0)
                .fetch_optional(conn)
                .await?
                .ok_or(StoreError::NotFound("ticket"))?;
                decode::ticket(&row)
            }

            /// Writes a ticket's new state and its events, keeping `ticket_tags` and the
            /// subject's search document in step.
            async fn save_ticket(
                conn: &mut $conn,
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
                sqlx::query(
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
                    sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1")
                        .bind(after.id.0)
                        .execute(&mut *conn)
                        .await?;
                    insert_tags(conn, after.id, &after.tags).await?;
                }
                let events: Vec<(Actor, &EventKind)> = events.iter().map(|e| (actor, e)).collect();
                insert_events(conn, Some(after.id), &events, now).await
            }

            async fn insert_tags(conn: &mut $conn, id: TicketId, tags: &[String]) -> Result<()> {
                if tags.is_empty() {
                    return Ok(());
                }
                let mut qb = QueryBuilder::<$db>::new("INSERT INTO ticket_tags (ticket_id, tag) ");
                qb.push_values(tags, |mut row, tag| {
                    row.push_bind(id.0).push_bind(tag.clone());
                });
                qb.build().execute(&mut *conn).await?;
                Ok(())
            }

            pub(super) fn push_filter(qb: &mut QueryBuilder<$db>, f: &TicketFilter) {
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
                    Some($crate::TicketFlag::PingPong) => {
                        qb.push(" AND t.ping_pong = ").push_bind(true);
                    }
                    Some($crate::TicketFlag::ReviewPending) => {
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
            const UPSERT_CUSTOMER: &str = "INSERT INTO customers (email, name, organization_id, created_at)
                 VALUES ($1, $2, (SELECT id FROM organizations WHERE domain = $3), $4)
                 ON CONFLICT (email) DO UPDATE SET
                     name = COALESCE(customers.name, excluded.name),
                     organization_id = COALESCE(customers.organization_id, excluded.organization_id)
                 RETURNING id, email, name, organization_id, supervised, created_at";

            /// The customer a new ticket is for, and whether they are supervised.
            async fn ticket_customer(conn: &mut $conn, who: &$crate::TicketFor, now: Millis) -> Result<(CustomerId, bool)> {
                match who {
                    $crate::TicketFor::Customer(id) => {
                        let supervised: bool = sqlx::query_scalar("SELECT supervised FROM customers WHERE id = $1")
                            .bind(id.0)
                            .fetch_optional(&mut *conn)
                            .await?
                            .ok_or(StoreError::NotFound("customer"))?;
                        Ok((*id, supervised))
                    }
                    $crate::TicketFor::Address { email, name } => {
                        let row = sqlx::query(UPSERT_CUSTOMER)
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
            async fn insert_message(
                conn: &mut $conn,
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
                    sqlx::query("UPDATE tickets SET transfers_since_reply = 0 WHERE id = $1 AND transfers_since_reply <> 0")
                        .bind(ticket.0)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(id)
            }

            /// The message row alone (its search document follows by itself: a trigger
            /// on SQLite, a generated column on PostgreSQL).
            #[allow(clippy::too_many_arguments)]
            async fn insert_message_row(
                conn: &mut $conn,
                ticket: TicketId,
                kind: recourse_domain::MessageKind,
                channel: recourse_domain::Channel,
                author: Actor,
                body: &str,
                demeanor: Option<recourse_domain::Demeanor>,
                now: Millis,
            ) -> Result<MessageId> {
                let id: i64 = sqlx::query_scalar(
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

            #[async_trait]
            impl Store for $store {
                fn backend(&self) -> Backend {
                    <$store>::BACKEND
                }

                async fn ping(&self) -> Result<()> {
                    sqlx::query("SELECT 1").execute(self.reader()).await?;
                    Ok(())
                }

                async fn upsert_customer(
                    &self,
                    email: &EmailAddress,
                    name: Option<&str>,
                    now: Millis,
                ) -> Result<Customer> {
                    let row = sqlx::query(UPSERT_CUSTOMER)
                    .bind(email.as_str())
                    .bind(name)
                    .bind(email.domain())
                    .bind(now.0)
                    .fetch_one(self.writer())
                    .await?;
                    decode::customer(&row)
                }

                async fn get_customer(&self, id: CustomerId) -> Result<Customer> {
                    let row = sqlx::query(
                        "SELECT id, email, name, organization_id, supervised, created_at FROM customers WHERE id = $1",
                    )
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or(StoreError::NotFound("customer"))?;
                    decode::customer(&row)
                }

                async fn customer_by_email(&self, email: &EmailAddress) -> Result<Option<Customer>> {
                    let row = sqlx::query(
                        "SELECT id, email, name, organization_id, supervised, created_at FROM customers WHERE email = $1",
                    )
                    .bind(email.as_str())
                    .fetch_optional(self.reader())
                    .await?;
                    row.as_ref().map(decode::customer).transpose()
                }

                async fn create_organization(
                    &self,
                    name: &str,
                    domain: Option<&str>,
                    now: Millis,
                ) -> Result<Organization> {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO organizations (name, domain, created_at) VALUES ($1, $2, $3) RETURNING id",
                    )
                    .bind(name)
                    .bind(domain)
                    .bind(now.0)
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| map_unique(e, "an organization with that domain"))?;
                    Ok(Organization {
                        id: OrganizationId(id),
                        name: name.to_owned(),
                        domain: domain.map(str::to_owned),
                        created_at: now,
                    })
                }

                async fn create_team(&self, name: &str) -> Result<Team> {
                    let id: i64 = sqlx::query_scalar("INSERT INTO teams (name) VALUES ($1) RETURNING id")
                        .bind(name)
                        .fetch_one(self.writer())
                        .await
                        .map_err(|e| map_unique(e, "a team with that name"))?;
                    Ok(Team {
                        id: TeamId(id),
                        name: name.to_owned(),
                    })
                }

                async fn list_teams(&self) -> Result<Vec<Team>> {
                    let rows = sqlx::query("SELECT id, name FROM teams ORDER BY name")
                        .fetch_all(self.reader())
                        .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(Team {
                                id: TeamId(r.try_get("id")?),
                                name: r.try_get("name")?,
                            })
                        })
                        .collect()
                }

                async fn create_agent(&self, a: NewAgent) -> Result<Agent> {
                    let skills: Vec<String> = a.skills.iter().map(|s| s.as_str().to_owned()).collect();
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO agents (email, name, role, experience, skills, team_id, capacity, active, password_hash, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $9) RETURNING {AGENT_COLS}"
                    )))
                    .bind(a.email.as_str())
                    .bind(a.name.as_str())
                    .bind(a.role.as_str())
                    .bind(a.experience.as_str())
                    .bind(decode::tags_json(&skills))
                    .bind(a.team_id.map(|t| t.0))
                    .bind(i64::from(a.capacity))
                    .bind(&a.password_hash)
                    .bind(a.now.0)
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| map_unique(e, "an agent with that email"))?;
                    decode::agent(&row)
                }

                async fn get_agent(&self, id: AgentId) -> Result<Agent> {
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {AGENT_COLS} FROM agents WHERE id = $1"
                    )))
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or(StoreError::NotFound("agent"))?;
                    decode::agent(&row)
                }

                async fn list_agents(&self) -> Result<Vec<Agent>> {
                    let rows = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {AGENT_COLS} FROM agents ORDER BY name, id"
                    )))
                    .fetch_all(self.reader())
                    .await?;
                    rows.iter().map(decode::agent).collect()
                }

                async fn agent_credentials(&self, email: &EmailAddress) -> Result<Option<(Agent, String)>> {
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {AGENT_COLS}, password_hash FROM agents WHERE email = $1"
                    )))
                    .bind(email.as_str())
                    .fetch_optional(self.reader())
                    .await?;
                    match row {
                        Some(r) => Ok(Some((decode::agent(&r)?, r.try_get("password_hash")?))),
                        None => Ok(None),
                    }
                }

                async fn set_agent_password(&self, id: AgentId, password_hash: &str) -> Result<()> {
                    let done = sqlx::query("UPDATE agents SET password_hash = $1 WHERE id = $2")
                        .bind(password_hash)
                        .bind(id.0)
                        .execute(self.writer())
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("agent"));
                    }
                    Ok(())
                }

                async fn update_agent(&self, id: AgentId, c: $crate::AgentChange, actor: Actor, now: Millis) -> Result<Agent> {
                    let mut tx = self.begin().await?;
                    // Switching someone off also marks them away, so routing passes them by.
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE agents SET role = COALESCE($1, role), experience = COALESCE($2, experience),
                           team_id = CASE WHEN $3 THEN $4 ELSE team_id END, capacity = COALESCE($5, capacity),
                           active = COALESCE($6, active), present = CASE WHEN $6 = FALSE THEN FALSE ELSE present END
                         WHERE id = $7 RETURNING {AGENT_COLS}"
                    )))
                    .bind(c.role.map(|r| r.as_str()))
                    .bind(c.experience.map(|e| e.as_str()))
                    .bind(c.team_id.is_some())
                    .bind(c.team_id.flatten().map(|t| t.0))
                    .bind(c.capacity.map(i64::from))
                    .bind(c.active)
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| map_unique(e, "that agent"))?
                    .ok_or(StoreError::NotFound("agent"))?;
                    let agent = decode::agent(&row)?;
                    let kind = EventKind::AgentChanged {
                        agent_id: agent.id,
                        role: agent.role,
                        experience: agent.experience,
                        team_id: agent.team_id,
                        capacity: agent.capacity,
                        active: agent.active,
                    };
                    insert_event(&mut tx, None, actor, &kind, now).await?;
                    tx.commit().await?;
                    Ok(agent)
                }

                async fn open_tickets_by_agent(&self) -> Result<Vec<(AgentId, i64)>> {
                    let rows: Vec<(i64, i64)> = sqlx::query_as(
                        "SELECT assignee_id, COUNT(*) FROM tickets
                         WHERE assignee_id IS NOT NULL AND status IN ('new', 'open', 'pending_customer')
                         GROUP BY assignee_id",
                    )
                    .fetch_all(self.reader())
                    .await?;
                    Ok(rows.into_iter().map(|(a, n)| (AgentId(a), n)).collect())
                }

                async fn create_api_token(&self, t: NewApiToken) -> Result<ApiToken> {
                    let (kind, pid) = t.principal.parts();
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO api_tokens (token_hash, name, principal_kind, principal_id, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(&t.token_hash)
                    .bind(&t.name)
                    .bind(kind)
                    .bind(pid)
                    .bind(&t.scope)
                    .bind(t.now.0)
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| map_unique(e, "that token"))?;
                    Ok(ApiToken {
                        id,
                        principal: t.principal,
                        name: t.name,
                        scope: t.scope,
                        created_at: t.now,
                        revoked_at: None,
                    })
                }

                async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
                    let row = sqlx::query("SELECT id, name, principal_kind, principal_id, scope, created_at, revoked_at FROM api_tokens WHERE token_hash = $1")
                        .bind(token_hash)
                        .fetch_optional(self.reader())
                        .await?;
                    let Some(r) = row else { return Ok(None) };
                    decode::api_token(&r).map(Some)
                }

                async fn revoke_api_token(&self, id: i64, now: Millis) -> Result<()> {
                    let done = sqlx::query(
                        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
                    )
                    .bind(now.0)
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("token"));
                    }
                    Ok(())
                }

                async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
                    let rows = sqlx::query("SELECT id, name, principal_kind, principal_id, scope, created_at, revoked_at FROM api_tokens ORDER BY id DESC")
                        .fetch_all(self.reader())
                        .await?;
                    rows.iter().map(decode::api_token).collect()
                }

                async fn create_session(&self, s: NewSession) -> Result<()> {
                    let (kind, pid) = s.principal.parts();
                    let mut tx = self.begin().await?;
                    // Expired sessions are swept whenever a new one starts, so the table stays small.
                    sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                        .bind(s.now.0)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO sessions (id_hash, principal_kind, principal_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(&s.id_hash)
                        .bind(kind)
                        .bind(pid)
                        .bind(&s.csrf_token)
                        .bind(s.now.0)
                        .bind(s.expires_at.0)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn session_by_hash(&self, id_hash: &str, now: Millis) -> Result<Option<Session>> {
                    let row = sqlx::query("SELECT principal_kind, principal_id, csrf_token, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2")
                        .bind(id_hash)
                        .bind(now.0)
                        .fetch_optional(self.reader())
                        .await?;
                    let Some(r) = row else { return Ok(None) };
                    decode::session(&r).map(Some)
                }

                async fn delete_session(&self, id_hash: &str) -> Result<()> {
                    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                        .bind(id_hash)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn create_ticket(&self, t: NewTicket) -> Result<Ticket> {
                    // Every statement here is a round trip (on SQLite a hand-off to the
                    // connection's thread), so what can be known up front is, and rows of a
                    // kind go in together.
                    let tags: Vec<String> = t.tags.iter().map(|x| x.as_str().to_owned()).collect();
                    // The configuration is read before the writer is taken, so the writer
                    // (which every write waits for) is held for one statement less; a
                    // change that commits in between applies from the next ticket on.
                    let cfg = load_config(&mut *self.reader().acquire().await?).await?;
                    let mut tx = self.begin().await?;
                    // A supervised customer's cases start with a manager (P8); they are
                    // never turned away.
                    let (customer_id, supervised) = ticket_customer(&mut tx, &t.customer, t.now).await?;
                    let rung = if supervised { cfg.ladder.top() } else { cfg.ladder.first() }.clone();
                    // The clocks start and the ticket goes to whoever on its rung is free
                    // (with nobody free it waits in the rung's queue): decided before the
                    // row is written, so it is written once.
                    let sla = recourse_domain::SlaClocks::default().advance(
                        &cfg.sla,
                        &cfg.calendar,
                        t.priority,
                        recourse_domain::Status::New,
                        recourse_domain::Status::New,
                        SlaEvent::Created,
                        t.now,
                    );
                    let pool = candidates(&mut tx).await?;
                    let assignee = choose_assignee(&rung, &tags, false, None, &pool);
                    let demeanor = t.demeanor.map(|d| d.as_str());
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO tickets (number, subject, need, status, priority, rung, customer_id, tags, created_at, updated_at,
                                              assignee_id, first_response_due, resolution_due, sla_next_at, first_demeanor, last_demeanor)
                         VALUES ({}, $1, $2, 'new', $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $12) RETURNING {TICKET_COLS}",
                        <$store>::NEXT_TICKET_NUMBER
                    )))
                    .bind(t.subject.as_str())
                    .bind(t.need.as_ref().map(|n| n.as_str()))
                    .bind(t.priority.as_str())
                    .bind(&rung.name)
                    .bind(customer_id.0)
                    .bind(decode::tags_json(&tags))
                    .bind(t.now.0)
                    .bind(assignee.map(|a| a.0))
                    .bind(sla.first_response_due.map(|m| m.0))
                    .bind(sla.resolution_due.map(|m| m.0))
                    .bind(sla.next_check(&cfg.sla).map(|m| m.0))
                    .bind(demeanor)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| map_unique(e, "that ticket"))?;
                    let mut ticket = decode::ticket(&row)?;
                    insert_tags(&mut tx, ticket.id, &tags).await?;
                    let message_id = insert_message_row(
                        &mut tx,
                        ticket.id,
                        recourse_domain::MessageKind::Inbound,
                        t.channel,
                        t.actor,
                        t.body.as_str(),
                        t.demeanor,
                        t.now,
                    )
                    .await?;
                    let created = EventKind::TicketCreated {
                        subject: ticket.subject.clone(),
                        priority: ticket.priority,
                        rung: ticket.rung.clone(),
                    };
                    let added = EventKind::MessageAdded {
                        message_id,
                        kind: recourse_domain::MessageKind::Inbound,
                    };
                    let routed = assignee.map(|to| EventKind::AssigneeChanged { from: None, to: Some(to) });
                    let mut events = vec![(t.actor, &created), (t.actor, &added)];
                    if let Some(routed) = &routed {
                        events.push((Actor::System, routed));
                    }
                    insert_events(&mut tx, Some(ticket.id), &events, t.now).await?;
                    note_assigned(&mut tx, assignee, t.now).await?;
                    if t.demeanor.is_some() {
                        ticket = apply_rules_counted(
                            &mut tx,
                            &cfg,
                            ticket,
                            message_id,
                            t.demeanor,
                            RuleCounts::FIRST_MESSAGE,
                            t.now,
                        )
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(ticket)
                }

                async fn get_ticket(&self, id: TicketId) -> Result<Ticket> {
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {TICKET_COLS} FROM tickets WHERE id = $1"
                    )))
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or(StoreError::NotFound("ticket"))?;
                    decode::ticket(&row)
                }

                async fn list_tickets(&self, f: &TicketFilter) -> Result<Vec<Ticket>> {
                    let mut qb =
                        QueryBuilder::<$db>::new(format!("SELECT {TICKET_COLS} FROM tickets t WHERE 1 = 1"));
                    push_filter(&mut qb, f);
                    qb.push(" ORDER BY t.id DESC LIMIT ").push_bind(f.limit);
                    let rows = qb.build().fetch_all(self.reader()).await?;
                    rows.iter().map(decode::ticket).collect()
                }

                async fn update_ticket(
                    &self,
                    id: TicketId,
                    change: TicketChange,
                    actor: Actor,
                    now: Millis,
                ) -> Result<Ticket> {
                    let mut tx = self.begin().await?;
                    let cfg = load_config(&mut tx).await?;
                    let before = lock_ticket(&mut tx, id).await?;
                    let (mut after, events) = apply_change(&before, &change, now)?;
                    advance_sla(&cfg, &before, &mut after, SlaEvent::Changed, now);
                    save_ticket(&mut tx, &cfg, &before, &after, &events, actor, now)
                        .await
                        .map_err(fk_as_assignee)?;
                    tx.commit().await?;
                    Ok(after)
                }

                async fn add_message(&self, m: NewMessage) -> Result<(Message, Ticket)> {
                    // Read before the writer is taken, as for a new ticket.
                    let cfg = load_config(&mut *self.reader().acquire().await?).await?;
                    let mut tx = self.begin().await?;
                    let before = lock_ticket(&mut tx, m.ticket_id).await?;
                    let change = message_change(&before, m.kind, m.status)?;
                    let (mut after, events) = apply_change(&before, &change, m.now)?;
                    after.updated_at = m.now;
                    let sla_event = match m.kind {
                        recourse_domain::MessageKind::Inbound => SlaEvent::CustomerWrote,
                        recourse_domain::MessageKind::Reply => SlaEvent::AgentReplied,
                        recourse_domain::MessageKind::Note => SlaEvent::Changed,
                    };
                    advance_sla(&cfg, &before, &mut after, sla_event, m.now);
                    note_response(&mut after, m.kind, m.now);
                    let demeanor = m.demeanor.filter(|_| m.kind == recourse_domain::MessageKind::Inbound);
                    let id = insert_message(
                        &mut tx,
                        m.ticket_id,
                        m.kind,
                        m.channel,
                        m.author,
                        m.body.as_str(),
                        demeanor,
                        m.now,
                    )
                    .await?;
                    // The message's event first, then what it changed: one statement.
                    let added = EventKind::MessageAdded { message_id: id, kind: m.kind };
                    let events: Vec<EventKind> = std::iter::once(added).chain(events).collect();
                    save_ticket(&mut tx, &cfg, &before, &after, &events, m.author, m.now).await?;
                    if m.kind == recourse_domain::MessageKind::Inbound {
                        after = apply_rules(&mut tx, &cfg, after, id, demeanor, m.now).await?;
                    }
                    tx.commit().await?;
                    let message = Message {
                        id,
                        ticket_id: m.ticket_id,
                        kind: m.kind,
                        channel: m.channel,
                        author: m.author,
                        body: m.body.into_inner(),
                        demeanor,
                        masked: demeanor == Some(recourse_domain::Demeanor::Abusive),
                        created_at: m.now,
                    };
                    Ok((message, after))
                }

                async fn add_intervention(&self, i: NewIntervention) -> Result<Intervention> {
                    let mut tx = self.begin().await?;
                    let before = lock_ticket(&mut tx, i.ticket_id).await?;
                    if before.status == recourse_domain::Status::Closed {
                        return Err(recourse_domain::ChangeError::from(
                            recourse_domain::TransitionError::Closed,
                        )
                        .into());
                    }
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO interventions (ticket_id, kind, description, result, agent_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(i.ticket_id.0)
                    .bind(i.kind.as_str())
                    .bind(i.description.as_str())
                    .bind(i.result.as_str())
                    .bind(i.agent_id.map(|a| a.0))
                    .bind(i.now.0)
                    .fetch_one(&mut *tx)
                    .await?;
                    let actor = i.agent_id.map(Actor::Agent).unwrap_or(Actor::System);
                    let kind = EventKind::InterventionRecorded {
                        intervention_id: InterventionId(id),
                        kind: i.kind,
                        result: i.result,
                    };
                    let after = Ticket { updated_at: i.now, ..before.clone() };
                    let cfg = load_config(&mut tx).await?;
                    save_ticket(&mut tx, &cfg, &before, &after, &[kind], actor, i.now).await?;
                    tx.commit().await?;
                    Ok(Intervention {
                        id: InterventionId(id),
                        ticket_id: i.ticket_id,
                        kind: i.kind,
                        description: i.description.into_inner(),
                        result: i.result,
                        agent_id: i.agent_id,
                        created_at: i.now,
                    })
                }

                async fn messages(&self, ticket: TicketId) -> Result<Vec<Message>> {
                    let rows = sqlx::query(AssertSqlSafe(format!("SELECT {MESSAGE_COLS} FROM messages WHERE ticket_id = $1 ORDER BY id")))
                        .bind(ticket.0)
                        .fetch_all(self.reader())
                        .await?;
                    rows.iter().map(decode::message).collect()
                }

                async fn interventions(&self, ticket: TicketId) -> Result<Vec<Intervention>> {
                    let rows = sqlx::query("SELECT id, ticket_id, kind, description, result, agent_id, created_at FROM interventions WHERE ticket_id = $1 ORDER BY id")
                        .bind(ticket.0)
                        .fetch_all(self.reader())
                        .await?;
                    rows.iter().map(decode::intervention).collect()
                }

                async fn events(&self, ticket: TicketId) -> Result<Vec<Event>> {
                    let rows = sqlx::query("SELECT id, ticket_id, actor_kind, actor_id, data, at FROM events WHERE ticket_id = $1 ORDER BY id")
                        .bind(ticket.0)
                        .fetch_all(self.reader())
                        .await?;
                    rows.iter().map(decode::event).collect()
                }

                async fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
                    self.search_impl(q).await
                }

                async fn setting(&self, key: &str) -> Result<Option<String>> {
                    ladder::setting(self, key).await
                }

                async fn put_setting(&self, key: &str, value: &str, actor: Actor, now: Millis) -> Result<()> {
                    ladder::put_setting(self, key, Some(value), actor, now).await
                }

                async fn reset_setting(&self, key: &str, actor: Actor, now: Millis) -> Result<()> {
                    ladder::put_setting(self, key, None, actor, now).await
                }

                async fn desk_config(&self) -> Result<DeskConfig> {
                    let mut conn = self.reader().acquire().await?;
                    load_config(&mut conn).await
                }

                async fn handoff_plan(&self, ticket: TicketId, reason: recourse_domain::EscalationReason, now: Millis) -> Result<$crate::HandoffPlan> {
                    ladder::handoff_plan(self, ticket, reason, now).await
                }

                async fn escalate(&self, request: $crate::EscalationRequest) -> Result<Ticket> {
                    ladder::escalate(self, request).await
                }

                async fn move_down(&self, request: $crate::Descent) -> Result<Ticket> {
                    ladder::move_down(self, request).await
                }

                async fn escalations(&self, ticket: TicketId) -> Result<Vec<$crate::EscalationRecord>> {
                    ladder::escalations(self, ticket).await
                }

                async fn set_presence(&self, agent: AgentId, present: bool, actor: Actor, now: Millis) -> Result<(Agent, Vec<TicketId>)> {
                    ladder::set_presence(self, agent, present, actor, now).await
                }

                async fn set_demeanor(&self, message: MessageId, demeanor: recourse_domain::Demeanor, actor: Actor, now: Millis) -> Result<Ticket> {
                    ladder::set_demeanor(self, message, demeanor, actor, now).await
                }

                async fn sweep_sla(&self, now: Millis, limit: i64) -> Result<$crate::SweepReport> {
                    ladder::sweep_sla(self, now, limit).await
                }

                async fn create_webhook(&self, url: &str, secret: &str, events: &[String], now: Millis) -> Result<$crate::Webhook> {
                    ladder::create_webhook(self, url, secret, events, now).await
                }

                async fn list_webhooks(&self) -> Result<Vec<$crate::Webhook>> {
                    ladder::list_webhooks(self).await
                }

                async fn deactivate_webhook(&self, id: i64, now: Millis) -> Result<()> {
                    ladder::deactivate_webhook(self, id, now).await
                }

                async fn claim_deliveries(&self, now: Millis, lease_ms: i64, limit: i64) -> Result<Vec<$crate::Delivery>> {
                    ladder::claim_deliveries(self, now, lease_ms, limit).await
                }

                async fn finish_delivery(&self, id: i64, result: std::result::Result<(), String>, now: Millis) -> Result<()> {
                    ladder::finish_delivery(self, id, result, now).await
                }

                async fn webhook_deliveries(&self, webhook: i64, limit: i64) -> Result<Vec<$crate::DeliveryStatus>> {
                    ladder::webhook_deliveries(self, webhook, limit).await
                }

                async fn cant_help(&self, r: $crate::CantHelpRequest) -> Result<(Ticket, $crate::CantHelpRecord)> {
                    recovery::cant_help(self, r).await
                }

                async fn review_cant_help(&self, r: $crate::CantHelpReview) -> Result<(Ticket, $crate::CantHelpRecord)> {
                    recovery::review_cant_help(self, r).await
                }

                async fn cant_help_records(&self, ticket: Option<TicketId>, limit: i64) -> Result<Vec<$crate::CantHelpRecord>> {
                    recovery::cant_help_records(self, ticket, limit).await
                }

                async fn transfer(&self, r: $crate::TransferRequest) -> Result<Ticket> {
                    recovery::transfer(self, r).await
                }

                async fn save_alternative(&self, id: Option<i64>, a: $crate::NewAlternative, now: Millis) -> Result<recourse_domain::recovery::Alternative> {
                    recovery::save_alternative(self, id, a, now).await
                }

                async fn alternatives(&self) -> Result<Vec<recourse_domain::recovery::Alternative>> {
                    recovery::alternatives(self).await
                }

                async fn refer(&self, r: $crate::ReferralRequest) -> Result<Ticket> {
                    recovery::refer(self, r).await
                }

                async fn hand_off(&self, ticket: TicketId, agent: AgentId, now: Millis) -> Result<Ticket> {
                    recovery::hand_off(self, ticket, agent, now).await
                }

                async fn reveal_message(&self, message: MessageId, actor: Actor, now: Millis) -> Result<Message> {
                    recovery::reveal_message(self, message, actor, now).await
                }

                async fn set_supervised(&self, customer: CustomerId, supervised: bool, actor: Actor, now: Millis) -> Result<Customer> {
                    recovery::set_supervised(self, customer, supervised, actor, now).await
                }

                async fn abuse_count(&self, customer: CustomerId) -> Result<i64> {
                    recovery::abuse_count(self, customer).await
                }

                async fn open_survey(&self, ticket: TicketId, token_hash: &str, invite: &str, now: Millis) -> Result<bool> {
                    recovery::open_survey(self, ticket, token_hash, invite, now).await
                }

                async fn survey_by_token(&self, token_hash: &str) -> Result<Option<$crate::Survey>> {
                    recovery::survey_by_token(self, token_hash).await
                }

                async fn answer_survey(&self, token_hash: &str, answer: recourse_domain::recovery::SurveyAnswer, comment: Option<String>, now: Millis) -> Result<$crate::Survey> {
                    recovery::answer_survey(self, token_hash, answer, comment, now).await
                }

                async fn report_summary(&self, q: &$crate::ReportQuery) -> Result<$crate::ReportSummary> {
                    recovery::report_summary(self, q).await
                }

                // --- email ---
                async fn save_mailbox(&self, address: &EmailAddress, team: Option<TeamId>, now: Millis) -> Result<$crate::Mailbox> {
                    mail::save_mailbox(self, address, team, now).await
                }

                async fn mailboxes(&self) -> Result<Vec<$crate::Mailbox>> {
                    mail::mailboxes(self).await
                }

                async fn delete_mailbox(&self, id: i64) -> Result<()> {
                    mail::delete_mailbox(self, id).await
                }

                async fn store_inbound_mail(&self, m: $crate::NewInboundMail) -> Result<i64> {
                    mail::store_inbound_mail(self, m).await
                }

                async fn imap_cursor(&self, account: &str) -> Result<Option<$crate::ImapCursor>> {
                    mail::imap_cursor(self, account).await
                }

                async fn store_imap_mail(&self, m: $crate::NewInboundMail, account: &str, at: $crate::ImapCursor) -> Result<Option<i64>> {
                    mail::store_imap_mail(self, m, account, at).await
                }

                async fn reset_imap_cursor(&self, account: &str, uidvalidity: i64, now: Millis) -> Result<()> {
                    mail::reset_imap_cursor(self, account, uidvalidity, now).await
                }

                async fn claim_inbound_mail(&self, id: i64, now: Millis, lease_ms: i64) -> Result<Option<$crate::ClaimedMail>> {
                    mail::claim_inbound_mail(self, id, now, lease_ms).await
                }

                async fn due_inbound_mail(&self, now: Millis, limit: i64) -> Result<Vec<i64>> {
                    mail::due_inbound_mail(self, now, limit).await
                }

                async fn claim_message_id(&self, message_id: &str, inbound: i64, now: Millis) -> Result<bool> {
                    mail::claim_message_id(self, message_id, inbound, now).await
                }

                async fn thread_of(&self, message_ids: &[String]) -> Result<Option<TicketId>> {
                    mail::thread_of(self, message_ids).await
                }

                async fn ticket_by_number(&self, number: i64) -> Result<Option<Ticket>> {
                    mail::ticket_by_number(self, number).await
                }

                async fn finish_inbound_mail(&self, o: $crate::InboundOutcome) -> Result<()> {
                    mail::finish_inbound_mail(self, o).await
                }

                async fn requeue_inbound_mail(&self, id: i64) -> Result<()> {
                    mail::requeue_inbound_mail(self, id).await
                }

                async fn inbound_mail(&self, state: Option<$crate::MailState>, before: Option<i64>, limit: i64) -> Result<Vec<$crate::InboundMailSummary>> {
                    mail::inbound_mail(self, state, before, limit).await
                }

                async fn inbound_mail_raw(&self, id: i64) -> Result<Vec<u8>> {
                    mail::inbound_mail_raw(self, id).await
                }

                async fn inbound_mail_origin(&self, id: i64) -> Result<$crate::InboundMailOrigin> {
                    mail::inbound_mail_origin(self, id).await
                }

                async fn message_mail(&self, ticket: TicketId) -> Result<Vec<$crate::MessageMail>> {
                    mail::message_mail(self, ticket).await
                }

                async fn attachments(&self, ticket: TicketId) -> Result<Vec<$crate::AttachmentInfo>> {
                    mail::attachments(self, ticket).await
                }

                async fn bouncing_since(&self, address: &str) -> Result<Option<Millis>> {
                    mail::bouncing_since(self, address).await
                }

                async fn claim_outbound_mail(&self, now: Millis, lease_ms: i64, limit: i64) -> Result<Vec<$crate::OutboundMail>> {
                    mail::claim_outbound_mail(self, now, lease_ms, limit).await
                }

                async fn finish_outbound_mail(&self, id: i64, result: $crate::OutboundResult, now: Millis) -> Result<()> {
                    mail::finish_outbound_mail(self, id, result, now).await
                }

                async fn outbound_mail(&self, ticket: TicketId) -> Result<Vec<$crate::OutboundMailStatus>> {
                    mail::outbound_mail(self, ticket).await
                }
                // --- end email ---

                async fn console_queue(&self, q: &$crate::ConsoleQueue, limit: i64) -> Result<Vec<Ticket>> {
                    console::queue(self, q, limit).await
                }

                async fn count_console_queue(&self, q: &$crate::ConsoleQueue, cap: i64) -> Result<i64> {
                    console::count(self, q, cap).await
                }

                async fn canned_replies(&self) -> Result<Vec<$crate::CannedReply>> {
                    console::canned_replies(self).await
                }

                async fn canned_reply(&self, id: i64) -> Result<$crate::CannedReply> {
                    console::canned_reply(self, id).await
                }

                async fn save_canned_reply(&self, id: Option<i64>, c: $crate::NewCannedReply, now: Millis) -> Result<$crate::CannedReply> {
                    console::save_canned_reply(self, id, c, now).await
                }

                async fn delete_canned_reply(&self, id: i64) -> Result<()> {
                    console::delete_canned_reply(self, id).await
                }

                // --- customer portal ---
                async fn request_portal_link(&self, email: &EmailAddress, max_recent: i64, window_ms: i64, now: Millis) -> Result<bool> {
                    portal::request_portal_link(self, email, max_recent, window_ms, now).await
                }

                async fn claim_portal_links(&self, now: Millis, lease_ms: i64, limit: i64) -> Result<Vec<$crate::PortalLinkMail>> {
                    portal::claim_portal_links(self, now, lease_ms, limit).await
                }

                async fn arm_portal_link(&self, id: i64, token_hash: &str, expires_at: Millis) -> Result<()> {
                    portal::arm_portal_link(self, id, token_hash, expires_at).await
                }

                async fn finish_portal_link(&self, id: i64, result: $crate::OutboundResult, now: Millis) -> Result<()> {
                    portal::finish_portal_link(self, id, result, now).await
                }

                async fn portal_link_state(&self, token_hash: &str, now: Millis) -> Result<Option<$crate::PortalLinkState>> {
                    portal::portal_link_state(self, token_hash, now).await
                }

                async fn use_portal_link(&self, token_hash: &str, session: $crate::NewPortalSession, now: Millis) -> Result<Option<CustomerId>> {
                    portal::use_portal_link(self, token_hash, session, now).await
                }

                async fn survey_token_hash(&self, ticket: TicketId) -> Result<Option<String>> {
                    portal::survey_token_hash(self, ticket).await
                }

                async fn add_portal_attachments(&self, ticket: TicketId, message: MessageId, files: Vec<$crate::NewPortalAttachment>, now: Millis) -> Result<()> {
                    portal::add_portal_attachments(self, ticket, message, files, now).await
                }

                async fn ticket_attachments(&self, ticket: TicketId) -> Result<Vec<$crate::PortalAttachment>> {
                    portal::ticket_attachments(self, ticket).await
                }

                async fn attachment_content(&self, id: i64) -> Result<Option<($crate::PortalAttachment, Vec<u8>)>> {
                    portal::attachment_content(self, id).await
                }
                // --- end customer portal ---

                async fn seed_tickets(&self, spec: &$crate::SeedSpec) -> Result<u64> {
                    let mut tx = self.begin().await?;
                    let (base_number, last_id): (i64, i64) = sqlx::query_as(
                        "SELECT COALESCE(MAX(number), 1000), COALESCE(MAX(id), 0) FROM tickets",
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    let at = spec.created_at.0;
                    // Due tickets' first response was due an hour after creation; the
                    // rest owe theirs a year out, one millisecond apart.
                    let year = 365 * 24 * 3_600_000i64;
                    // Tickets spread over customers of their own, `tickets_per_customer`
                    // each (as on a real desk, where the planners see many customers), or
                    // all for `customer_id`.
                    let per = spec.tickets_per_customer;
                    if per > 0 {
                        sqlx::query(
                            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
                             INSERT INTO customers (email, created_at) SELECT 'seeded-' || ($2 + n) || '@example.com', $3 FROM seq",
                        )
                        .bind((spec.count + per - 1) / per)
                        .bind(base_number)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let customer = if per > 0 {
                        format!("COALESCE((SELECT id FROM customers WHERE email = 'seeded-' || ($2 + 1 + (n - 1) / {per}) || '@example.com'), $4)")
                    } else {
                        "$4".to_owned()
                    };
                    let open_sql = format!("WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
                         INSERT INTO tickets (number, subject, status, priority, rung, customer_id, tags, created_at, updated_at,
                                              first_response_due, resolution_due, sla_next_at)
                         SELECT $2 + n, 'Seeded ticket ' || n, 'open', 'normal', $3, {customer}, '[]', $5, $5,
                                CASE WHEN n <= $6 THEN $5 + 3600000 ELSE $7 + n END, $7 + n,
                                CASE WHEN n <= $6 THEN $5 + 3600000 ELSE $7 + n - 1800000 END
                         FROM seq");
                    // Ended: 2% inconsolable, then referred, explained and resolved; every
                    // fifth customer started angry and every tenth ended calm; a quarter
                    // were transferred once; one in twenty-five breached an SLA clock.
                    let ended_sql = format!("WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
                         INSERT INTO tickets (number, subject, status, priority, rung, customer_id, tags, created_at, updated_at,
                                              outcome, ended_at, first_response_at, first_demeanor, last_demeanor, transfers, sla_breached)
                         SELECT $2 + n, 'Seeded ticket ' || n, 'closed', 'normal', $3, {customer}, '[]', $5, $5 + 3600000 + (n * 86) % 86400000,
                                CASE WHEN n % 50 = 0 THEN 'inconsolable' WHEN n % 50 < 3 THEN 'referred' WHEN n % 50 < 8 THEN 'explained' ELSE 'resolved' END,
                                $5 + 3600000 + (n * 86) % 86400000, $5 + 600000,
                                CASE WHEN n % 5 = 0 THEN 'angry' ELSE 'neutral' END,
                                CASE WHEN n % 10 = 0 THEN 'neutral' WHEN n % 5 = 0 THEN 'angry' ELSE 'neutral' END,
                                CASE WHEN n % 4 = 0 THEN 1 ELSE 0 END, CASE WHEN n % 25 = 0 THEN 1 ELSE 0 END
                         FROM seq");
                    let query = sqlx::query(AssertSqlSafe(if spec.ended { ended_sql } else { open_sql }))
                        .bind(spec.count)
                        .bind(base_number)
                        .bind(&spec.rung)
                        .bind(spec.customer_id.0)
                        .bind(at);
                    let query = if spec.ended {
                        query
                    } else {
                        query.bind(spec.due).bind(at + year)
                    };
                    let done = query.execute(&mut *tx).await?;
                    sqlx::query(
                        "WITH RECURSIVE k(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM k WHERE m < $2)
                         INSERT INTO messages (ticket_id, kind, channel, author_kind, author_id, body, created_at)
                         SELECT t.id, 'inbound', 'email', 'customer', t.customer_id,
                                'Seeded message ' || k.m || ' for ' || t.subject, t.created_at + (k.m - 1) * 60000
                         FROM tickets t CROSS JOIN k WHERE t.id > $1 AND k.m <= $2
                         ORDER BY t.id, k.m",
                    )
                    .bind(last_id)
                    .bind(spec.messages)
                    .execute(&mut *tx)
                    .await?;
                    <$store>::after_seed(&mut tx, last_id).await?;
                    tx.commit().await?;
                    Ok(done.rows_affected())
                }

                async fn count_rows(&self, table: &str) -> Result<i64> {
                    let t = crate::table::by_name(table).ok_or(StoreError::NotFound("table"))?;
                    Ok(
                        sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {}", t.name)))
                            .fetch_one(self.reader())
                            .await?,
                    )
                }

                async fn export_rows(&self, table: &Table, after: i64, limit: i64) -> Result<Vec<TableRow>> {
                    let sql = format!(
                        "SELECT {} FROM {} WHERE id > $1 ORDER BY id LIMIT $2",
                        table.column_list(),
                        table.name
                    );
                    let rows = sqlx::query(AssertSqlSafe(sql))
                        .bind(after)
                        .bind(limit)
                        .fetch_all(self.reader())
                        .await?;
                    rows.iter()
                        .map(|r| {
                            table
                                .columns
                                .iter()
                                .enumerate()
                                .map(|(i, (_, col))| {
                                    Ok(match col {
                                        Col::Int => Cell::Int(r.try_get(i)?),
                                        Col::Text => Cell::Text(r.try_get(i)?),
                                        Col::Bool => Cell::Bool(r.try_get(i)?),
                                        Col::Bytes => Cell::Bytes(r.try_get(i)?),
                                    })
                                })
                                .collect()
                        })
                        .collect()
                }

                async fn import_rows(&self, table: &Table, rows: &[TableRow]) -> Result<()> {
                    let mut tx = self.begin().await?;
                    for row in rows {
                        let mut qb = QueryBuilder::<$db>::new(format!(
                            "INSERT INTO {} ({}) VALUES (",
                            table.name,
                            table.column_list()
                        ));
                        let mut sep = qb.separated(", ");
                        for cell in row {
                            match cell {
                                Cell::Int(v) => sep.push_bind(*v),
                                Cell::Text(v) => sep.push_bind(v.clone()),
                                Cell::Bool(v) => sep.push_bind(*v),
                                Cell::Bytes(v) => sep.push_bind(v.clone()),
                            };
                        }
                        qb.push(")");
                        qb.build().execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn finish_import(&self) -> Result<()> {
                    self.finish_import_impl().await
                }
            }
        }
    };
}
pub(crate) use impl_store;
