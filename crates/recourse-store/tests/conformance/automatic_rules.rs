//! Automatic rules: abuse, repeated contact and a still-angry customer move a case up.

use crate::usecases::UseCases;
use recourse_domain::{
    Actor, Demeanor, EscalationReason, InterventionKind, InterventionResult, MessageKind,
};
use recourse_store::{NewIntervention, StoreError};

use crate::harness::*;
use crate::ladder::{Desk, desk};

on_both! {
    abuse_goes_straight_to_the_top_rung_once_per_message,
    the_third_message_without_an_answer_moves_the_case_up,
    still_angry_after_two_interventions_moves_the_case_up_for_demeanor,
}

async fn abuse_goes_straight_to_the_top_rung_once_per_message(db: &TestDb) {
    let s = &db.store;
    let Desk { jo, ada, now, .. } = desk(s).await;
    // Automatic rules. Abuse goes straight to the top rung, once per message.
    let rude = s
        .create_ticket(new_ticket(ada.id, "Refund", "You are useless.", &[], now))
        .await
        .unwrap();
    let first_msg = s.messages(rude.id).await.unwrap()[0].id;
    let moved = s
        .set_demeanor(first_msg, Demeanor::Abusive, Actor::Agent(jo.id), now)
        .await
        .unwrap();
    assert_eq!(moved.rung, "manager");
    let again = s
        .set_demeanor(first_msg, Demeanor::Abusive, Actor::Agent(jo.id), now)
        .await
        .unwrap();
    assert_eq!(again.rung, "manager");
    let steps = s.escalations(rude.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].reason, Some(EscalationReason::Abuse));
    let sent = s.messages(rude.id).await.unwrap();
    assert_eq!(
        sent.last().unwrap().kind,
        MessageKind::Reply,
        "the customer is told who has the case"
    );
    assert!(matches!(
        s.set_demeanor(
            sent.last().unwrap().id,
            Demeanor::Angry,
            Actor::Agent(jo.id),
            now
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
}

async fn the_third_message_without_an_answer_moves_the_case_up(db: &TestDb) {
    let s = &db.store;
    let Desk { ada, now, .. } = desk(s).await;
    // Repeated contact: the third message without an answer moves the case up.
    let chase = s
        .create_ticket(new_ticket(
            ada.id,
            "Where is my order?",
            "Any news?",
            &[],
            now,
        ))
        .await
        .unwrap();
    let customer = Actor::Customer(ada.id);
    let (_, second) = s
        .add_message(message(
            chase.id,
            MessageKind::Inbound,
            customer,
            "Hello?",
            now,
        ))
        .await
        .unwrap();
    assert_eq!(second.rung, "frontline");
    let (_, third) = s
        .add_message(message(
            chase.id,
            MessageKind::Inbound,
            customer,
            "Third time asking.",
            now,
        ))
        .await
        .unwrap();
    assert_eq!(third.rung, "experienced");
    assert_eq!(
        s.escalations(chase.id).await.unwrap()[0].reason,
        Some(EscalationReason::RepeatedContact)
    );
}

async fn still_angry_after_two_interventions_moves_the_case_up_for_demeanor(db: &TestDb) {
    let s = &db.store;
    let Desk { jo, ada, now, .. } = desk(s).await;
    let by_jo = Actor::Agent(jo.id);
    let customer = Actor::Customer(ada.id);
    // Still angry after two interventions: up with reason `demeanor`.
    let sore = s
        .create_ticket(new_ticket(
            ada.id,
            "Late again",
            "Second late delivery.",
            &[],
            now,
        ))
        .await
        .unwrap();
    s.add_message(message(
        sore.id,
        MessageKind::Reply,
        by_jo,
        "Sorry, looking now.",
        now,
    ))
    .await
    .unwrap();
    for kind in [InterventionKind::Apology, InterventionKind::Credit] {
        s.add_intervention(NewIntervention {
            ticket_id: sore.id,
            kind,
            description: body("offered"),
            result: InterventionResult::Declined,
            agent_id: Some(jo.id),
            now,
        })
        .await
        .unwrap();
    }
    let mut angry = message(
        sore.id,
        MessageKind::Inbound,
        customer,
        "This is not good enough.",
        now,
    );
    angry.demeanor = Some(Demeanor::Angry);
    let (m, sore_after) = s.add_message(angry).await.unwrap();
    assert_eq!(m.demeanor, Some(Demeanor::Angry));
    assert_eq!(sore_after.rung, "experienced");
    assert_eq!(
        s.escalations(sore.id).await.unwrap()[0].reason,
        Some(EscalationReason::Demeanor)
    );
}
