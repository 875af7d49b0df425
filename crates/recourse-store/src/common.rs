//! Column lists and error mapping shared by every area of the store.

use crate::{SearchQuery, StoreError, TicketFilter};

pub(crate) const TICKET_COLS: &str = "id, number, subject, need, status, priority, rung, customer_id, assignee_id, team_id, tags, outcome, needs_experience, first_response_due, next_update_due, resolution_due, sla_paused_at, sla_warned, sla_breached, first_response_at, ended_at, ping_pong, review_pending, created_at, updated_at";
pub(crate) const AGENT_COLS: &str =
    "id, email, name, role, experience, skills, team_id, capacity, active, present, created_at";
pub(crate) const MESSAGE_COLS: &str =
    "id, ticket_id, kind, channel, author_kind, author_id, body, demeanor, masked, created_at";

pub(crate) fn map_unique(e: StoreError, what: &str) -> StoreError {
    match &e {
        StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            StoreError::Conflict(format!("{what} already exists"))
        }
        StoreError::Database(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
            StoreError::NotFound("referenced record")
        }
        _ => e,
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
