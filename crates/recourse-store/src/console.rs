//! What the agent console reads beyond the plain ticket listing: queue counts that stay
//! cheap however many tickets the desk holds, the "breaching soon" and "flagged" queues,
//! and the canned replies agents drop into the composer.
//!
//! `console_sql!(Store, Database, Connection)` is expanded inside `impl_store!`'s
//! `shared` module (like `ladder_sql!`), so it can reuse `push_filter`.

use recourse_domain::{AgentId, Millis};

use crate::TicketFilter;

/// A queue of the agent console.
#[derive(Debug, Clone)]
pub enum ConsoleQueue {
    /// Any listing filter (its `before` and `limit` are ignored).
    Filter(TicketFilter),
    /// Active tickets whose SLA clock needs the sweeper by `until`: a warning or a
    /// breach is due, or overdue and not swept yet. A warned clock's next check is its
    /// deadline, so with `until` past the warning window every warned ticket is here.
    /// Served by the `tickets_sla_next` partial index (`sla_next_at` is NULL for
    /// paused, ended and fully breached tickets).
    BreachingSoon { until: Millis },
    /// Active tickets that need care beyond the usual: passed around without an answer
    /// (ping-pong), a can't-help waiting for review, a customer under supervision, or
    /// a customer whose latest message read as abusive. Served by the
    /// `tickets_console_flagged` partial index and `customers_supervised`.
    Flagged,
    /// The active tickets one agent holds (their load), from `tickets_active_load`.
    ActiveLoad(AgentId),
    /// Live tickets passed around without an answer to the customer (ping-pong), from
    /// `tickets_console_ping_pong`.
    PassedAround,
    /// Tickets whose can't-help waits for a manager's review, from
    /// `tickets_console_review`.
    ReviewPending,
}

/// A saved answer with `{{variables}}`, rendered for a ticket before it is inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedReply {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub created_by: Option<AgentId>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A canned reply to create or replace; the caller has checked the body's variables.
#[derive(Debug, Clone)]
pub struct NewCannedReply {
    pub title: String,
    pub body: String,
    pub author: Option<AgentId>,
}

use crate::rows::*;

/// The statuses in which a ticket still needs work, as `tickets_active_load`
/// lists them (word for word, so the planners match the partial index).
pub(crate) const ACTIVE: &str = "t.status IN ('new', 'open', 'pending_customer')";

/// The ids of flagged tickets: the `tickets_console_flagged` partial index
/// answers the first part (its condition repeated word for word), and
/// `customers_supervised` with `tickets_customer_created` the second.
/// Flags are exceptions, so the set is small.
pub(crate) const FLAGGED_IDS: &str = "SELECT id FROM tickets WHERE ended_at IS NULL AND (ping_pong = TRUE OR review_pending = TRUE OR last_demeanor = 'abusive')
     UNION SELECT t2.id FROM customers c JOIN tickets t2 ON t2.customer_id = c.id
     WHERE c.supervised = TRUE AND t2.ended_at IS NULL";

/// Appends the queue's condition to a `... FROM tickets t WHERE 1 = 1`.
pub(crate) fn push_queue(qb: &mut SqlBuilder, q: &ConsoleQueue) {
    match q {
        ConsoleQueue::Filter(f) => {
            let f = crate::TicketFilter {
                before: None,
                ..f.clone()
            };
            push_filter(qb, &f);
        }
        ConsoleQueue::BreachingSoon { until } => {
            qb.push(" AND t.sla_next_at IS NOT NULL AND t.sla_next_at <= ")
                .push_bind(until.0);
        }
        ConsoleQueue::Flagged => {
            // No status test out here: it would tempt PostgreSQL into
            // scanning every active ticket; the ids are all live already.
            qb.push(format!(" AND t.id IN ({FLAGGED_IDS})"));
        }
        // Literal conditions, word for word as in the partial indexes (a
        // bound `TRUE` would hide the match from the planners).
        ConsoleQueue::PassedAround => {
            qb.push(" AND t.ended_at IS NULL AND t.ping_pong = TRUE");
        }
        ConsoleQueue::ReviewPending => {
            qb.push(" AND t.review_pending = TRUE");
        }
        ConsoleQueue::ActiveLoad(a) => {
            qb.push(" AND t.assignee_id = ").push_bind(a.0);
            qb.push(format!(" AND {ACTIVE}"));
        }
    }
}

