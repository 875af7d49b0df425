//! When the desk cannot give the customer what they asked for (P6–P11): an honest
//! can't-help (with at least a partial solution, or a manager's review first), transfers
//! that always tell the customer, a referral from the top rung, handing a case off after
//! abuse, looking at masked words, supervising a customer, and the satisfaction survey.

use recourse_domain::ladder::{choose_assignee, may_work};
use recourse_domain::recovery::{
    CantHelp, SurveyAnswer, cant_help_message, is_ping_pong, may_refer, survey_editable,
    survey_wanted,
};
use recourse_domain::sla::SlaEvent;
use recourse_domain::template::{ReferralFacts, draft_referral};
use recourse_domain::{
    Actor, AgentId, Channel, Customer, CustomerId, EventKind, LadderError, Message, MessageId,
    MessageKind, Millis, Outcome, Status, Ticket, TicketChange, TicketId, apply_change,
    message_change,
};
use recourse_store::tx::{CantHelpReviewRow, CantHelpRow, MessageRow};
use recourse_store::{
    CantHelpRecord, CantHelpRequest, CantHelpReview, DeskConfig, ReferralRequest, StoreError,
    Survey, TransferRequest, Tx,
};

use crate::tickets::{advance_sla, note_response};
use crate::{Desk, DeskError, Result};

/// The refusal when the caller does not work the ticket, in the API's words.
const NOT_WORKING: &str = "Only someone working this ticket (its assignee, anyone on its rung, or a manager) can do this.";

