//! The transaction interface's rows for when the desk cannot help: can't-help records
//! and their review, transfers, referrals, supervision, revealed messages and surveys.
//! Rows only, like `tx.rs`: the desk decides (who may, what state, what the customer
//! reads); these methods write it.

use recourse_domain::recovery::{Alternative, CantHelp, SurveyAnswer};

use crate::db::Tx;
use crate::recovery::{CANT_HELP_COLS, SURVEY_SELECT, alternative, cant_help_record, survey};
use crate::rows::*;
use crate::{CantHelpRecord, Survey};

/// A can't-help as it is recorded.
#[derive(Debug, Clone, Copy)]
pub struct CantHelpRow<'a> {
    pub ticket: TicketId,
    pub cant_help: &'a CantHelp,
    /// `sent` or `pending_review`.
    pub state: &'a str,
    /// The message the customer was sent, if one was.
    pub message: Option<MessageId>,
    pub now: Millis,
}

/// A manager's decision on a can't-help, as it is recorded.
#[derive(Debug, Clone, Copy)]
pub struct CantHelpReviewRow<'a> {
    pub id: i64,
    /// `approved` or `returned`.
    pub state: &'a str,
    pub note: Option<&'a str>,
    pub message: Option<MessageId>,
    /// Something the reviewer added to what the customer reads.
    pub partial_solution: Option<&'a str>,
    pub now: Millis,
}

