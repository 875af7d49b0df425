//! The ladder's SQL, shared by both backends like the rest of [`impl_store!`]: desk
//! settings, escalation and descent, routing, the automatic rules, the SLA sweeper and
//! the webhook outbox. The decisions themselves are the domain crate's; this module
//! reads what they need and writes what they decide, in one transaction each.
//!
//! `ladder_sql!(Store, Database, Connection)` is expanded inside `impl_store!`'s
//! `shared` module: the helpers land beside `save_ticket` & co., the store-level
//! operations in a `ladder` submodule that the `Store` impl calls.

macro_rules! ladder_sql {
    ($store:ty, $db:ty, $conn:ty) => {
        use recourse_domain::ladder::{
            Candidate, choose_assignee, escalation_target, may_take, plan_descent,
            plan_escalation, rule_verdict,
        };
        use recourse_domain::sla::{SlaAction, SlaEvent};
        use $crate::config::{DeskConfig, keys, template_from};

        /// Upper bound on attempts to deliver one webhook event.
        const MAX_DELIVERY_ATTEMPTS: i64 = 10;

        pub(super) async fn load_config(conn: &mut $conn) -> Result<DeskConfig> {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT key, value FROM settings WHERE key IN ($1, $2, $3, $4) ORDER BY key",
            )
            .bind(keys::LADDER)
            .bind(keys::SLA_POLICY)
            .bind(keys::CALENDAR)
            .bind(keys::ESCALATION_RULES)
            .fetch_all(&mut *conn)
            .await?;
            DeskConfig::from_settings_cached(&rows)
        }

        async fn load_template(
            conn: &mut $conn,
            key: &str,
        ) -> Result<recourse_domain::template::Template> {
            let stored: Option<String> =
                sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(format!("{}{key}", keys::TEMPLATE_PREFIX))
                    .fetch_optional(&mut *conn)
                    .await?;
            template_from(key, stored.as_deref())
        }

        fn advance_sla(
            cfg: &DeskConfig,
            before: &Ticket,
            after: &mut Ticket,
            event: SlaEvent,
            now: Millis,
        ) {
            after.sla = after.sla.advance(
                &cfg.sla,
                &cfg.calendar,
                after.priority,
                before.status,
                after.status,
                event,
                now,
            );
        }

        /// Keeps the ticket's first and latest reading of the customer, for recovery.
        async fn note_demeanor(
            conn: &mut $conn,
            ticket: TicketId,
            d: recourse_domain::Demeanor,
        ) -> Result<()> {
            sqlx::query("UPDATE tickets SET first_demeanor = COALESCE(first_demeanor, $1), last_demeanor = $1 WHERE id = $2")
                .bind(d.as_str())
                .bind(ticket.0)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// The first message to the customer is the first response.
        fn note_response(after: &mut Ticket, kind: recourse_domain::MessageKind, now: Millis) {
            if kind == recourse_domain::MessageKind::Reply && after.first_response_at.is_none() {
                after.first_response_at = Some(now);
            }
        }

        /// Round-robin needs to know when each agent last received a ticket.
        async fn note_assigned(conn: &mut $conn, agent: Option<AgentId>, now: Millis) -> Result<()> {
            if let Some(a) = agent {
                sqlx::query("UPDATE agents SET last_assigned_at = $1 WHERE id = $2")
                    .bind(now.0)
                    .bind(a.0)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        /// Present agents with their current load, for routing.
        async fn candidates(conn: &mut $conn) -> Result<Vec<Candidate>> {
            let rows = sqlx::query(
                "SELECT a.id, a.role, a.experience, a.skills, a.capacity, a.last_assigned_at,
                        (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = a.id
                            AND t.status IN ('new', 'open', 'pending_customer')) AS load
                 FROM agents a WHERE a.active = TRUE AND a.present = TRUE ORDER BY a.id",
            )
            .fetch_all(&mut *conn)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(Candidate {
                        id: AgentId(r.try_get("id")?),
                        role: recourse_domain::Role::parse(&r.try_get::<String, _>("role")?)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        experience: recourse_domain::Experience::parse(
                            &r.try_get::<String, _>("experience")?,
                        )
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        skills: serde_json::from_str(&r.try_get::<String, _>("skills")?)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        present: true,
                        load: r.try_get("load")?,
                        capacity: i32::try_from(r.try_get::<i64, _>("capacity")?)
                            .unwrap_or(i32::MAX),
                        last_assigned_at: r.try_get::<Option<i64>, _>("last_assigned_at")?.map(Millis),
                    })
                })
                .collect()
        }

        async fn agent_in(conn: &mut $conn, id: AgentId) -> Result<Agent> {
            let row = sqlx::query(AssertSqlSafe(format!("SELECT {AGENT_COLS} FROM agents WHERE id = $1")))
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound("agent"))?;
            decode::agent(&row)
        }

        /// Reads everything a handoff needs: the customer, the interventions, where the
        /// case goes, who would take it, and when the customer will hear back.
        async fn gather_plan(
            conn: &mut $conn,
            cfg: &DeskConfig,
            ticket: &Ticket,
            reason: recourse_domain::EscalationReason,
            now: Millis,
        ) -> Result<($crate::HandoffPlan, Vec<Candidate>)> {
            let to = escalation_target(&cfg.ladder, ticket, reason)?.clone();
            let customer_row = sqlx::query(
                "SELECT id, email, name, organization_id, supervised, created_at FROM customers WHERE id = $1",
            )
            .bind(ticket.customer_id.0)
            .fetch_one(&mut *conn)
            .await?;
            let customer = decode::customer(&customer_row)?;
            let rows = sqlx::query("SELECT id, ticket_id, kind, description, result, agent_id, created_at FROM interventions WHERE ticket_id = $1 ORDER BY id")
                .bind(ticket.id.0)
                .fetch_all(&mut *conn)
                .await?;
            let interventions = rows.iter().map(decode::intervention).collect::<Result<Vec<_>>>()?;
            let needs_experience = ticket.needs_experience
                || reason == recourse_domain::EscalationReason::NeedsExperience;
            let pool = candidates(conn).await?;
            let chosen = choose_assignee(&to, &ticket.tags, needs_experience, ticket.assignee_id, &pool);
            let assignee = match chosen {
                Some(id) => Some(agent_in(conn, id).await?),
                None => None,
            };
            let target = cfg.sla.target(ticket.priority);
            let reply_by = cfg.calendar.add_business(now, target.next_update_minutes.into());
            let template = load_template(conn, "handoff").await?;
            let plan = $crate::HandoffPlan {
                ticket: ticket.clone(),
                customer,
                interventions,
                to,
                assignee,
                reply_by,
                calendar: cfg.calendar.clone(),
                template,
            };
            Ok((plan, pool))
        }

        /// The escalation itself, inside the caller's transaction with the ticket locked.
        #[allow(clippy::too_many_arguments)]
        async fn escalate_in(
            conn: &mut $conn,
            cfg: &DeskConfig,
            before: Ticket,
            reason: recourse_domain::EscalationReason,
            note: Option<String>,
            message: Option<String>,
            requested: Option<AgentId>,
            author: Actor,
            channel: recourse_domain::Channel,
            trigger: Option<MessageId>,
            now: Millis,
        ) -> Result<Ticket> {
            let (plan, pool) = gather_plan(conn, cfg, &before, reason, now).await?;
            let needs_experience = before.needs_experience
                || reason == recourse_domain::EscalationReason::NeedsExperience;
            let assignee = match requested {
                Some(id) => {
                    let ok = pool
                        .iter()
                        .find(|c| c.id == id)
                        .is_some_and(|c| may_take(&plan.to, needs_experience, c));
                    if !ok {
                        return Err(recourse_domain::LadderError::NotEligible(plan.to.name.clone()).into());
                    }
                    Some(id)
                }
                None => plan.assignee.as_ref().map(|a| a.id),
            };
            let text = match message {
                Some(t) => t,
                None => {
                    let name = match author {
                        Actor::Agent(a) => Some(agent_in(conn, a).await?.name),
                        _ => None,
                    };
                    plan.draft(name.as_deref())
                }
            };
            let step = plan_escalation(&cfg.ladder, &before, reason, &text)?;
            let message_id = insert_message(
                conn,
                before.id,
                recourse_domain::MessageKind::Reply,
                channel,
                author,
                &text,
                None,
                now,
            )
            .await?;
            insert_event(
                conn,
                Some(before.id),
                author,
                &EventKind::MessageAdded { message_id, kind: recourse_domain::MessageKind::Reply },
                now,
            )
            .await?;
            // The handoff promises an answer from us, so the ball is in our court.
            let status = (before.status == recourse_domain::Status::PendingCustomer)
                .then_some(recourse_domain::Status::Open);
            let change = message_change(&before, recourse_domain::MessageKind::Reply, status)?;
            let (mut after, mut events) = apply_change(&before, &change, now)?;
            after.rung = step.to.clone();
            after.needs_experience = needs_experience;
            after.updated_at = now;
            events.push(EventKind::Escalated {
                from: step.from.clone(),
                to: step.to.clone(),
                reason,
                note: note.clone(),
                message_id,
            });
            if assignee != before.assignee_id {
                after.assignee_id = assignee;
                events.push(EventKind::AssigneeChanged { from: before.assignee_id, to: assignee });
            }
            advance_sla(cfg, &before, &mut after, SlaEvent::AgentReplied, now);
            note_response(&mut after, recourse_domain::MessageKind::Reply, now);
            save_ticket(conn, cfg, &before, &after, &events, author, now).await?;
            sqlx::query("INSERT INTO escalations (ticket_id, direction, from_rung, to_rung, reason, note, message_id, trigger_message_id, at) VALUES ($1, 'up', $2, $3, $4, $5, $6, $7, $8)")
                .bind(before.id.0)
                .bind(&step.from)
                .bind(&step.to)
                .bind(reason.as_str())
                .bind(note)
                .bind(message_id.0)
                .bind(trigger.map(|m| m.0))
                .bind(now.0)
                .execute(&mut *conn)
                .await?;
            Ok(after)
        }

        /// What the automatic rules look at besides the reading.
        struct RuleCounts {
            /// Customer messages since the last reply.
            unanswered: i64,
            interventions: i64,
            /// Whether the triggering message has already moved the case (unknown: ask).
            moved_by_trigger: Option<bool>,
        }

        impl RuleCounts {
            /// A new ticket's: its one message, nothing tried yet, nothing moved.
            const FIRST_MESSAGE: RuleCounts =
                RuleCounts { unanswered: 1, interventions: 0, moved_by_trigger: Some(false) };
        }

        /// The automatic rules, after a customer's message or a new reading of one.
        async fn apply_rules(
            conn: &mut $conn,
            cfg: &DeskConfig,
            ticket: Ticket,
            trigger: MessageId,
            reading: Option<recourse_domain::Demeanor>,
            now: Millis,
        ) -> Result<Ticket> {
            if !ticket.status.is_active() {
                return Ok(ticket);
            }
            let unanswered: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM messages WHERE ticket_id = $1 AND kind = 'inbound'
                   AND id > COALESCE((SELECT MAX(id) FROM messages WHERE ticket_id = $1 AND kind = 'reply'), 0)",
            )
            .bind(ticket.id.0)
            .fetch_one(&mut *conn)
            .await?;
            let interventions: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM interventions WHERE ticket_id = $1")
                    .bind(ticket.id.0)
                    .fetch_one(&mut *conn)
                    .await?;
            let counts = RuleCounts { unanswered, interventions, moved_by_trigger: None };
            apply_rules_counted(conn, cfg, ticket, trigger, reading, counts, now).await
        }

        /// The rules with their counts in hand (a new ticket knows them without asking).
        async fn apply_rules_counted(
            conn: &mut $conn,
            cfg: &DeskConfig,
            ticket: Ticket,
            trigger: MessageId,
            reading: Option<recourse_domain::Demeanor>,
            counts: RuleCounts,
            now: Millis,
        ) -> Result<Ticket> {
            use recourse_domain::EscalationReason as R;
            if !ticket.status.is_active() {
                return Ok(ticket);
            }
            let RuleCounts { unanswered, interventions, moved_by_trigger } = counts;
            let Some(reason) = rule_verdict(
                &cfg.rules,
                u32::try_from(unanswered).unwrap_or(u32::MAX),
                reading,
                u32::try_from(interventions).unwrap_or(u32::MAX),
            ) else {
                return Ok(ticket);
            };
            if matches!(reason, R::Demeanor | R::Abuse) {
                // One reading moves a case at most once, however often it is re-read.
                let moved = match moved_by_trigger {
                    Some(moved) => moved,
                    None => {
                        let done: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM escalations WHERE trigger_message_id = $1",
                        )
                        .bind(trigger.0)
                        .fetch_one(&mut *conn)
                        .await?;
                        done > 0
                    }
                };
                if moved {
                    return Ok(ticket);
                }
            }
            if escalation_target(&cfg.ladder, &ticket, reason).is_err() {
                return Ok(ticket);
            }
            let note = match reason {
                R::RepeatedContact => format!(
                    "Moved up automatically: the customer has written {unanswered} times without an answer."
                ),
                R::Demeanor => format!(
                    "Moved up automatically: the customer still reads angry after {interventions} interventions."
                ),
                _ => "Moved to the top rung automatically: a message reads as abusive, so no frontline agent has to keep taking it.".to_owned(),
            };
            escalate_in(
                conn,
                cfg,
                ticket,
                reason,
                Some(note),
                None,
                None,
                Actor::System,
                recourse_domain::Channel::Api,
                Some(trigger),
                now,
            )
            .await
        }

        pub(super) mod ladder {
            use super::*;

            pub(crate) async fn setting(store: &$store, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(store.reader())
                    .await?)
            }

            pub(crate) async fn put_setting(
                store: &$store,
                key: &str,
                value: Option<&str>,
                actor: Actor,
                now: Millis,
            ) -> Result<()> {
                let mut tx = store.begin().await?;
                match value {
                    Some(v) => {
                        sqlx::query(
                            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
                             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                        )
                        .bind(key)
                        .bind(v)
                        .bind(now.0)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM settings WHERE key = $1")
                            .bind(key)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                insert_event(&mut tx, None, actor, &EventKind::SettingChanged { key: key.to_owned() }, now)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn handoff_plan(
                store: &$store,
                id: TicketId,
                reason: recourse_domain::EscalationReason,
                now: Millis,
            ) -> Result<$crate::HandoffPlan> {
                let mut conn = store.reader().acquire().await?;
                let cfg = load_config(&mut conn).await?;
                let row = sqlx::query(AssertSqlSafe(format!("SELECT {TICKET_COLS} FROM tickets WHERE id = $1")))
                    .bind(id.0)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound("ticket"))?;
                let ticket = decode::ticket(&row)?;
                Ok(gather_plan(&mut conn, &cfg, &ticket, reason, now).await?.0)
            }

            pub(crate) async fn escalate(store: &$store, r: $crate::EscalationRequest) -> Result<Ticket> {
                let mut tx = store.begin().await?;
                let cfg = load_config(&mut tx).await?;
                let before = lock_ticket(&mut tx, r.ticket_id).await?;
                let after = escalate_in(
                    &mut tx,
                    &cfg,
                    before,
                    r.reason,
                    r.note,
                    r.message.map(|b| b.into_inner()),
                    r.assignee,
                    r.actor,
                    r.channel,
                    None,
                    r.now,
                )
                .await?;
                tx.commit().await?;
                Ok(after)
            }

            pub(crate) async fn move_down(store: &$store, r: $crate::Descent) -> Result<Ticket> {
                let mut tx = store.begin().await?;
                let cfg = load_config(&mut tx).await?;
                let before = lock_ticket(&mut tx, r.ticket_id).await?;
                let to = plan_descent(&cfg.ladder, &before, &r.note)?;
                let rung = cfg.ladder.get(&to).cloned().unwrap_or_else(|| cfg.ladder.first().clone());
                let pool = candidates(&mut tx).await?;
                let assignee = choose_assignee(&rung, &before.tags, before.needs_experience, before.assignee_id, &pool);
                let mut after = before.clone();
                after.rung = to.clone();
                after.updated_at = r.now;
                let mut events = vec![EventKind::MovedDown {
                    from: before.rung.clone(),
                    to: to.clone(),
                    note: r.note.trim().to_owned(),
                }];
                if assignee != before.assignee_id {
                    after.assignee_id = assignee;
                    events.push(EventKind::AssigneeChanged { from: before.assignee_id, to: assignee });
                }
                save_ticket(&mut tx, &cfg, &before, &after, &events, r.actor, r.now).await?;
                sqlx::query("INSERT INTO escalations (ticket_id, direction, from_rung, to_rung, note, at) VALUES ($1, 'down', $2, $3, $4, $5)")
                    .bind(before.id.0)
                    .bind(&before.rung)
                    .bind(&to)
                    .bind(r.note.trim())
                    .bind(r.now.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(after)
            }

            pub(crate) async fn escalations(store: &$store, ticket: TicketId) -> Result<Vec<$crate::EscalationRecord>> {
                let rows = sqlx::query("SELECT id, ticket_id, direction, from_rung, to_rung, reason, note, message_id, at FROM escalations WHERE ticket_id = $1 ORDER BY id")
                    .bind(ticket.0)
                    .fetch_all(store.reader())
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok($crate::EscalationRecord {
                            id: r.try_get("id")?,
                            ticket_id: TicketId(r.try_get("ticket_id")?),
                            up: r.try_get::<String, _>("direction")? == "up",
                            from_rung: r.try_get("from_rung")?,
                            to_rung: r.try_get("to_rung")?,
                            reason: r
                                .try_get::<Option<String>, _>("reason")?
                                .as_deref()
                                .map(recourse_domain::EscalationReason::parse)
                                .transpose()
                                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                            note: r.try_get("note")?,
                            message_id: r.try_get::<Option<i64>, _>("message_id")?.map(MessageId),
                            at: Millis(r.try_get("at")?),
                        })
                    })
                    .collect()
            }

            pub(crate) async fn set_presence(
                store: &$store,
                agent: AgentId,
                present: bool,
                actor: Actor,
                now: Millis,
            ) -> Result<(Agent, Vec<TicketId>)> {
                let mut tx = store.begin().await?;
                let done = sqlx::query("UPDATE agents SET present = $1 WHERE id = $2")
                    .bind(present)
                    .bind(agent.0)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("agent"));
                }
                insert_event(&mut tx, None, actor, &EventKind::PresenceChanged { agent_id: agent, present }, now)
                    .await?;
                let mut moved = Vec::new();
                if !present {
                    // Someone away should not hold customers' cases: each goes to whoever
                    // else on its rung is free, or back to the rung's queue.
                    let cfg = load_config(&mut tx).await?;
                    let ids: Vec<i64> = sqlx::query_scalar(
                        "SELECT id FROM tickets WHERE assignee_id = $1 AND status IN ('new', 'open', 'pending_customer') ORDER BY id",
                    )
                    .bind(agent.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    for id in ids {
                        let before = lock_ticket(&mut tx, TicketId(id)).await?;
                        let rung = cfg.ladder.get(&before.rung).unwrap_or(cfg.ladder.first()).clone();
                        let pool = candidates(&mut tx).await?;
                        let to = choose_assignee(&rung, &before.tags, before.needs_experience, Some(agent), &pool);
                        let mut after = before.clone();
                        after.assignee_id = to;
                        after.updated_at = now;
                        let events = [EventKind::AssigneeChanged { from: Some(agent), to }];
                        save_ticket(&mut tx, &cfg, &before, &after, &events, actor, now).await?;
                        moved.push(TicketId(id));
                    }
                }
                let a = agent_in(&mut tx, agent).await?;
                tx.commit().await?;
                Ok((a, moved))
            }

            pub(crate) async fn set_demeanor(
                store: &$store,
                message: MessageId,
                demeanor: recourse_domain::Demeanor,
                actor: Actor,
                now: Millis,
            ) -> Result<Ticket> {
                let mut tx = store.begin().await?;
                let row: Option<(i64, String)> =
                    sqlx::query_as("SELECT ticket_id, kind FROM messages WHERE id = $1")
                        .bind(message.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                let (ticket_id, kind) = row.ok_or(StoreError::NotFound("message"))?;
                if kind != "inbound" {
                    return Err(StoreError::Conflict(
                        "Only a customer's message has a demeanor; this one was written by the desk".into(),
                    ));
                }
                let cfg = load_config(&mut tx).await?;
                let ticket = lock_ticket(&mut tx, TicketId(ticket_id)).await?;
                // Abusive words are hidden from agents until one chooses to look (P8).
                sqlx::query("UPDATE messages SET demeanor = $1, masked = $2 WHERE id = $3")
                    .bind(demeanor.as_str())
                    .bind(demeanor == recourse_domain::Demeanor::Abusive)
                    .bind(message.0)
                    .execute(&mut *tx)
                    .await?;
                let (first, last): (i64, i64) = sqlx::query_as(
                    "SELECT MIN(id), MAX(id) FROM messages WHERE ticket_id = $1 AND kind = 'inbound'",
                )
                .bind(ticket_id)
                .fetch_one(&mut *tx)
                .await?;
                if message.0 == first {
                    sqlx::query("UPDATE tickets SET first_demeanor = $1 WHERE id = $2")
                        .bind(demeanor.as_str())
                        .bind(ticket_id)
                        .execute(&mut *tx)
                        .await?;
                }
                if message.0 == last {
                    sqlx::query("UPDATE tickets SET last_demeanor = $1 WHERE id = $2")
                        .bind(demeanor.as_str())
                        .bind(ticket_id)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_event(&mut tx, Some(ticket.id), actor, &EventKind::DemeanorRead { message_id: message, demeanor }, now)
                    .await?;
                // Only the latest word from the customer says how they feel now.
                let ticket = if last == message.0 {
                    apply_rules(&mut tx, &cfg, ticket, message, Some(demeanor), now).await?
                } else {
                    ticket
                };
                tx.commit().await?;
                Ok(ticket)
            }

            pub(crate) async fn sweep_sla(store: &$store, now: Millis, limit: i64) -> Result<$crate::SweepReport> {
                let mut report = $crate::SweepReport::default();
                // How the desk works is read once per pass (when there is work), not per ticket.
                let mut cfg: Option<DeskConfig> = None;
                // One short transaction per due ticket: a breach storm never holds locks
                // (tickets, the agents it routes to) long enough to stall live work.
                // On PostgreSQL `SKIP LOCKED` lets several nodes sweep at once, each
                // taking different tickets; on SQLite the single writer serialises.
                for _ in 0..limit.max(1) {
                    let mut tx = store.begin().await?;
                    let claimed: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
                        "SELECT id FROM tickets WHERE sla_next_at <= $1 ORDER BY sla_next_at LIMIT 1{}",
                        <$store>::CLAIM_LOCK
                    )))
                    .bind(now.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(id) = claimed else { break };
                    if cfg.is_none() {
                        cfg = Some(load_config(&mut tx).await?);
                    }
                    let Some(cfg) = cfg.as_ref() else { break };
                    sweep_one(&mut tx, cfg, TicketId(id), now, &mut report).await?;
                    tx.commit().await?;
                }
                Ok(report)
            }

            /// Warns, records breaches and escalates one claimed ticket.
            async fn sweep_one(
                tx: &mut $conn,
                cfg: &DeskConfig,
                id: TicketId,
                now: Millis,
                report: &mut $crate::SweepReport,
            ) -> Result<()> {
                let before = lock_ticket(tx, id).await?;
                let mut after = before.clone();
                let actions = after.sla.take_due(&cfg.sla, now);
                report.examined += 1;
                let mut events = Vec::new();
                let mut breached = false;
                for a in &actions {
                    match *a {
                        SlaAction::Warn(clock) => {
                            report.warned += 1;
                            let due = before.sla.due(clock).unwrap_or(now);
                            events.push(EventKind::SlaWarning { clock, due });
                        }
                        SlaAction::Breach(clock) => {
                            report.breached += 1;
                            breached = true;
                            let due = before.sla.due(clock).unwrap_or(now);
                            events.push(EventKind::SlaBreached { clock, due });
                        }
                    }
                }
                if events.is_empty() {
                    // Nothing due after all (the policy changed): just look again later.
                    sqlx::query("UPDATE tickets SET sla_next_at = $1 WHERE id = $2")
                        .bind(after.sla.next_check(&cfg.sla).map(|m| m.0))
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                    return Ok(());
                }
                save_ticket(tx, cfg, &before, &after, &events, Actor::System, now).await?;
                let reason = recourse_domain::EscalationReason::SlaBreach;
                if breached && escalation_target(&cfg.ladder, &after, reason).is_ok() {
                    escalate_in(
                        tx,
                        cfg,
                        after,
                        reason,
                        Some("Moved up automatically: a service-level deadline passed.".into()),
                        None,
                        None,
                        Actor::System,
                        recourse_domain::Channel::Api,
                        None,
                        now,
                    )
                    .await?;
                    report.escalated += 1;
                }
                Ok(())
            }

            pub(crate) async fn create_webhook(store: &$store, url: &str, secret: &str, events: &[String], now: Millis) -> Result<$crate::Webhook> {
                // Stored space-delimited with a space at each end, so the outbox can match
                // one name with LIKE on both backends.
                let list = if events.is_empty() { String::new() } else { format!(" {} ", events.join(" ")) };
                let id: i64 = sqlx::query_scalar("INSERT INTO webhooks (url, secret, active, events, created_at) VALUES ($1, $2, TRUE, $3, $4) RETURNING id")
                    .bind(url)
                    .bind(secret)
                    .bind(&list)
                    .bind(now.0)
                    .fetch_one(store.writer())
                    .await?;
                Ok($crate::Webhook { id, url: url.to_owned(), active: true, events: events.to_vec(), created_at: now })
            }

            pub(crate) async fn list_webhooks(store: &$store) -> Result<Vec<$crate::Webhook>> {
                let rows = sqlx::query("SELECT id, url, active, events, created_at FROM webhooks ORDER BY id")
                    .fetch_all(store.reader())
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok($crate::Webhook {
                            id: r.try_get("id")?,
                            url: r.try_get("url")?,
                            active: r.try_get("active")?,
                            events: r.try_get::<String, _>("events")?.split_whitespace().map(str::to_owned).collect(),
                            created_at: Millis(r.try_get("created_at")?),
                        })
                    })
                    .collect()
            }

            pub(crate) async fn deactivate_webhook(store: &$store, id: i64, now: Millis) -> Result<()> {
                let mut tx = store.begin().await?;
                let done = sqlx::query("UPDATE webhooks SET active = FALSE WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("webhook"));
                }
                sqlx::query("UPDATE webhook_deliveries SET failed_at = $1, last_error = 'webhook removed' WHERE webhook_id = $2 AND delivered_at IS NULL AND failed_at IS NULL")
                    .bind(now.0)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn claim_deliveries(
                store: &$store,
                now: Millis,
                lease_ms: i64,
                limit: i64,
            ) -> Result<Vec<$crate::Delivery>> {
                let mut tx = store.begin().await?;
                let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                     ORDER BY next_attempt_at, id LIMIT $2{}",
                    <$store>::CLAIM_LOCK
                )))
                .bind(now.0)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    sqlx::query("UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1 WHERE id = $2")
                        .bind(now.0 + lease_ms)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    let r = sqlx::query(
                        "SELECT d.id AS delivery_id, d.webhook_id, d.attempts, w.url, w.secret,
                                e.id, e.ticket_id, e.actor_kind, e.actor_id, e.data, e.at
                         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
                         WHERE d.id = $1",
                    )
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    out.push($crate::Delivery {
                        id: r.try_get("delivery_id")?,
                        webhook_id: r.try_get("webhook_id")?,
                        url: r.try_get("url")?,
                        secret: r.try_get("secret")?,
                        attempt: r.try_get("attempts")?,
                        event: decode::event(&r)?,
                    });
                }
                tx.commit().await?;
                Ok(out)
            }

            pub(crate) async fn finish_delivery(
                store: &$store,
                id: i64,
                result: std::result::Result<(), String>,
                now: Millis,
            ) -> Result<()> {
                match result {
                    Ok(()) => {
                        sqlx::query("UPDATE webhook_deliveries SET delivered_at = $1, last_error = NULL WHERE id = $2")
                            .bind(now.0)
                            .bind(id)
                            .execute(store.writer())
                            .await?;
                    }
                    Err(reason) => {
                        let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM webhook_deliveries WHERE id = $1")
                            .bind(id)
                            .fetch_optional(store.writer())
                            .await?
                            .ok_or(StoreError::NotFound("delivery"))?;
                        let reason: String = reason.chars().take(500).collect();
                        if attempts >= MAX_DELIVERY_ATTEMPTS {
                            sqlx::query("UPDATE webhook_deliveries SET failed_at = $1, last_error = $2 WHERE id = $3")
                                .bind(now.0)
                                .bind(reason)
                                .bind(id)
                                .execute(store.writer())
                                .await?;
                        } else {
                            // 10 s, 20 s, 40 s … capped at an hour.
                            let backoff = (10_000i64 << (attempts - 1).clamp(0, 20)).min(3_600_000);
                            sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1, last_error = $2 WHERE id = $3")
                                .bind(now.0 + backoff)
                                .bind(reason)
                                .bind(id)
                                .execute(store.writer())
                                .await?;
                        }
                    }
                }
                Ok(())
            }

            pub(crate) async fn webhook_deliveries(store: &$store, webhook: i64, limit: i64) -> Result<Vec<$crate::DeliveryStatus>> {
                let rows = sqlx::query("SELECT id, event_id, attempts, delivered_at, failed_at, last_error FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2")
                    .bind(webhook)
                    .bind(limit)
                    .fetch_all(store.reader())
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok($crate::DeliveryStatus {
                            id: r.try_get("id")?,
                            event_id: r.try_get("event_id")?,
                            attempts: r.try_get("attempts")?,
                            delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(Millis),
                            failed_at: r.try_get::<Option<i64>, _>("failed_at")?.map(Millis),
                            last_error: r.try_get("last_error")?,
                        })
                    })
                    .collect()
            }
        }
    };
}
pub(crate) use ladder_sql;