pub(crate) const CANNED_COLS: &str = "id, title, body, created_by, created_at, updated_at";

pub(crate) fn canned(r: &Row) -> Result<CannedReply> {
    Ok(CannedReply {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        created_by: r.try_get::<Option<i64>, _>("created_by")?.map(AgentId),
        created_at: Millis(r.try_get("created_at")?),
        updated_at: Millis(r.try_get("updated_at")?),
    })
}

impl Store {
    /// One of the console's queues, newest first (the breaching-soon queue: most
    /// urgent first).
    pub async fn console_queue(&self, q: &ConsoleQueue, limit: i64) -> Result<Vec<Ticket>> {
        let mut qb = SqlBuilder::new(format!("SELECT {TICKET_COLS} FROM tickets t WHERE 1 = 1"));
        push_queue(&mut qb, q);
        // The most urgent first where there is an order of urgency.
        qb.push(match q {
            ConsoleQueue::BreachingSoon { .. } => " ORDER BY t.sla_next_at ASC, t.id ASC",
            _ => " ORDER BY t.id DESC",
        });
        qb.push(" LIMIT ").push_bind(limit);
        let rows = qb.build().fetch_all(self.reader()).await?;
        rows.iter().map(decode::ticket).collect()
    }

    /// Counts up to `cap` matching tickets: the inner LIMIT stops the index scan
    /// there, so a queue of a million costs what a queue of `cap` does.
    pub async fn count_console_queue(&self, q: &ConsoleQueue, cap: i64) -> Result<i64> {
        let mut qb =
            SqlBuilder::new("SELECT COUNT(*) FROM (SELECT t.id FROM tickets t WHERE 1 = 1");
        push_queue(&mut qb, q);
        qb.push(" LIMIT ").push_bind(cap).push(") capped");
        qb.build_scalar::<i64>().fetch_one(self.reader()).await
    }

    /// Every canned reply, by title.
    pub async fn canned_replies(&self) -> Result<Vec<CannedReply>> {
        let rows = db::query(format!(
            "SELECT {CANNED_COLS} FROM canned_replies ORDER BY title, id"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(canned).collect()
    }

    pub async fn canned_reply(&self, id: i64) -> Result<CannedReply> {
        let row = db::query(format!(
            "SELECT {CANNED_COLS} FROM canned_replies WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound("canned reply"))?;
        canned(&row)
    }

    /// Creates (`id: None`) or replaces a canned reply; titles are unique.
    pub async fn save_canned_reply(
        &self,
        id: Option<i64>,
        c: NewCannedReply,
        now: Millis,
    ) -> Result<CannedReply> {
        let row = match id {
            None => db::query(format!(
                "INSERT INTO canned_replies (title, body, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING {CANNED_COLS}"
            ))
            .bind(&c.title)
            .bind(&c.body)
            .bind(c.author.map(|a| a.0))
            .bind(now.0)
            .fetch_one(self.writer())
            .await
            .map_err(|e| map_unique(e, "a canned reply with that title"))?,
            Some(id) => db::query(format!(
                "UPDATE canned_replies SET title = $1, body = $2, updated_at = $3 WHERE id = $4 RETURNING {CANNED_COLS}"
            ))
            .bind(&c.title)
            .bind(&c.body)
            .bind(now.0)
            .bind(id)
            .fetch_optional(self.writer())
            .await
            .map_err(|e| map_unique(e, "a canned reply with that title"))?
            .ok_or(StoreError::NotFound("canned reply"))?,
        };
        canned(&row)
    }

    pub async fn delete_canned_reply(&self, id: i64) -> Result<()> {
        let done = db::query("DELETE FROM canned_replies WHERE id = $1")
            .bind(id)
            .execute(self.writer())
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound("canned reply"));
        }
        Ok(())
    }
}
