//! The automatic escalation rules, run after a customer writes or a message is
//! re-read: too many messages without an answer, still angry after several things were
//! tried, or abuse (straight to the top rung, so no frontline agent keeps taking it).

use recourse_domain::ladder::{escalation_target, rule_verdict};
use recourse_domain::{Actor, Channel, Demeanor, EscalationReason, MessageId, Millis, Ticket};
use recourse_store::{DeskConfig, Tx};

use crate::Result;
use crate::escalation::{Escalation, escalate_locked};

/// What the rules look at besides the reading.
pub(crate) struct Counts {
    /// Customer messages since the last reply.
    pub unanswered: i64,
    pub interventions: i64,
    /// Whether the triggering message has already moved the case.
    pub moved_by_trigger: bool,
}

impl Counts {
    /// A new ticket's: its one message, nothing tried yet, nothing moved.
    pub const FIRST_MESSAGE: Counts = Counts {
        unanswered: 1,
        interventions: 0,
        moved_by_trigger: false,
    };
}

/// Applies the rules to `ticket` (locked in `tx`) after its customer message `trigger`;
/// `counts` when the caller knows them (a new ticket), else they are read.
pub(crate) async fn apply_rules(
    tx: &mut Tx,
    cfg: &DeskConfig,
    ticket: Ticket,
    trigger: MessageId,
    reading: Option<Demeanor>,
    counts: Option<Counts>,
    now: Millis,
) -> Result<Ticket> {
    use EscalationReason as R;
    if !ticket.status.is_active() {
        return Ok(ticket);
    }
    let (unanswered, interventions, known_moved) = match counts {
        Some(c) => (c.unanswered, c.interventions, Some(c.moved_by_trigger)),
        None => (
            tx.unanswered(ticket.id).await?,
            tx.intervention_count(ticket.id).await?,
            None,
        ),
    };
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
        let moved = match known_moved {
            Some(moved) => moved,
            None => tx.moved_by(trigger).await?,
        };
        if moved {
            return Ok(ticket);
        }
    }
    if escalation_target(&cfg.ladder, &ticket, reason).is_err() {
        return Ok(ticket);
    }
    // For the colleagues who take over; the customer is sent the drafted handoff.
    let note = match reason {
        R::RepeatedContact => format!(
            "Moved up automatically: the customer has written {unanswered} times without an answer."
        ),
        R::Demeanor => format!(
            "Moved up automatically: the customer still reads angry after {interventions} interventions."
        ),
        _ => "Moved to the top rung automatically: a message reads as abusive, so no frontline agent has to keep taking it.".to_owned(),
    };
    escalate_locked(
        tx,
        cfg,
        ticket,
        Escalation {
            reason,
            note: Some(note),
            message: None,
            assignee: None,
            author: Actor::System,
            channel: Channel::Api,
            trigger: Some(trigger),
        },
        now,
    )
    .await
}
