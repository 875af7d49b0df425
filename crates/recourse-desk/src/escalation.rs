//! Moving a case up the ladder (P3–P5), and a manager moving it back down.
//!
//! Escalation is blameless: anyone working a ticket may move it up at any time, the
//! customer is always told what was tried and who has the case now, and nothing counts
//! escalations per agent.

use recourse_domain::ladder::{
    Candidate, choose_assignee, escalation_target, may_take, may_work, plan_descent,
    plan_escalation,
};
use recourse_domain::sla::SlaEvent;
use recourse_domain::{
    Actor, AgentId, Channel, EscalationReason, EventKind, LadderError, MessageId, MessageKind,
    Millis, Status, Ticket, TicketId, apply_change, message_change,
};
use recourse_store::tx::{MessageRow, StepRow};
use recourse_store::{Descent, DeskConfig, EscalationRequest, HandoffPlan, Tx};

use crate::{Desk, DeskError, Result};

impl Desk {
    /// The handoff the customer would be sent if the ticket moved up now for `reason`:
    /// what was tried, who would take over, and by when they hear back.
    pub async fn handoff_draft(
        &self,
        ticket: TicketId,
        reason: EscalationReason,
        now: Millis,
    ) -> Result<HandoffPlan> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let ticket = tx.lock_ticket(ticket).await?;
        let (plan, _) = gather_plan(&mut tx, &cfg, &ticket, reason, now).await?;
        // Nothing written: dropping the transaction rolls it back.
        Ok(plan)
    }

    /// Moves a ticket one rung up (the top rung for abuse), sends the customer the
    /// handoff, and routes the case, atomically. The caller's right to work the ticket
    /// is checked on the ticket as locked for the change.
    pub async fn escalate(&self, r: EscalationRequest) -> Result<Ticket> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let before = tx.lock_ticket(r.ticket_id).await?;
        if let Actor::Agent(id) = r.actor {
            let agent = tx.agent(id).await?;
            if !may_work(&cfg.ladder, &agent, &before) {
                return Err(DeskError::Forbidden(
                    "Only someone working this ticket (its assignee, anyone on its rung, or a manager) can escalate it.",
                ));
            }
        }
        let after = escalate_locked(
            &mut tx,
            &cfg,
            before,
            Escalation {
                reason: r.reason,
                note: r.note,
                message: r.message.map(|b| b.into_inner()),
                assignee: r.assignee,
                author: r.actor,
                channel: r.channel,
                trigger: None,
            },
            r.now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A manager moves a case one rung down with a note for whoever takes it.
    pub async fn descend(&self, r: Descent) -> Result<Ticket> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let before = tx.lock_ticket(r.ticket_id).await?;
        let to = plan_descent(&cfg.ladder, &before, &r.note)?;
        let rung = cfg
            .ladder
            .get(&to)
            .unwrap_or_else(|| cfg.ladder.first())
            .clone();
        let pool = tx.candidates().await?;
        let assignee = choose_assignee(
            &rung,
            &before.tags,
            before.needs_experience,
            before.assignee_id,
            &pool,
        );
        let note = r.note.trim();
        let mut after = before.clone();
        after.rung = to.clone();
        after.updated_at = r.now;
        let mut events = vec![EventKind::MovedDown {
            from: before.rung.clone(),
            to: to.clone(),
            note: note.to_owned(),
        }];
        if assignee != before.assignee_id {
            after.assignee_id = assignee;
            events.push(EventKind::AssigneeChanged {
                from: before.assignee_id,
                to: assignee,
            });
        }
        tx.save_ticket(&cfg, &before, &after, &events, r.actor, r.now)
            .await?;
        tx.record_step(StepRow {
            ticket: before.id,
            up: false,
            from: &before.rung,
            to: &to,
            reason: None,
            note: Some(note),
            message: None,
            trigger: None,
            at: r.now,
        })
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// One move up, as the caller, a rule or the sweeper asks for it.
pub(crate) struct Escalation {
    pub reason: EscalationReason,
    /// Internal: why, for the colleagues who take over.
    pub note: Option<String>,
    /// What the customer is sent; `None` sends the drafted handoff.
    pub message: Option<String>,
    /// Who takes over; `None` lets routing choose.
    pub assignee: Option<AgentId>,
    pub author: Actor,
    pub channel: Channel,
    /// The customer's message that moved the case, for the automatic rules.
    pub trigger: Option<MessageId>,
}

/// Reads everything a handoff needs: the customer, the interventions, where the case
/// goes, who would take it, and when the customer will hear back.
async fn gather_plan(
    tx: &mut Tx,
    cfg: &DeskConfig,
    ticket: &Ticket,
    reason: EscalationReason,
    now: Millis,
) -> Result<(HandoffPlan, Vec<Candidate>)> {
    let to = escalation_target(&cfg.ladder, ticket, reason)?.clone();
    let customer = tx.customer(ticket.customer_id).await?;
    let interventions = tx.interventions(ticket.id).await?;
    let needs_experience = ticket.needs_experience || reason == EscalationReason::NeedsExperience;
    let pool = tx.candidates().await?;
    let chosen = choose_assignee(
        &to,
        &ticket.tags,
        needs_experience,
        ticket.assignee_id,
        &pool,
    );
    let assignee = match chosen {
        Some(id) => Some(tx.agent(id).await?),
        None => None,
    };
    let target = cfg.sla.target(ticket.priority);
    let reply_by = cfg
        .calendar
        .add_business(now, target.next_update_minutes.into());
    let template = tx.template("handoff").await?;
    let plan = HandoffPlan {
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

/// The escalation itself, inside the caller's transaction with the ticket locked:
/// plan the step, choose (or check) who takes over, send the customer the handoff,
/// move the ticket and record the step.
pub(crate) async fn escalate_locked(
    tx: &mut Tx,
    cfg: &DeskConfig,
    before: Ticket,
    e: Escalation,
    now: Millis,
) -> Result<Ticket> {
    let (plan, pool) = gather_plan(tx, cfg, &before, e.reason, now).await?;
    let needs_experience = before.needs_experience || e.reason == EscalationReason::NeedsExperience;
    let assignee = match e.assignee {
        Some(id) => {
            let eligible = pool
                .iter()
                .find(|c| c.id == id)
                .is_some_and(|c| may_take(&plan.to, needs_experience, c));
            if !eligible {
                return Err(LadderError::NotEligible(plan.to.name.clone()).into());
            }
            Some(id)
        }
        None => plan.assignee.as_ref().map(|a| a.id),
    };
    let text = match e.message {
        Some(t) => t,
        None => {
            let name = match e.author {
                Actor::Agent(a) => Some(tx.agent(a).await?.name),
                _ => None,
            };
            plan.draft(name.as_deref())
        }
    };
    let step = plan_escalation(&cfg.ladder, &before, e.reason, &text)?;
    let message_id = tx
        .insert_message(MessageRow {
            ticket: before.id,
            kind: MessageKind::Reply,
            channel: e.channel,
            author: e.author,
            body: &text,
            demeanor: None,
            now,
        })
        .await?;
    // The handoff promises an answer from us, so the ball is in our court.
    let status = (before.status == Status::PendingCustomer).then_some(Status::Open);
    let change = message_change(&before, MessageKind::Reply, status)?;
    let (mut after, changes) = apply_change(&before, &change, now)?;
    after.rung = step.to.clone();
    after.needs_experience = needs_experience;
    after.updated_at = now;
    let mut events = vec![EventKind::MessageAdded {
        message_id,
        kind: MessageKind::Reply,
    }];
    events.extend(changes);
    events.push(EventKind::Escalated {
        from: step.from.clone(),
        to: step.to.clone(),
        reason: e.reason,
        note: e.note.clone(),
        message_id,
    });
    if assignee != before.assignee_id {
        after.assignee_id = assignee;
        events.push(EventKind::AssigneeChanged {
            from: before.assignee_id,
            to: assignee,
        });
    }
    crate::tickets::advance_sla(cfg, &before, &mut after, SlaEvent::AgentReplied, now);
    crate::tickets::note_response(&mut after, MessageKind::Reply, now);
    tx.save_ticket(cfg, &before, &after, &events, e.author, now)
        .await?;
    tx.record_step(StepRow {
        ticket: before.id,
        up: true,
        from: &step.from,
        to: &step.to,
        reason: Some(e.reason),
        note: e.note.as_deref(),
        message: Some(message_id),
        trigger: e.trigger,
        at: now,
    })
    .await?;
    Ok(after)
}