impl Desk {
    /// Records a can't-help. With a partial solution the customer is told at once and the
    /// ticket resolves (outcome `explained`); without one it waits in the managers' review
    /// queue and the customer hears nothing yet.
    pub async fn cant_help(&self, r: CantHelpRequest) -> Result<(Ticket, CantHelpRecord)> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let before = tx.lock_ticket(r.ticket_id).await?;
        check_works(&mut tx, &cfg, r.actor, &before).await?;
        if !before.status.is_active() {
            return Err(LadderError::NotActive(before.status).into());
        }
        let c: &CantHelp = &r.cant_help;
        let (after, message_id, state) = if c.needs_review() {
            // Nothing offered: a manager looks before the customer hears "no".
            let mut after = before.clone();
            after.review_pending = true;
            after.updated_at = r.now;
            let ev = EventKind::CantHelp {
                reason: c.reason,
                needs_review: true,
                message_id: None,
            };
            tx.save_ticket(&cfg, &before, &after, &[ev], r.actor, r.now)
                .await?;
            tx.set_review_pending(before.id, true).await?;
            (after, None, "pending_review")
        } else {
            let name = tx.customer(before.customer_id).await?.name;
            let text = cant_help_message(c, name.as_deref());
            let end = Ending {
                status: Status::Resolved,
                outcome: Outcome::Explained,
                channel: r.channel,
                actor: r.actor,
            };
            let (after, mid) = tell_and_end(&mut tx, &cfg, &before, &text, end, r.now).await?;
            let ev = EventKind::CantHelp {
                reason: c.reason,
                needs_review: false,
                message_id: Some(mid),
            };
            tx.append_events(Some(before.id), &[(r.actor, &ev)], r.now)
                .await?;
            (after, Some(mid), "sent")
        };
        let record = tx
            .insert_cant_help(CantHelpRow {
                ticket: before.id,
                cant_help: c,
                state,
                message: message_id,
                now: r.now,
            })
            .await?;
        tx.commit().await?;
        Ok((after, record))
    }

    /// A manager decides on a can't-help that offered nothing: approving sends the
    /// explanation (with anything the manager found after all) and resolves the ticket;
    /// returning it sends nothing and gives it back to the agent. A note reaches the agent
    /// as an internal note.
    pub async fn review_cant_help(&self, r: CantHelpReview) -> Result<(Ticket, CantHelpRecord)> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let before = tx.lock_ticket(r.ticket_id).await?;
        let mut record = tx
            .pending_cant_help(before.id)
            .await?
            .ok_or(StoreError::NotFound("can't-help waiting for review"))?;
        let note = trimmed(r.note.as_deref());
        let partial = trimmed(r.partial_solution.as_deref());
        let (after, message_id, state) = if r.approve {
            let c = CantHelp {
                reason: record.reason,
                explanation: record.explanation.clone(),
                partial_solution: partial.clone().or(record.partial_solution.clone()),
                no_partial_justification: record.justification.clone(),
                third_party: record.third_party.clone(),
                handoff_summary: record.handoff_summary.clone(),
            };
            let name = tx.customer(before.customer_id).await?.name;
            let text = cant_help_message(&c, name.as_deref());
            let end = Ending {
                status: Status::Resolved,
                outcome: Outcome::Explained,
                channel: r.channel,
                actor: r.actor,
            };
            let (after, mid) = tell_and_end(&mut tx, &cfg, &before, &text, end, r.now).await?;
            (after, Some(mid), "approved")
        } else {
            let mut after = before.clone();
            after.review_pending = false;
            after.updated_at = r.now;
            tx.save_ticket(&cfg, &before, &after, &[], r.actor, r.now)
                .await?;
            tx.set_review_pending(before.id, false).await?;
            (after, None, "returned")
        };
        let reviewed = EventKind::CantHelpReviewed {
            approved: r.approve,
            message_id,
        };
        tx.append_events(Some(before.id), &[(r.actor, &reviewed)], r.now)
            .await?;
        tx.record_cant_help_review(CantHelpReviewRow {
            id: record.id,
            state,
            note: note.as_deref(),
            message: message_id,
            partial_solution: partial.as_deref(),
            now: r.now,
        })
        .await?;
        if let Some(n) = &note {
            // The reviewer's note reaches the agent as an internal note on the ticket.
            let id = tx
                .insert_message(MessageRow {
                    ticket: before.id,
                    kind: MessageKind::Note,
                    channel: r.channel,
                    author: r.actor,
                    body: n,
                    demeanor: None,
                    now: r.now,
                })
                .await?;
            let added = EventKind::MessageAdded {
                message_id: id,
                kind: MessageKind::Note,
            };
            tx.append_events(Some(before.id), &[(r.actor, &added)], r.now)
                .await?;
        }
        tx.commit().await?;
        record.state = state.to_owned();
        record.review_note = note;
        record.reviewed_at = Some(r.now);
        record.message_id = message_id.or(record.message_id);
        if partial.is_some() {
            record.partial_solution = partial;
        }
        Ok((after, record))
    }

    /// Passes a ticket to another agent, team or rung. The customer is always told who
    /// has the case now; the line answers nothing, so it does not end a run of transfers,
    /// and a run that goes on too long flags the ticket as ping-pong (once).
    pub async fn transfer(&self, r: TransferRequest) -> Result<Ticket> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let before = tx.lock_ticket(r.ticket_id).await?;
        check_works(&mut tx, &cfg, r.actor, &before).await?;
        if !before.status.is_active() {
            return Err(LadderError::NotActive(before.status).into());
        }
        let mut after = before.clone();
        if let Some(rung) = &r.to_rung {
            let rung = cfg
                .ladder
                .get(rung)
                .ok_or_else(|| LadderError::UnknownRung(rung.clone()))?;
            after.rung = rung.name.clone();
            if r.to_agent.is_none() {
                let pool = tx.candidates().await?;
                after.assignee_id = choose_assignee(
                    rung,
                    &before.tags,
                    before.needs_experience,
                    before.assignee_id,
                    &pool,
                );
            }
        }
        if let Some(agent) = r.to_agent {
            let who = tx
                .agent(agent)
                .await
                .map_err(|_| StoreError::NotFound("assignee"))?;
            if !who.active {
                return Err(StoreError::NotFound("assignee").into());
            }
            after.assignee_id = Some(agent);
        }
        if let Some(team) = r.to_team {
            tx.set_team(before.id, team).await?;
            after.team_id = Some(team);
        }
        let since = tx.transfers_since_reply(before.id).await? + 1;
        let message_id = tx
            .insert_message(MessageRow {
                ticket: before.id,
                kind: MessageKind::Reply,
                channel: r.channel,
                author: r.actor,
                body: &r.customer_message,
                demeanor: None,
                now: r.now,
            })
            .await?;
        let added = EventKind::MessageAdded {
            message_id,
            kind: MessageKind::Reply,
        };
        tx.append_events(Some(before.id), &[(r.actor, &added)], r.now)
            .await?;
        let mut events = vec![EventKind::Transferred {
            to_agent: r.to_agent,
            to_team: r.to_team,
            message_id,
        }];
        if after.assignee_id != before.assignee_id {
            events.push(EventKind::AssigneeChanged {
                from: before.assignee_id,
                to: after.assignee_id,
            });
        }
        if is_ping_pong(since, cfg.rules.ping_pong_after) && !before.ping_pong {
            events.push(EventKind::PingPongFlagged {
                transfers_since_reply: since,
            });
            after.ping_pong = true;
        }
        after.updated_at = r.now;
        let change = message_change(&before, MessageKind::Reply, None)?;
        let (mut after, mut status_events) = apply_change(&after, &change, r.now)?;
        events.append(&mut status_events);
        note_response(&mut after, MessageKind::Reply, r.now);
        tx.save_ticket(&cfg, &before, &after, &events, r.actor, r.now)
            .await?;
        tx.count_transfer(before.id, since, after.ping_pong).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The desk's last stand (P10): from the top rung only, the customer is told who can
    /// serve them better and how to reach them, and the ticket closes as `referred`.
    pub async fn refer(&self, r: ReferralRequest) -> Result<Ticket> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let before = tx.lock_ticket(r.ticket_id).await?;
        if !before.status.is_active() {
            return Err(LadderError::NotActive(before.status).into());
        }
        if !may_refer(&cfg.ladder, &before) {
            return Err(StoreError::Conflict(format!(
                "A referral is made from the top rung (`{}`); escalate the ticket there first",
                cfg.ladder.top().name
            ))
            .into());
        }
        let alt = tx
            .alternative(r.alternative_id)
            .await?
            .filter(|a| a.active)
            .ok_or(StoreError::NotFound("alternative"))?;
        let text = match r.message {
            Some(m) => m,
            None => {
                let template = tx.template("referral").await?;
                let name = tx.customer(before.customer_id).await?.name;
                draft_referral(
                    &template,
                    &ReferralFacts {
                        customer_name: name.as_deref(),
                        ticket_number: before.number,
                        subject: &before.subject,
                        alternative: &alt,
                        reason: &r.reason,
                        agent_name: r.agent_name.as_deref(),
                    },
                )
            }
        };
        let end = Ending {
            status: Status::Closed,
            outcome: Outcome::Referred,
            channel: r.channel,
            actor: r.actor,
        };
        let (after, message_id) = tell_and_end(&mut tx, &cfg, &before, &text, end, r.now).await?;
        let referred = EventKind::Referred {
            alternative_id: alt.id,
            message_id,
        };
        tx.append_events(Some(before.id), &[(r.actor, &referred)], r.now)
            .await?;
        tx.insert_referral(&before, alt.id, message_id, r.now)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The holder of a ticket passes it on, no reason asked (after abuse, P8): to whoever
    /// else on its rung is free, or back to the rung's queue.
    pub async fn hand_off(&self, ticket: TicketId, agent: AgentId, now: Millis) -> Result<Ticket> {
        let mut tx = self.store.begin().await?;
        let cfg = tx.config().await?;
        let before = tx.lock_ticket(ticket).await?;
        if before.assignee_id != Some(agent) {
            return Err(StoreError::Conflict(
                "Only the agent who holds a ticket can hand it off".into(),
            )
            .into());
        }
        let rung = cfg
            .ladder
            .get(&before.rung)
            .unwrap_or(cfg.ladder.first())
            .clone();
        let pool = tx.candidates().await?;
        let to = choose_assignee(
            &rung,
            &before.tags,
            before.needs_experience,
            Some(agent),
            &pool,
        );
        let mut after = before.clone();
        after.assignee_id = to;
        after.updated_at = now;
        let events = [
            EventKind::HandedOff { from: agent, to },
            EventKind::AssigneeChanged {
                from: Some(agent),
                to,
            },
        ];
        tx.save_ticket(&cfg, &before, &after, &events, Actor::Agent(agent), now)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A masked message in full. Who looked at hidden words is part of the record.
    pub async fn reveal_message(
        &self,
        message: MessageId,
        actor: Actor,
        now: Millis,
    ) -> Result<Message> {
        let mut tx = self.store.begin().await?;
        let m = tx.message(message).await?;
        let revealed = EventKind::MessageRevealed { message_id: m.id };
        tx.append_events(Some(m.ticket_id), &[(actor, &revealed)], now)
            .await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Puts a customer under a manager's eye (their new tickets start on the top rung),
    /// or takes them off it.
    pub async fn set_supervised(
        &self,
        customer: CustomerId,
        supervised: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<Customer> {
        let mut tx = self.store.begin().await?;
        let c = tx.set_supervised(customer, supervised).await?;
        let changed = EventKind::SupervisionChanged {
            customer_id: customer,
            supervised,
        };
        tx.append_events(None, &[(actor, &changed)], now).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Opens the satisfaction survey for an ended ticket and posts the invitation;
    /// `false` when it already has one or did not end in a way that asks for one.
    pub async fn open_survey(
        &self,
        ticket: TicketId,
        token_hash: &str,
        invite: &str,
        now: Millis,
    ) -> Result<bool> {
        let mut tx = self.store.begin().await?;
        let t = tx.lock_ticket(ticket).await?;
        if !survey_wanted(t.outcome) || tx.has_survey(ticket).await? {
            return Ok(false);
        }
        tx.insert_survey(ticket, token_hash, now).await?;
        // The invitation goes into the conversation even on a closed ticket: it
        // asks nothing of the desk and changes nothing about the case.
        let id = tx
            .insert_message(MessageRow {
                ticket,
                kind: MessageKind::Reply,
                channel: Channel::Api,
                author: Actor::System,
                body: invite,
                demeanor: None,
                now,
            })
            .await?;
        let added = EventKind::MessageAdded {
            message_id: id,
            kind: MessageKind::Reply,
        };
        tx.append_events(Some(ticket), &[(Actor::System, &added)], now)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Answers the survey behind a link. The answer may be changed for a week after it
    /// was first given, and not after.
    pub async fn answer_survey(
        &self,
        token_hash: &str,
        answer: SurveyAnswer,
        comment: Option<String>,
        now: Millis,
    ) -> Result<Survey> {
        let mut tx = self.store.begin().await?;
        let current = tx
            .survey_by_token(token_hash)
            .await?
            .ok_or(StoreError::NotFound("survey"))?;
        if !survey_editable(current.answered_at, now) {
            return Err(StoreError::Conflict(
                "This survey was answered more than a week ago and can no longer be changed".into(),
            )
            .into());
        }
        tx.save_survey_answer(token_hash, answer, comment.as_deref(), now)
            .await?;
        let answered = EventKind::SurveyAnswered {
            product: answer.product,
            service: answer.service(),
            recommend: answer.recommend,
        };
        tx.append_events(
            Some(current.ticket_id),
            &[(Actor::Customer(current.customer_id), &answered)],
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Survey {
            answered_at: current.answered_at.or(Some(now)),
            answer: Some(answer),
            comment,
            ..current
        })
    }
}

/// Refuses an agent who does not work the ticket as locked (a right lost a moment ago
/// is already lost). The system and customers are not agents and are not asked.
async fn check_works(tx: &mut Tx, cfg: &DeskConfig, actor: Actor, ticket: &Ticket) -> Result<()> {
    if let Actor::Agent(id) = actor {
        let agent = tx.agent(id).await?;
        if !may_work(&cfg.ladder, &agent, ticket) {
            return Err(DeskError::Forbidden(NOT_WORKING));
        }
    }
    Ok(())
}

fn trimmed(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// How a ticket ends when the desk tells the customer it cannot help.
struct Ending {
    status: Status,
    outcome: Outcome,
    channel: Channel,
    actor: Actor,
}

/// Sends `text` to the customer and ends the ticket (resolved for explanations, closed
/// for referrals), in the caller's transaction. Nothing waits for review any more.
async fn tell_and_end(
    tx: &mut Tx,
    cfg: &DeskConfig,
    before: &Ticket,
    text: &str,
    end: Ending,
    now: Millis,
) -> Result<(Ticket, MessageId)> {
    let message_id = tx
        .insert_message(MessageRow {
            ticket: before.id,
            kind: MessageKind::Reply,
            channel: end.channel,
            author: end.actor,
            body: text,
            demeanor: None,
            now,
        })
        .await?;
    let added = EventKind::MessageAdded {
        message_id,
        kind: MessageKind::Reply,
    };
    tx.append_events(Some(before.id), &[(end.actor, &added)], now)
        .await?;
    let change = TicketChange {
        status: Some(end.status),
        outcome: Some(end.outcome),
        ..TicketChange::default()
    };
    let (mut after, events) = apply_change(before, &change, now)?;
    after.review_pending = false;
    after.updated_at = now;
    advance_sla(cfg, before, &mut after, SlaEvent::AgentReplied, now);
    note_response(&mut after, MessageKind::Reply, now);
    tx.save_ticket(cfg, before, &after, &events, end.actor, now)
        .await?;
    tx.set_review_pending(before.id, false).await?;
    Ok((after, message_id))
}
