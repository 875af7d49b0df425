//! The ladder's SQL, shared by both backends like the rest of [`impl_store!`]: desk
//! settings, escalation and descent, routing, the automatic rules, the SLA sweeper and
//! the webhook outbox. The decisions themselves are the domain crate's; this module
//! reads what they need and writes what they decide, in one transaction each.
//!
//! `ladder_sql!(Store, Database, Connection)` is expanded inside `impl_store!`'s
//! `shared` module: the helpers land beside `save_ticket` & co., the store-level
//! operations in a `ladder` submodule that the `Store` impl calls.

pub(crate) use crate::config::{DeskConfig, keys, template_from};
use crate::rows::*;
pub(crate) use recourse_domain::ladder::Candidate;

/// Upper bound on attempts to deliver one webhook event.
pub(crate) const MAX_DELIVERY_ATTEMPTS: i64 = 10;

pub(crate) async fn load_config(conn: &mut impl Db) -> Result<DeskConfig> {
    let rows: Vec<(String, String)> =
        db::query_as("SELECT key, value FROM settings WHERE key IN ($1, $2, $3, $4) ORDER BY key")
            .bind(keys::LADDER)
            .bind(keys::SLA_POLICY)
            .bind(keys::CALENDAR)
            .bind(keys::ESCALATION_RULES)
            .fetch_all(&mut *conn)
            .await?;
    DeskConfig::from_settings_cached(&rows)
}

pub(crate) async fn load_template(
    conn: &mut impl Db,
    key: &str,
) -> Result<recourse_domain::template::Template> {
    let stored: Option<String> = db::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(format!("{}{key}", keys::TEMPLATE_PREFIX))
        .fetch_optional(&mut *conn)
        .await?;
    template_from(key, stored.as_deref())
}

