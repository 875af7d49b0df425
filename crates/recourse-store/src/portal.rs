//! The SQL for the customer portal: one-time sign-in links (queued like an outbox, the
//! token drawn and hashed by the sender, consumed once into a customer session), the
//! survey of a customer's own ticket, and files uploaded with portal messages, which
//! live in `mail_attachments` beside those that came by email. Expanded inside
//! `impl_store!`'s `shared` module, beside `mail_sql!`.

use recourse_domain::{CustomerId, MessageId, Millis, TicketId};

/// A sign-in link the sender should mail now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLinkMail {
    pub id: i64,
    pub customer_id: CustomerId,
    pub to_address: String,
    pub to_name: Option<String>,
    /// 1 for the first try.
    pub attempt: i64,
    /// The address bounces: the link is held back.
    pub bouncing: bool,
}

/// What a sign-in link is good for, when someone opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalLinkState {
    Usable,
    Used,
    Expired,
}

/// The session a sign-in link turns into (the customer comes from the link).
#[derive(Debug, Clone)]
pub struct NewPortalSession {
    /// SHA-256 of the cookie value, hex.
    pub id_hash: String,
    pub csrf_token: String,
    pub expires_at: Millis,
}

/// A file a customer sent with a portal message.
#[derive(Debug, Clone)]
pub struct NewPortalAttachment {
    pub filename: Option<String>,
    pub content_type: String,
    /// SHA-256 of `content`, hex.
    pub sha256: String,
    pub content: Vec<u8>,
}

/// An attachment of a ticket as the portal lists it (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalAttachment {
    pub id: i64,
    pub ticket_id: Option<TicketId>,
    /// The portal message it came with; `None` for files that arrived by email.
    pub message_ref: Option<MessageId>,
    /// The received email it came with, if any.
    pub inbound_id: Option<i64>,
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

use crate::rows::*;

/// Sending a link is retried this often; a link lives 15 minutes anyway.
pub(crate) const MAX_LINK_ATTEMPTS: i64 = 3;

pub(crate) fn attachment(r: &Row) -> Result<PortalAttachment> {
    Ok(PortalAttachment {
        id: r.try_get("id")?,
        ticket_id: r.try_get::<Option<i64>, _>("ticket_id")?.map(TicketId),
        message_ref: r.try_get::<Option<i64>, _>("message_ref")?.map(MessageId),
        inbound_id: r.try_get("inbound_id")?,
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
    })
}

pub(crate) const ATTACHMENT_COLS: &str =
    "id, ticket_id, message_ref, inbound_id, filename, content_type, size, sha256";

