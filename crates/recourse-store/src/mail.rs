//! The SQL for the email channel: mailboxes, received mail (stored before it is
//! acknowledged, then claimed and handled), Message-IDs for threading and
//! de-duplication, attachments, bouncing addresses and the outbound outbox. Expanded
//! inside `impl_store!`'s `shared` module, beside `ladder_sql!`.

use crate::rows::*;

use crate::mail_input::*;

pub(crate) const INBOUND_SUMMARY_COLS: &str = "id, source, envelope_from, size, state, message_id, from_address, subject, ticket_id, message_ref, reason, received_at, processed_at";

/// Retries of an outbound message before it is marked failed.
pub(crate) const MAX_SEND_ATTEMPTS: i64 = 10;
pub(crate) const HOUR_MS: i64 = 3_600_000;

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn mailbox(r: &Row) -> Result<Mailbox> {
    Ok(Mailbox {
        id: r.try_get("id")?,
        address: r.try_get("address")?,
        team_id: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
        created_at: Millis(r.try_get("created_at")?),
    })
}

/// Mail text as both databases can hold it: PostgreSQL text cannot contain NUL,
/// which broken mail does carry. The raw message keeps every byte.
pub(crate) fn text(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.replace('\0', ""))
}

pub(crate) fn addresses(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

pub(crate) async fn insert_inbound(conn: &mut impl Db, m: &NewInboundMail) -> Result<i64> {
    let to = serde_json::to_string(&m.envelope_to).map_err(corrupt)?;
    db::query_scalar(
        "INSERT INTO inbound_mail (source, envelope_from, envelope_to, raw, size, sha256, state, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'received', $7) RETURNING id",
    )
    .bind(&m.source)
    .bind(&m.envelope_from)
    .bind(to)
    .bind(&m.raw)
    .bind(m.raw.len() as i64)
    .bind(&m.sha256)
    .bind(m.now.0)
    .fetch_one(&mut *conn)
    .await
}

pub(crate) fn inbound_summary(r: &Row) -> Result<InboundMailSummary> {
    let state: String = r.try_get("state")?;
    Ok(InboundMailSummary {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        envelope_from: r.try_get("envelope_from")?,
        size: r.try_get("size")?,
        state: MailState::parse(&state).ok_or_else(|| corrupt(format!("mail state {state}")))?,
        message_id: r.try_get("message_id")?,
        from_address: r.try_get("from_address")?,
        subject: r.try_get("subject")?,
        ticket_id: r.try_get::<Option<i64>, _>("ticket_id")?.map(TicketId),
        message_ref: r.try_get::<Option<i64>, _>("message_ref")?.map(MessageId),
        reason: r.try_get("reason")?,
        received_at: Millis(r.try_get("received_at")?),
        processed_at: r.try_get::<Option<i64>, _>("processed_at")?.map(Millis),
    })
}

/// Queues a reply for sending, in the reply's own transaction (the outbox);
/// called by `insert_message` for every message of kind `reply`.
pub(crate) async fn queue_outbound(
    conn: &mut impl Db,
    ticket: TicketId,
    message: MessageId,
    automatic: bool,
    now: Millis,
) -> Result<()> {
    db::query(
        "INSERT INTO outbound_mail (ticket_id, message_ref, to_address, automatic, state, next_attempt_at, created_at)
         SELECT t.id, $1, c.email, $2, 'queued', $3, $3 FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = $4",
    )
    .bind(message.0)
    .bind(automatic)
    .bind(now.0)
    .bind(ticket.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes up to `limit` queued rows of an outbox-like table (`outbound_mail`,
/// `portal_links`) that are due, counts the attempt and pushes them `lease_ms`
/// out, so no other node sends them meanwhile; a node that dies lets the lease
/// lapse. Returns their ids, oldest due first.
pub(crate) async fn lease_queued(
    conn: &mut impl Db,
    table: &'static str,
    now: Millis,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<i64>> {
    let ids: Vec<i64> = db::query_scalar(format!(
        "SELECT id FROM {table} WHERE state = 'queued' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $2{}",
        conn.backend().claim_lock()
    ))
    .bind(now.0)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    for id in &ids {
        db::query(format!(
            "UPDATE {table} SET attempts = attempts + 1, next_attempt_at = $1 WHERE id = $2"
        ))
        .bind(now.0 + lease_ms)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(ids)
}

impl Store {
    /// Adds (or re-points) an address the desk receives mail for.
    pub async fn save_mailbox(
        &self,
        address: &EmailAddress,
        team: Option<TeamId>,
        now: Millis,
    ) -> Result<Mailbox> {
        let row = db::query(
            "INSERT INTO mailboxes (address, team_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (address) DO UPDATE SET team_id = excluded.team_id
             RETURNING id, address, team_id, created_at",
        )
        .bind(address.as_str())
        .bind(team.map(|t| t.0))
        .bind(now.0)
        .fetch_one(self.writer())
        .await
        .map_err(|e| map_unique(e, "that mailbox"))?;
        mailbox(&row)
    }

    pub async fn mailboxes(&self) -> Result<Vec<Mailbox>> {
        let rows =
            db::query("SELECT id, address, team_id, created_at FROM mailboxes ORDER BY address")
                .fetch_all(self.reader())
                .await?;
        rows.iter().map(mailbox).collect()
    }

    pub async fn delete_mailbox(&self, id: i64) -> Result<()> {
        let done = db::query("DELETE FROM mailboxes WHERE id = $1")
            .bind(id)
            .execute(self.writer())
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound("mailbox"));
        }
        Ok(())
    }

    /// Stores a message exactly as received; it is acknowledged only once this returns.
    pub async fn store_inbound_mail(&self, m: NewInboundMail) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = insert_inbound(&mut tx, &m).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// How far the IMAP poller has read `account` (user@host/folder).
    pub async fn imap_cursor(&self, account: &str) -> Result<Option<ImapCursor>> {
        let row = db::query("SELECT uidvalidity, last_uid FROM imap_cursors WHERE account = $1")
            .bind(account)
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| {
            Ok(ImapCursor {
                uidvalidity: r.try_get("uidvalidity")?,
                last_uid: r.try_get("last_uid")?,
            })
        })
        .transpose()
    }

    /// Stores a message read from an IMAP folder and moves the folder's cursor past
    /// it in one transaction, so a crash can neither skip it nor self it twice. A
    /// cursor already at or past `uid` (another node took it) stores nothing.
    pub async fn store_imap_mail(
        &self,
        m: NewInboundMail,
        account: &str,
        at: ImapCursor,
    ) -> Result<Option<i64>> {
        let mut tx = self.begin().await?;
        let moved = db::query(
            "INSERT INTO imap_cursors (account, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,
                 updated_at = excluded.updated_at
             WHERE imap_cursors.uidvalidity <> excluded.uidvalidity OR imap_cursors.last_uid < excluded.last_uid",
        )
        .bind(account)
        .bind(at.uidvalidity)
        .bind(at.last_uid)
        .bind(m.now.0)
        .execute(&mut tx)
        .await?;
        if moved == 0 {
            return Ok(None);
        }
        let id = insert_inbound(&mut tx, &m).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Starts a folder over (its UIDVALIDITY changed): every message in it is read
    /// again, and Message-IDs keep the ones we already have from becoming duplicates.
    pub async fn reset_imap_cursor(
        &self,
        account: &str,
        uidvalidity: i64,
        now: Millis,
    ) -> Result<()> {
        db::query(
            "INSERT INTO imap_cursors (account, uidvalidity, last_uid, updated_at) VALUES ($1, $2, 0, $3)
             ON CONFLICT (account) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0, updated_at = excluded.updated_at
             WHERE imap_cursors.uidvalidity <> excluded.uidvalidity",
        )
        .bind(account)
        .bind(uidvalidity)
        .bind(now.0)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Takes a received message for processing for `lease_ms`; `None` when it is done
    /// or another worker holds it. A worker that dies lets the lease run out.
    pub async fn claim_inbound_mail(
        &self,
        id: i64,
        now: Millis,
        lease_ms: i64,
    ) -> Result<Option<ClaimedMail>> {
        let mut tx = self.begin().await?;
        let row = db::query(format!(
            "SELECT id, envelope_from, envelope_to, raw, sha256 FROM inbound_mail
             WHERE id = $1 AND state = 'received' AND (lease_until IS NULL OR lease_until <= $2){}",
            self.backend().claim_lock()
        ))
        .bind(id)
        .bind(now.0)
        .fetch_optional(&mut tx)
        .await?;
        let Some(r) = row else { return Ok(None) };
        db::query("UPDATE inbound_mail SET lease_until = $1 WHERE id = $2")
            .bind(now.0 + lease_ms)
            .bind(id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(Some(ClaimedMail {
            id: r.try_get("id")?,
            envelope_from: r.try_get("envelope_from")?,
            envelope_to: addresses(&r.try_get::<String, _>("envelope_to")?),
            raw: r.try_get("raw")?,
            sha256: r.try_get("sha256")?,
        }))
    }

    /// Received messages nobody is working on (left by a crash, or handed back).
    pub async fn due_inbound_mail(&self, now: Millis, limit: i64) -> Result<Vec<i64>> {
        db::query_scalar(
            "SELECT id FROM inbound_mail WHERE state = 'received' AND (lease_until IS NULL OR lease_until <= $1)
             ORDER BY id LIMIT $2",
        )
        .bind(now.0)
        .bind(limit)
        .fetch_all(self.reader())
        .await
    }

    /// Reserves a Message-ID for a received message; `false` when another message
    /// already has it (a second delivery of the same mail).
    pub async fn claim_message_id(
        &self,
        message_id: &str,
        inbound: i64,
        now: Millis,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let message_id = message_id.replace('\0', "");
        let message_id = message_id.as_str();
        let owner: Option<Option<i64>> =
            db::query_scalar("SELECT inbound_id FROM mail_message_ids WHERE message_id = $1")
                .bind(message_id)
                .fetch_optional(&mut tx)
                .await?;
        let ours = match owner {
            // Our own earlier claim, left by a run that stopped before finishing.
            Some(owner) => owner == Some(inbound),
            None => {
                db::query("INSERT INTO mail_message_ids (message_id, inbound_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING")
                    .bind(message_id)
                    .bind(inbound)
                    .bind(now.0)
                    .execute(&mut tx).await?
                    == 1
            }
        };
        tx.commit().await?;
        Ok(ours)
    }

    /// The ticket a reply belongs to, from the Message-IDs it refers to.
    pub async fn thread_of(&self, message_ids: &[String]) -> Result<Option<TicketId>> {
        // Newest reference first: References lists the thread oldest first.
        for id in message_ids.iter().rev() {
            let ticket: Option<Option<i64>> =
                db::query_scalar("SELECT ticket_id FROM mail_message_ids WHERE message_id = $1")
                    .bind(id.replace('\0', ""))
                    .fetch_optional(self.reader())
                    .await?;
            if let Some(Some(t)) = ticket {
                return Ok(Some(TicketId(t)));
            }
        }
        Ok(None)
    }

    pub async fn ticket_by_number(&self, number: i64) -> Result<Option<Ticket>> {
        let row = db::query(format!(
            "SELECT {TICKET_COLS} FROM tickets WHERE number = $1"
        ))
        .bind(number)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(decode::ticket).transpose()
    }

    /// Records how a received message was handled, with its attachments and any
    /// addresses it reports as bouncing, in one transaction.
    pub async fn finish_inbound_mail(&self, o: InboundOutcome) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = db::query(
            "UPDATE inbound_mail SET state = $1, message_id = $2, from_address = $3, subject = $4, body_text = $5,
                 ticket_id = $6, message_ref = $7, reason = $8, processed_at = $9, lease_until = NULL
             WHERE id = $10",
        )
        .bind(o.state.as_str())
        .bind(text(&o.message_id))
        .bind(text(&o.from_address))
        .bind(text(&o.subject))
        .bind(text(&o.body_text))
        .bind(o.ticket_id.map(|t| t.0))
        .bind(o.message_ref.map(|m| m.0))
        .bind(text(&o.reason))
        .bind(o.now.0)
        .bind(o.id)
        .execute(&mut tx)
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound("inbound mail"));
        }
        if let (Some(mid), Some(ticket)) = (&o.message_id, o.ticket_id) {
            // Only the message that claimed the ID threads by it; a duplicate never does.
            db::query("UPDATE mail_message_ids SET ticket_id = $1 WHERE message_id = $2 AND inbound_id = $3")
                .bind(ticket.0)
                .bind(mid)
                .bind(o.id)
                .execute(&mut tx)
                .await?;
        }
        if let (Some(ticket), Some(team)) = (o.ticket_id, o.team_id) {
            db::query("UPDATE tickets SET team_id = $1 WHERE id = $2 AND team_id IS NULL")
                .bind(team.0)
                .bind(ticket.0)
                .execute(&mut tx)
                .await?;
        }
        // Re-processing replaces what an earlier attempt kept.
        db::query("DELETE FROM mail_attachments WHERE inbound_id = $1")
            .bind(o.id)
            .execute(&mut tx)
            .await?;
        for a in &o.attachments {
            db::query(
                "INSERT INTO mail_attachments (inbound_id, ticket_id, filename, content_type, size, sha256, content, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(o.id)
            .bind(o.ticket_id.map(|t| t.0))
            .bind(text(&a.filename))
            .bind(a.content_type.replace('\0', ""))
            .bind(a.content.len() as i64)
            .bind(&a.sha256)
            .bind(&a.content)
            .bind(o.now.0)
            .execute(&mut tx)
            .await?;
        }
        for (address, reason) in &o.bouncing {
            db::query(
                "INSERT INTO mail_addresses (address, bouncing_since, bounce_reason, bounce_count) VALUES ($1, $2, $3, 1)
                 ON CONFLICT (address) DO UPDATE SET bouncing_since = COALESCE(mail_addresses.bouncing_since, excluded.bouncing_since),
                     bounce_reason = excluded.bounce_reason, bounce_count = mail_addresses.bounce_count + 1",
            )
            .bind(address.to_lowercase().replace('\0', ""))
            .bind(o.now.0)
            .bind(reason.replace('\0', ""))
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Hands a quarantined message back to the pipeline.
    pub async fn requeue_inbound_mail(&self, id: i64) -> Result<()> {
        let done = db::query(
            "UPDATE inbound_mail SET state = 'received', lease_until = NULL, reason = NULL, processed_at = NULL
             WHERE id = $1 AND state = 'quarantined'",
        )
        .bind(id)
        .execute(self.writer())
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound("quarantined message"));
        }
        Ok(())
    }

    /// Received messages, newest first; `before` is the id cursor.
    pub async fn inbound_mail(
        &self,
        state: Option<MailState>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<InboundMailSummary>> {
        let mut qb = SqlBuilder::new(format!(
            "SELECT {INBOUND_SUMMARY_COLS} FROM inbound_mail WHERE 1 = 1"
        ));
        if let Some(s) = state {
            qb.push(" AND state = ").push_bind(s.as_str());
        }
        if let Some(b) = before {
            qb.push(" AND id < ").push_bind(b);
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        let rows = qb.build().fetch_all(self.reader()).await?;
        rows.iter().map(inbound_summary).collect()
    }

    pub async fn inbound_mail_raw(&self, id: i64) -> Result<Vec<u8>> {
        db::query_scalar("SELECT raw FROM inbound_mail WHERE id = $1")
            .bind(id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound("inbound mail"))
    }

    /// Which ticket and message a received mail became (`NotFound` for no such mail).
    pub async fn inbound_mail_origin(&self, id: i64) -> Result<InboundMailOrigin> {
        let row = db::query("SELECT ticket_id, message_ref FROM inbound_mail WHERE id = $1")
            .bind(id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound("inbound mail"))?;
        Ok(InboundMailOrigin {
            ticket_id: row.try_get::<Option<i64>, _>("ticket_id")?.map(TicketId),
            message_ref: row.try_get::<Option<i64>, _>("message_ref")?.map(MessageId),
        })
    }

    /// Found through `mail_message_ids`, whose ticket index every handled message
    /// is in (one without a Message-ID gets a made-up one), so the ticket page
    /// never scans `inbound_mail`.
    pub async fn message_mail(&self, ticket: TicketId) -> Result<Vec<MessageMail>> {
        let rows = db::query(format!(
            "SELECT i.id, i.message_ref, {} AS has_html FROM mail_message_ids m JOIN inbound_mail i ON i.id = m.inbound_id
             WHERE m.ticket_id = $1 AND i.ticket_id = $1 AND i.message_ref IS NOT NULL ORDER BY i.id",
            self.backend().raw_has_html()
        ))
        .bind(ticket.0)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MessageMail {
                    message: MessageId(r.try_get("message_ref")?),
                    inbound_id: r.try_get("id")?,
                    has_html: r.try_get("has_html")?,
                })
            })
            .collect()
    }

    pub async fn attachments(&self, ticket: TicketId) -> Result<Vec<AttachmentInfo>> {
        let rows = db::query("SELECT id, inbound_id, filename, content_type, size, sha256 FROM mail_attachments WHERE ticket_id = $1 ORDER BY id")
            .bind(ticket.0)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AttachmentInfo {
                    id: r.try_get("id")?,
                    inbound_id: r.try_get("inbound_id")?,
                    filename: r.try_get("filename")?,
                    content_type: r.try_get("content_type")?,
                    size: r.try_get("size")?,
                    sha256: r.try_get("sha256")?,
                })
            })
            .collect()
    }

    /// Since when mail to `address` bounces, if it does.
    pub async fn bouncing_since(&self, address: &str) -> Result<Option<Millis>> {
        let since: Option<Option<i64>> =
            db::query_scalar("SELECT bouncing_since FROM mail_addresses WHERE address = $1")
                .bind(address.to_lowercase())
                .fetch_optional(self.reader())
                .await?;
        Ok(since.flatten().map(Millis))
    }

    /// Claims due outbound mail for `lease_ms`, as `claim_deliveries` does for webhooks.
    pub async fn claim_outbound_mail(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboundMail>> {
        let mut tx = self.begin().await?;
        let ids = lease_queued(&mut tx, "outbound_mail", now, lease_ms, limit).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let r = db::query(
                "SELECT o.id, o.ticket_id, o.message_ref, o.to_address, o.automatic, o.attempts,
                        t.number, t.subject, m.body, c.name,
                        (SELECT bouncing_since FROM mail_addresses a WHERE a.address = o.to_address) AS bouncing_since
                 FROM outbound_mail o JOIN tickets t ON t.id = o.ticket_id JOIN messages m ON m.id = o.message_ref
                      JOIN customers c ON c.id = t.customer_id
                 WHERE o.id = $1",
            )
            .bind(id)
            .fetch_one(&mut tx)
            .await?;
            let ticket_id: i64 = r.try_get("ticket_id")?;
            let to_address: String = r.try_get("to_address")?;
            let mut thread: Vec<String> = db::query_scalar(
                "SELECT message_id FROM mail_message_ids WHERE ticket_id = $1 ORDER BY id DESC LIMIT 20",
            )
            .bind(ticket_id)
            .fetch_all(&mut tx)
            .await?;
            thread.reverse();
            let last_inbound: Option<String> = db::query_scalar(
                "SELECT message_id FROM mail_message_ids WHERE ticket_id = $1 AND inbound_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            )
            .bind(ticket_id)
            .fetch_optional(&mut tx)
            .await?;
            let automatic_last_hour: i64 = db::query_scalar(
                "SELECT COUNT(*) FROM outbound_mail WHERE to_address = $1 AND automatic = TRUE AND state = 'sent' AND sent_at > $2",
            )
            .bind(&to_address)
            .bind(now.0 - HOUR_MS)
            .fetch_one(&mut tx)
            .await?;
            out.push(OutboundMail {
                id,
                ticket_id: TicketId(ticket_id),
                ticket_number: r.try_get("number")?,
                subject: r.try_get("subject")?,
                message_ref: MessageId(r.try_get("message_ref")?),
                body: r.try_get("body")?,
                to_address,
                to_name: r.try_get("name")?,
                automatic: r.try_get("automatic")?,
                attempt: r.try_get("attempts")?,
                thread,
                last_inbound,
                bouncing: r.try_get::<Option<i64>, _>("bouncing_since")?.is_some(),
                automatic_last_hour,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn finish_outbound_mail(
        &self,
        id: i64,
        result: OutboundResult,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let (ticket_id, attempts): (i64, i64) =
            db::query_as("SELECT ticket_id, attempts FROM outbound_mail WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut tx)
                .await?
                .ok_or(StoreError::NotFound("outbound mail"))?;
        match result {
            OutboundResult::Sent(message_id) => {
                db::query("UPDATE outbound_mail SET state = 'sent', sent_at = $1, message_id = $2, last_error = NULL WHERE id = $3")
                    .bind(now.0)
                    .bind(&message_id)
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
                // Our own Message-ID threads the customer's answer back to the ticket.
                db::query("INSERT INTO mail_message_ids (message_id, ticket_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING")
                    .bind(&message_id)
                    .bind(ticket_id)
                    .bind(now.0)
                    .execute(&mut tx)
                    .await?;
            }
            OutboundResult::Suppressed(reason) => {
                db::query(
                    "UPDATE outbound_mail SET state = 'suppressed', last_error = $1 WHERE id = $2",
                )
                .bind(reason)
                .bind(id)
                .execute(&mut tx)
                .await?;
            }
            OutboundResult::Failed(reason) => {
                let reason: String = reason.chars().take(500).collect();
                if attempts >= MAX_SEND_ATTEMPTS {
                    db::query(
                        "UPDATE outbound_mail SET state = 'failed', last_error = $1 WHERE id = $2",
                    )
                    .bind(reason)
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
                } else {
                    // 10 s, 20 s, 40 s … capped at an hour, as for webhooks.
                    let backoff = (10_000i64 << (attempts - 1).clamp(0, 20)).min(HOUR_MS);
                    db::query("UPDATE outbound_mail SET next_attempt_at = $1, last_error = $2 WHERE id = $3")
                        .bind(now.0 + backoff)
                        .bind(reason)
                        .bind(id)
                        .execute(&mut tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn outbound_mail(&self, ticket: TicketId) -> Result<Vec<OutboundMailStatus>> {
        let rows = db::query(
            "SELECT id, message_ref, to_address, automatic, state, attempts, message_id, last_error, sent_at
             FROM outbound_mail WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket.0)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboundMailStatus {
                    id: r.try_get("id")?,
                    message_ref: MessageId(r.try_get("message_ref")?),
                    to_address: r.try_get("to_address")?,
                    automatic: r.try_get("automatic")?,
                    state: r.try_get("state")?,
                    attempts: r.try_get("attempts")?,
                    message_id: r.try_get("message_id")?,
                    last_error: r.try_get("last_error")?,
                    sent_at: r.try_get::<Option<i64>, _>("sent_at")?.map(Millis),
                })
            })
            .collect()
    }
}