impl Tx {
    /// Marks a ticket as waiting (or no longer waiting) for a manager's review.
    pub async fn set_review_pending(&mut self, ticket: TicketId, on: bool) -> Result<()> {
        db::query("UPDATE tickets SET review_pending = $1 WHERE id = $2")
            .bind(on)
            .bind(ticket.0)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    pub async fn insert_cant_help(&mut self, r: CantHelpRow<'_>) -> Result<CantHelpRecord> {
        let c = r.cant_help;
        let tp = c.third_party.as_ref();
        let row = db::query(format!(
            "INSERT INTO cant_help (ticket_id, reason, explanation, partial_solution, justification, third_party_who, third_party_why, third_party_how, handoff_summary, state, message_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {CANT_HELP_COLS}"
        ))
        .bind(r.ticket.0)
        .bind(c.reason.as_str())
        .bind(&c.explanation)
        .bind(&c.partial_solution)
        .bind(&c.no_partial_justification)
        .bind(tp.map(|t| t.who.clone()))
        .bind(tp.map(|t| t.why_theirs.clone()))
        .bind(tp.map(|t| t.how_to_reach.clone()))
        .bind(&c.handoff_summary)
        .bind(r.state)
        .bind(r.message.map(|m| m.0))
        .bind(r.now.0)
        .fetch_one(&mut *self)
        .await?;
        cant_help_record(&row)
    }

    /// The ticket's latest can't-help still waiting for review.
    pub async fn pending_cant_help(&mut self, ticket: TicketId) -> Result<Option<CantHelpRecord>> {
        let row = db::query(format!(
            "SELECT {CANT_HELP_COLS} FROM cant_help WHERE ticket_id = $1 AND state = 'pending_review' ORDER BY id DESC LIMIT 1"
        ))
        .bind(ticket.0)
        .fetch_optional(&mut *self)
        .await?;
        row.as_ref().map(cant_help_record).transpose()
    }

    pub async fn record_cant_help_review(&mut self, r: CantHelpReviewRow<'_>) -> Result<()> {
        db::query("UPDATE cant_help SET state = $1, review_note = $2, reviewed_at = $3, message_id = COALESCE($4, message_id), partial_solution = COALESCE($5, partial_solution) WHERE id = $6")
            .bind(r.state)
            .bind(r.note)
            .bind(r.now.0)
            .bind(r.message.map(|m| m.0))
            .bind(r.partial_solution)
            .bind(r.id)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    /// Moves a ticket to a team; `NotFound("team")` when there is no such team.
    pub async fn set_team(&mut self, ticket: TicketId, team: TeamId) -> Result<()> {
        let found: Option<i64> = db::query_scalar("SELECT id FROM teams WHERE id = $1")
            .bind(team.0)
            .fetch_optional(&mut *self)
            .await?;
        found.ok_or(StoreError::NotFound("team"))?;
        db::query("UPDATE tickets SET team_id = $1 WHERE id = $2")
            .bind(team.0)
            .bind(ticket.0)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    /// Transfers since the customer last had an answer.
    pub async fn transfers_since_reply(&mut self, ticket: TicketId) -> Result<i64> {
        db::query_scalar("SELECT transfers_since_reply FROM tickets WHERE id = $1")
            .bind(ticket.0)
            .fetch_one(&mut *self)
            .await
    }

    /// Counts one more transfer, with the run it is part of and the ping-pong flag.
    pub async fn count_transfer(
        &mut self,
        ticket: TicketId,
        since_reply: i64,
        ping_pong: bool,
    ) -> Result<()> {
        db::query("UPDATE tickets SET transfers = transfers + 1, transfers_since_reply = $1, ping_pong = $2 WHERE id = $3")
            .bind(since_reply)
            .bind(ping_pong)
            .bind(ticket.0)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    /// An alternative provider from the referral directory.
    pub async fn alternative(&mut self, id: i64) -> Result<Option<Alternative>> {
        let row = db::query(
            "SELECT id, name, serves, contact, notes, active FROM alternatives WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self)
        .await?;
        row.as_ref().map(alternative).transpose()
    }

    pub async fn insert_referral(
        &mut self,
        ticket: &Ticket,
        alternative: i64,
        message: MessageId,
        at: Millis,
    ) -> Result<()> {
        db::query("INSERT INTO referrals (ticket_id, customer_id, alternative_id, message_id, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(ticket.id.0)
            .bind(ticket.customer_id.0)
            .bind(alternative)
            .bind(message.0)
            .bind(at.0)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    pub async fn message(&mut self, id: MessageId) -> Result<Message> {
        let row = db::query(format!("SELECT {MESSAGE_COLS} FROM messages WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *self)
            .await?
            .ok_or(StoreError::NotFound("message"))?;
        decode::message(&row)
    }

    /// Sets whether a manager supervises a customer; `NotFound("customer")` when there
    /// is no such customer.
    pub async fn set_supervised(&mut self, customer: CustomerId, on: bool) -> Result<Customer> {
        let row = db::query("UPDATE customers SET supervised = $1 WHERE id = $2 RETURNING id, email, name, organization_id, supervised, created_at")
            .bind(on)
            .bind(customer.0)
            .fetch_optional(&mut *self)
            .await?
            .ok_or(StoreError::NotFound("customer"))?;
        decode::customer(&row)
    }

    pub async fn has_survey(&mut self, ticket: TicketId) -> Result<bool> {
        let id: Option<i64> = db::query_scalar("SELECT id FROM surveys WHERE ticket_id = $1")
            .bind(ticket.0)
            .fetch_optional(&mut *self)
            .await?;
        Ok(id.is_some())
    }

    pub async fn insert_survey(
        &mut self,
        ticket: TicketId,
        token_hash: &str,
        now: Millis,
    ) -> Result<()> {
        db::query("INSERT INTO surveys (ticket_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(ticket.0)
            .bind(token_hash)
            .bind(now.0)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    /// The survey behind a link, read inside the transaction.
    pub async fn survey_by_token(&mut self, token_hash: &str) -> Result<Option<Survey>> {
        let row = db::query(format!("{SURVEY_SELECT} WHERE s.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&mut *self)
            .await?;
        row.as_ref().map(survey).transpose()
    }

    /// Writes an answer; the first answer's time is kept.
    pub async fn save_survey_answer(
        &mut self,
        token_hash: &str,
        answer: SurveyAnswer,
        comment: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        db::query("UPDATE surveys SET answered_at = COALESCE(answered_at, $1), product = $2, pleasantness = $3, competence = $4, recommend = $5, comment = $6 WHERE token_hash = $7")
            .bind(now.0)
            .bind(i64::from(answer.product))
            .bind(i64::from(answer.pleasantness))
            .bind(i64::from(answer.competence))
            .bind(i64::from(answer.recommend))
            .bind(comment)
            .bind(token_hash)
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}