impl Store {
    /// Queues a sign-in link for the customer with this email, if there is one and
    /// fewer than `max_recent` were asked for in the last `window_ms`. `false` when
    /// nothing was queued; the caller answers the same either way.
    pub async fn request_portal_link(
        &self,
        email: &EmailAddress,
        max_recent: i64,
        window_ms: i64,
        now: Millis,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let customer: Option<i64> = db::query_scalar("SELECT id FROM customers WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&mut tx)
            .await?;
        let Some(customer) = customer else {
            return Ok(false);
        };
        // Counted in the database, so no node can be used to flood an inbox.
        let recent: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM portal_links WHERE customer_id = $1 AND created_at > $2",
        )
        .bind(customer)
        .bind(now.0 - window_ms)
        .fetch_one(&mut tx)
        .await?;
        if recent >= max_recent {
            return Ok(false);
        }
        db::query(
            "INSERT INTO portal_links (customer_id, to_address, state, next_attempt_at, created_at)
             VALUES ($1, $2, 'queued', $3, $3)",
        )
        .bind(customer)
        .bind(email.as_str())
        .bind(now.0)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Claims due sign-in links for `lease_ms`, as `claim_outbound_mail` does.
    pub async fn claim_portal_links(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<PortalLinkMail>> {
        let mut tx = self.begin().await?;
        let ids = crate::mail::lease_queued(&mut tx, "portal_links", now, lease_ms, limit).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let r = db::query(
                "SELECT l.id, l.customer_id, l.to_address, l.attempts, c.name,
                     (SELECT bouncing_since FROM mail_addresses a WHERE a.address = l.to_address) AS bouncing_since
                 FROM portal_links l JOIN customers c ON c.id = l.customer_id WHERE l.id = $1",
            )
            .bind(id)
            .fetch_one(&mut tx)
            .await?;
            out.push(PortalLinkMail {
                id: r.try_get("id")?,
                customer_id: CustomerId(r.try_get("customer_id")?),
                to_address: r.try_get("to_address")?,
                to_name: r.try_get("name")?,
                attempt: r.try_get("attempts")?,
                bouncing: r.try_get::<Option<i64>, _>("bouncing_since")?.is_some(),
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records the hash of the token the sender is about to mail, and its expiry.
    pub async fn arm_portal_link(
        &self,
        id: i64,
        token_hash: &str,
        expires_at: Millis,
    ) -> Result<()> {
        // A retry draws a new token, so a half-sent earlier one never works.
        let done = db::query(
            "UPDATE portal_links SET token_hash = $1, expires_at = $2 WHERE id = $3 AND state = 'queued'",
        )
        .bind(token_hash)
        .bind(expires_at.0)
        .bind(id)
        .execute(self.writer())
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound("queued sign-in link"));
        }
        Ok(())
    }

    pub async fn finish_portal_link(
        &self,
        id: i64,
        result: crate::OutboundResult,
        now: Millis,
    ) -> Result<()> {
        use crate::OutboundResult;
        let attempts: i64 = db::query_scalar("SELECT attempts FROM portal_links WHERE id = $1")
            .bind(id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound("sign-in link"))?;
        let q = match result {
            OutboundResult::Sent(_) => {
                db::query("UPDATE portal_links SET state = 'sent', sent_at = $1, last_error = NULL WHERE id = $2")
                    .bind(now.0)
                    .bind(id)
            }
            // A link that was not mailed must not work: its token is dropped.
            OutboundResult::Suppressed(reason) => {
                db::query("UPDATE portal_links SET state = 'suppressed', token_hash = NULL, last_error = $1 WHERE id = $2")
                    .bind(reason)
                    .bind(id)
            }
            OutboundResult::Failed(reason) if attempts >= MAX_LINK_ATTEMPTS => {
                db::query("UPDATE portal_links SET state = 'failed', token_hash = NULL, last_error = $1 WHERE id = $2")
                    .bind(reason.chars().take(500).collect::<String>())
                    .bind(id)
            }
            OutboundResult::Failed(reason) => {
                db::query("UPDATE portal_links SET token_hash = NULL, next_attempt_at = $1, last_error = $2 WHERE id = $3")
                    .bind(now.0 + 10_000 * attempts)
                    .bind(reason.chars().take(500).collect::<String>())
                    .bind(id)
            }
        };
        q.execute(self.writer()).await?;
        Ok(())
    }

    pub async fn portal_link_state(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<PortalLinkState>> {
        let row: Option<(Option<i64>, Option<i64>)> = db::query_as(
            "SELECT expires_at, used_at FROM portal_links WHERE token_hash = $1 AND state IN ('queued', 'sent')",
        )
        .bind(token_hash)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|(expires_at, used_at)| {
            if used_at.is_some() {
                PortalLinkState::Used
            } else if expires_at.is_none_or(|e| e <= now.0) {
                PortalLinkState::Expired
            } else {
                PortalLinkState::Usable
            }
        }))
    }

    /// Marks the link used and opens the customer's session, once; `None` when the
    /// link is unknown, used or expired.
    pub async fn use_portal_link(
        &self,
        token_hash: &str,
        session: NewPortalSession,
        now: Millis,
    ) -> Result<Option<CustomerId>> {
        let mut tx = self.begin().await?;
        // One UPDATE decides: of two clicks at once, exactly one finds it unused.
        let customer: Option<i64> = db::query_scalar(
            "UPDATE portal_links SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 AND state IN ('queued', 'sent')
             RETURNING customer_id",
        )
        .bind(now.0)
        .bind(token_hash)
        .fetch_optional(&mut tx)
        .await?;
        let Some(customer) = customer else {
            return Ok(None);
        };
        db::query("INSERT INTO sessions (id_hash, principal_kind, principal_id, csrf_token, created_at, expires_at) VALUES ($1, 'customer', $2, $3, $4, $5)")
            .bind(&session.id_hash)
            .bind(customer)
            .bind(&session.csrf_token)
            .bind(now.0)
            .bind(session.expires_at.0)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(Some(CustomerId(customer)))
    }

    /// The hash of a ticket's survey token, so a signed-in customer can answer it.
    pub async fn survey_token_hash(&self, ticket: TicketId) -> Result<Option<String>> {
        db::query_scalar("SELECT token_hash FROM surveys WHERE ticket_id = $1")
            .bind(ticket.0)
            .fetch_optional(self.reader())
            .await
    }

    pub async fn add_portal_attachments(
        &self,
        ticket: TicketId,
        message: MessageId,
        files: Vec<NewPortalAttachment>,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for f in &files {
            db::query(
                "INSERT INTO mail_attachments (ticket_id, message_ref, filename, content_type, size, sha256, content, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(ticket.0)
            .bind(message.0)
            .bind(f.filename.as_ref().map(|n| n.replace('\0', "")))
            .bind(f.content_type.replace('\0', ""))
            .bind(f.content.len() as i64)
            .bind(&f.sha256)
            .bind(&f.content)
            .bind(now.0)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every attachment of a ticket, uploaded or received by email, oldest first.
    pub async fn ticket_attachments(&self, ticket: TicketId) -> Result<Vec<PortalAttachment>> {
        let rows = db::query(format!(
            "SELECT {ATTACHMENT_COLS} FROM mail_attachments WHERE ticket_id = $1 ORDER BY id"
        ))
        .bind(ticket.0)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(attachment).collect()
    }

    pub async fn attachment_content(&self, id: i64) -> Result<Option<(PortalAttachment, Vec<u8>)>> {
        let row = db::query(format!(
            "SELECT {ATTACHMENT_COLS}, content FROM mail_attachments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some((attachment(&r)?, r.try_get("content")?)))
    }
}
