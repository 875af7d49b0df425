//! Presence: going away hands active tickets on.

use crate::usecases::UseCases;
use recourse_domain::{Actor, EscalationReason, Priority};
use recourse_store::Descent;

use crate::harness::*;
use crate::ladder::{Desk, desk};

on_both! {
    going_away_hands_active_tickets_to_whoever_else_may_work_their_rung,
}

async fn going_away_hands_active_tickets_to_whoever_else_may_work_their_rung(db: &TestDb) {
    let s = &db.store;
    let Desk {
        jo, mia, ada, now, ..
    } = desk(s).await;
    let mut hard = new_ticket(ada.id, "Boiler code E7", "It beeps.", &[], now);
    hard.priority = Priority::High;
    let hard = s.create_ticket(hard).await.unwrap();
    s.escalate(escalation(
        hard.id,
        EscalationReason::NeedsExperience,
        Actor::Agent(hard.assignee_id.unwrap()),
        now,
    ))
    .await
    .unwrap();
    let down = s
        .move_down(Descent {
            ticket_id: hard.id,
            note: "Known fault; the fix is in the wiki.".into(),
            actor: Actor::Agent(mia.id),
            now,
        })
        .await
        .unwrap();
    // Going away hands active tickets on to whoever else may work their rung.
    let held_by = down.assignee_id.unwrap();
    let (away, moved) = s
        .set_presence(held_by, false, Actor::Agent(held_by), now)
        .await
        .unwrap();
    assert!(!away.present);
    assert!(moved.contains(&hard.id));
    let after = s.get_ticket(hard.id).await.unwrap();
    assert!(
        after.assignee_id != Some(held_by) && after.assignee_id != Some(jo.id),
        "{after:?}"
    );
    s.set_presence(held_by, true, Actor::Agent(held_by), now)
        .await
        .unwrap();
}
