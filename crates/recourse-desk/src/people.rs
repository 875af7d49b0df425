//! The people side of the ladder: an agent going away hands their cases on, and a
//! customer's message read again may move its case (P9).

use recourse_domain::ladder::choose_assignee;
use recourse_domain::{
    Actor, Agent, AgentId, Demeanor, EventKind, MessageId, MessageKind, Millis, Ticket, TicketId,
};
use recourse_store::StoreError;

use crate::rules::apply_rules;
use crate::{Desk, Result};

impl Desk {
    /// Marks an agent present or away. Someone away should not hold customers' cases:
    /// each active one goes to whoever else on its rung is free, or back to the rung's
    /// queue. Returns the agent and the tickets handed on.
    pub async fn set_presence(
        &self,
        agent: AgentId,
        present: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<(Agent, Vec<TicketId>)> {
        let mut tx = self.store.begin().await?;
        if !tx.set_present(agent, present).await? {
            return Err(StoreError::NotFound("agent").into());
        }
        let changed = EventKind::PresenceChanged {
            agent_id: agent,
            present,
        };
        tx.append_events(None, &[(actor, &changed)], now).await?;
        let mut moved = Vec::new();
        if !present {
            let cfg = tx.config().await?;
            for id in tx.active_tickets_of(agent).await? {
                let before = tx.lock_ticket(id).await?;
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
                let events = [EventKind::AssigneeChanged {
                    from: Some(agent),
                    to,
                }];
                tx.save_ticket(&cfg, &before, &after, &events, actor, now)
                    .await?;
                moved.push(id);
            }
        }
        let a = tx.agent(agent).await?;
        tx.commit().await?;
        Ok((a, moved))
    }

    /// Records how a customer's message reads (an abusive one is masked for agents until
    /// someone chooses to look) and, for the customer's latest word, runs the rules.
    pub async fn set_demeanor(
        &self,
        message: MessageId,
        demeanor: Demeanor,
        actor: Actor,
        now: Millis,
    ) -> Result<Ticket> {
        let mut tx = self.store.begin().await?;
        let (ticket_id, kind) = tx.message_origin(message).await?;
        if kind != MessageKind::Inbound {
            return Err(StoreError::Conflict(
                "Only a customer's message has a demeanor; this one was written by the desk".into(),
            )
            .into());
        }
        let cfg = tx.config().await?;
        let ticket = tx.lock_ticket(ticket_id).await?;
        let latest = tx
            .set_message_demeanor(ticket_id, message, demeanor)
            .await?;
        let read = EventKind::DemeanorRead {
            message_id: message,
            demeanor,
        };
        tx.append_events(Some(ticket.id), &[(actor, &read)], now)
            .await?;
        // Only the latest word from the customer says how they feel now.
        let ticket = if latest {
            apply_rules(&mut tx, &cfg, ticket, message, Some(demeanor), None, now).await?
        } else {
            ticket
        };
        tx.commit().await?;
        Ok(ticket)
    }
}