/// Keeps the ticket's first and latest reading of the customer, for recovery.
pub(crate) async fn note_demeanor(
    conn: &mut impl Db,
    ticket: TicketId,
    d: recourse_domain::Demeanor,
) -> Result<()> {
    db::query("UPDATE tickets SET first_demeanor = COALESCE(first_demeanor, $1), last_demeanor = $1 WHERE id = $2")
        .bind(d.as_str())
        .bind(ticket.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Round-robin needs to know when each agent last received a ticket.
pub(crate) async fn note_assigned(
    conn: &mut impl Db,
    agent: Option<AgentId>,
    now: Millis,
) -> Result<()> {
    if let Some(a) = agent {
        db::query("UPDATE agents SET last_assigned_at = $1 WHERE id = $2")
            .bind(now.0)
            .bind(a.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Present agents with their current load, for routing.
pub(crate) async fn candidates(conn: &mut impl Db) -> Result<Vec<Candidate>> {
    let rows = db::query(
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
                capacity: i32::try_from(r.try_get::<i64, _>("capacity")?).unwrap_or(i32::MAX),
                last_assigned_at: r.try_get::<Option<i64>, _>("last_assigned_at")?.map(Millis),
            })
        })
        .collect()
}

pub(crate) async fn agent_in(conn: &mut impl Db, id: AgentId) -> Result<Agent> {
    let row = db::query(format!("SELECT {AGENT_COLS} FROM agents WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("agent"))?;
    decode::agent(&row)
}

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        db::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.reader())
            .await
    }

    /// Stores (`Some`) or removes (`None`) a setting and records who changed it.
    pub(crate) async fn write_setting(
        &self,
        key: &str,
        value: Option<&str>,
        actor: Actor,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        match value {
            Some(v) => {
                db::query(
                    "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(key)
                .bind(v)
                .bind(now.0)
                .execute(&mut tx)
                .await?;
            }
            None => {
                db::query("DELETE FROM settings WHERE key = $1")
                    .bind(key)
                    .execute(&mut tx)
                    .await?;
            }
        }
        insert_event(
            &mut tx,
            None,
            actor,
            &EventKind::SettingChanged {
                key: key.to_owned(),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn escalations(&self, ticket: TicketId) -> Result<Vec<crate::EscalationRecord>> {
        let rows = db::query("SELECT id, ticket_id, direction, from_rung, to_rung, reason, note, message_id, at FROM escalations WHERE ticket_id = $1 ORDER BY id")
            .bind(ticket.0)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::EscalationRecord {
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

    /// `events` limits it to those event types; empty sends every event.
    pub async fn create_webhook(
        &self,
        url: &str,
        secret: &str,
        events: &[String],
        now: Millis,
    ) -> Result<crate::Webhook> {
        // Stored space-delimited with a space at each end, so the outbox can match
        // one name with LIKE on both backends.
        let list = if events.is_empty() {
            String::new()
        } else {
            format!(" {} ", events.join(" "))
        };
        let id: i64 = db::query_scalar("INSERT INTO webhooks (url, secret, active, events, created_at) VALUES ($1, $2, TRUE, $3, $4) RETURNING id")
            .bind(url)
            .bind(secret)
            .bind(&list)
            .bind(now.0)
            .fetch_one(self.writer())
            .await?;
        Ok(crate::Webhook {
            id,
            url: url.to_owned(),
            active: true,
            events: events.to_vec(),
            created_at: now,
        })
    }

    pub async fn list_webhooks(&self) -> Result<Vec<crate::Webhook>> {
        let rows =
            db::query("SELECT id, url, active, events, created_at FROM webhooks ORDER BY id")
                .fetch_all(self.reader())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::Webhook {
                    id: r.try_get("id")?,
                    url: r.try_get("url")?,
                    active: r.try_get("active")?,
                    events: r
                        .try_get::<String, _>("events")?
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                    created_at: Millis(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Stops deliveries to a webhook; pending ones are marked failed.
    pub async fn deactivate_webhook(&self, id: i64, now: Millis) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = db::query("UPDATE webhooks SET active = FALSE WHERE id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        db::query("UPDATE webhook_deliveries SET failed_at = $1, last_error = 'webhook removed' WHERE webhook_id = $2 AND delivered_at IS NULL AND failed_at IS NULL")
            .bind(now.0)
            .bind(id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims due deliveries for `lease_ms`; a node that dies mid-send lets them fall due again.
    pub async fn claim_deliveries(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<crate::Delivery>> {
        let mut tx = self.begin().await?;
        let ids: Vec<i64> = db::query_scalar(format!(
            "SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $2{}",
            self.backend().claim_lock()
        ))
        .bind(now.0)
        .bind(limit)
        .fetch_all(&mut tx)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            db::query("UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1 WHERE id = $2")
                .bind(now.0 + lease_ms)
                .bind(id)
                .execute(&mut tx)
                .await?;
            let r = db::query(
                "SELECT d.id AS delivery_id, d.webhook_id, d.attempts, w.url, w.secret,
                        e.id, e.ticket_id, e.actor_kind, e.actor_id, e.data, e.at
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
                 WHERE d.id = $1",
            )
            .bind(id)
            .fetch_one(&mut tx)
            .await?;
            out.push(crate::Delivery {
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

    /// Records a delivery's result: `Ok` delivered, `Err(reason)` retried later with
    /// backoff, or given up after the last attempt.
    pub async fn finish_delivery(
        &self,
        id: i64,
        result: std::result::Result<(), String>,
        now: Millis,
    ) -> Result<()> {
        match result {
            Ok(()) => {
                db::query("UPDATE webhook_deliveries SET delivered_at = $1, last_error = NULL WHERE id = $2")
                    .bind(now.0)
                    .bind(id)
                    .execute(self.writer())
                    .await?;
            }
            Err(reason) => {
                let attempts: i64 =
                    db::query_scalar("SELECT attempts FROM webhook_deliveries WHERE id = $1")
                        .bind(id)
                        .fetch_optional(self.writer())
                        .await?
                        .ok_or(StoreError::NotFound("delivery"))?;
                let reason: String = reason.chars().take(500).collect();
                if attempts >= MAX_DELIVERY_ATTEMPTS {
                    db::query("UPDATE webhook_deliveries SET failed_at = $1, last_error = $2 WHERE id = $3")
                        .bind(now.0)
                        .bind(reason)
                        .bind(id)
                        .execute(self.writer())
                        .await?;
                } else {
                    // 10 s, 20 s, 40 s … capped at an hour.
                    let backoff = (10_000i64 << (attempts - 1).clamp(0, 20)).min(3_600_000);
                    db::query("UPDATE webhook_deliveries SET next_attempt_at = $1, last_error = $2 WHERE id = $3")
                        .bind(now.0 + backoff)
                        .bind(reason)
                        .bind(id)
                        .execute(self.writer())
                        .await?;
                }
            }
        }
        Ok(())
    }

    pub async fn webhook_deliveries(
        &self,
        webhook: i64,
        limit: i64,
    ) -> Result<Vec<crate::DeliveryStatus>> {
        let rows = db::query("SELECT id, event_id, attempts, delivered_at, failed_at, last_error FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(webhook)
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::DeliveryStatus {
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
