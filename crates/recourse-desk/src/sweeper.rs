//! The SLA sweeper: warns before a deadline, records a breach once, and moves a
//! breached case one rung up with a drafted handoff.

use recourse_domain::ladder::escalation_target;
use recourse_domain::sla::SlaAction;
use recourse_domain::{Actor, Channel, EscalationReason, EventKind, Millis, TicketId};
use recourse_store::{DeskConfig, SweepReport, Tx};

use crate::escalation::{Escalation, escalate_locked};
use crate::{Desk, Result};

impl Desk {
    /// One pass: claims tickets whose next check is due, up to `limit`, each in its own
    /// short transaction so a breach storm never holds locks long enough to stall live
    /// work. Safe on several nodes at once: on PostgreSQL each claims different tickets
    /// (`SKIP LOCKED`); on SQLite the single writer serialises.
    pub async fn sweep_sla(&self, now: Millis, limit: i64) -> Result<SweepReport> {
        let mut report = SweepReport::default();
        // How the desk works is read once per pass (when there is work), not per ticket.
        let mut cfg: Option<DeskConfig> = None;
        for _ in 0..limit.max(1) {
            let mut tx = self.store.begin().await?;
            let Some(id) = tx.claim_due_sla(now).await? else {
                break;
            };
            if cfg.is_none() {
                cfg = Some(tx.config().await?);
            }
            let Some(cfg) = cfg.as_ref() else { break };
            sweep_one(&mut tx, cfg, id, now, &mut report).await?;
            tx.commit().await?;
        }
        Ok(report)
    }
}

/// Warns, records breaches and escalates one claimed ticket.
async fn sweep_one(
    tx: &mut Tx,
    cfg: &DeskConfig,
    id: TicketId,
    now: Millis,
    report: &mut SweepReport,
) -> Result<()> {
    let before = tx.lock_ticket(id).await?;
    let mut after = before.clone();
    let actions = after.sla.take_due(&cfg.sla, now);
    report.examined += 1;
    let mut events = Vec::new();
    let mut breached = false;
    for a in &actions {
        match *a {
            SlaAction::Warn(clock) => {
                report.warned += 1;
                let due = before.sla.due(clock).unwrap_or(now);
                events.push(EventKind::SlaWarning { clock, due });
            }
            SlaAction::Breach(clock) => {
                report.breached += 1;
                breached = true;
                let due = before.sla.due(clock).unwrap_or(now);
                events.push(EventKind::SlaBreached { clock, due });
            }
        }
    }
    if events.is_empty() {
        // Nothing due after all (the policy changed): just look again later.
        tx.set_sla_next(id, after.sla.next_check(&cfg.sla)).await?;
        return Ok(());
    }
    tx.save_ticket(cfg, &before, &after, &events, Actor::System, now)
        .await?;
    let reason = EscalationReason::SlaBreach;
    if breached && escalation_target(&cfg.ladder, &after, reason).is_ok() {
        escalate_locked(
            tx,
            cfg,
            after,
            Escalation {
                reason,
                note: Some("Moved up automatically: a service-level deadline passed.".into()),
                message: None,
                assignee: None,
                author: Actor::System,
                channel: Channel::Api,
                trigger: None,
            },
            now,
        )
        .await?;
        report.escalated += 1;
    }
    Ok(())
}
