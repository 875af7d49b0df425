//! When we can't help: can't-help, transfer, referral, survey.

use crate::usecases::UseCases;
use recourse_domain::Agent;
use recourse_domain::recovery::{CantHelpReason, SurveyAnswer, ThirdParty};
use recourse_domain::{
    Actor, AgentId, Channel, Customer, Demeanor, EscalationReason, Experience, LadderError,
    MessageKind, Millis, Outcome, Role, Status, TicketId,
};
use recourse_store::{
    CantHelpReview, NewAlternative, ReferralRequest, TicketFlag, TransferRequest,
};
use recourse_store::{StoreError, TicketFilter};

use crate::harness::*;

on_both! {
    with_a_partial_solution_the_customer_hears_at_once_and_the_ticket_resolves,
    without_a_partial_solution_a_cant_help_waits_for_a_manager_and_sends_nothing,
    a_manager_approving_a_cant_help_sends_the_answer_and_notes_the_review,
    a_returned_cant_help_goes_back_to_the_agent_and_sends_nothing,
    a_third_party_cant_help_tells_the_customer_who_why_and_how_to_reach_them,
    an_ended_ticket_takes_no_cant_help,
    the_third_transfer_without_an_answer_flags_the_ticket_once,
    a_real_answer_ends_a_run_of_transfers,
    a_transfer_to_an_unknown_agent_or_rung_is_refused,
    listed_alternatives_are_saved_and_listed,
    a_referral_below_the_top_rung_is_refused,
    a_referral_to_an_unknown_or_inactive_alternative_is_refused,
    a_referral_from_the_top_rung_closes_as_referred_and_tells_the_customer_where_to_go,
    abusive_words_are_masked_and_revealing_them_is_recorded,
    an_agent_marking_a_message_abusive_masks_it_and_a_correction_unmasks_it,
    only_the_holder_can_hand_a_ticket_off_and_needs_no_reason,
    a_supervised_customers_new_tickets_start_with_a_manager,
    an_ended_ticket_gets_one_survey_and_an_active_one_none,
    a_survey_is_found_by_its_token,
    a_survey_answer_can_be_changed_for_a_week_and_no_later,
}

fn transfer_to(ticket: TicketId, agent: AgentId, by: Actor, now: Millis) -> TransferRequest {
    TransferRequest {
        ticket_id: ticket,
        to_agent: Some(agent),
        to_team: None,
        to_rung: None,
        customer_message: "Your case is with our billing specialist now; they can change invoices."
            .into(),
        channel: Channel::Console,
        actor: by,
        now,
    }
}

/// Jo (junior), Eve (experienced) and Mia (manager); the customer Ada; a Monday morning.
struct Team {
    jo: Agent,
    eve: Agent,
    mia: Agent,
    ada: Customer,
    by_jo: Actor,
    by_mia: Actor,
    now: Millis,
}

async fn team(s: &S) -> Team {
    let jo = staff(s, "jo@example.com", "Jo", Role::Agent, Experience::Junior).await;
    let eve = staff(
        s,
        "eve@example.com",
        "Eve",
        Role::Agent,
        Experience::Experienced,
    )
    .await;
    let mia = staff(
        s,
        "mia@example.com",
        "Mia",
        Role::Manager,
        Experience::Senior,
    )
    .await;
    let ada = s
        .upsert_customer(&email("ada@example.com"), Some("Ada"), t(0))
        .await
        .unwrap();
    let (by_jo, by_mia) = (Actor::Agent(jo.id), Actor::Agent(mia.id));
    let now = at("2026-11-23T10:00:00Z");
    Team {
        jo,
        eve,
        mia,
        ada,
        by_jo,
        by_mia,
        now,
    }
}

async fn with_a_partial_solution_the_customer_hears_at_once_and_the_ticket_resolves(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // With a partial solution the customer hears at once and the ticket resolves.
    let a = new("Return opened coffee", &[]).await;
    let (a2, rec) = s
        .cant_help(cant(
            a.id,
            explained(Some("We can send a voucher for your next order.")),
            by_jo,
            now,
        ))
        .await
        .unwrap();
    assert_eq!(
        (a2.status, a2.outcome),
        (Status::Resolved, Some(Outcome::Explained))
    );
    assert_eq!(a2.ended_at, Some(now));
    assert_eq!(rec.state, "sent");
    let sent = s.messages(a.id).await.unwrap().pop().unwrap();
    assert_eq!(Some(sent.id), rec.message_id);
    assert!(sent.body.starts_with("Hello Ada,"));
    assert!(sent.body.contains("for hygiene reasons"));
    assert!(
        sent.body
            .contains("What we can still do for you: We can send a voucher")
    );
}

async fn without_a_partial_solution_a_cant_help_waits_for_a_manager_and_sends_nothing(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // Without one it waits for a manager, and the customer hears nothing yet.
    let b = new("Cash refund", &[]).await;
    let before = s.messages(b.id).await.unwrap().len();
    let (b2, rec) = s
        .cant_help(cant(b.id, explained(None), by_jo, now))
        .await
        .unwrap();
    assert!(b2.review_pending);
    assert_eq!(b2.status, Status::New);
    assert_eq!(rec.state, "pending_review");
    assert_eq!(s.messages(b.id).await.unwrap().len(), before);
    let queue = s.cant_help_records(None, 10).await.unwrap();
    assert_eq!(
        queue.iter().map(|r| r.ticket_id).collect::<Vec<_>>(),
        [b.id]
    );
    let flagged = TicketFilter {
        flag: Some(TicketFlag::ReviewPending),
        ..all(10)
    };
    assert_eq!(s.list_tickets(&flagged).await.unwrap().len(), 1);
}

async fn a_manager_approving_a_cant_help_sends_the_answer_and_notes_the_review(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada,
        by_jo,
        by_mia,
        now,
        ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let b = new("Cash refund", &[]).await;
    s.cant_help(cant(b.id, explained(None), by_jo, now))
        .await
        .unwrap();
    // The manager finds something after all and approves.
    let review = |ticket, approve, partial: Option<&str>| CantHelpReview {
        ticket_id: ticket,
        approve,
        note: Some("Offer store credit instead.".into()),
        partial_solution: partial.map(String::from),
        channel: Channel::Console,
        actor: by_mia,
        now,
    };
    let (b3, rec) = s
        .review_cant_help(review(
            b.id,
            true,
            Some("Store credit for the full amount."),
        ))
        .await
        .unwrap();
    assert_eq!(
        (b3.status, b3.outcome, b3.review_pending),
        (Status::Resolved, Some(Outcome::Explained), false)
    );
    assert_eq!(rec.state, "approved");
    let msgs = s.messages(b.id).await.unwrap();
    assert!(
        msgs.iter().any(|m| m.kind == MessageKind::Reply
            && m.body.contains("Store credit for the full amount."))
    );
    assert!(
        msgs.iter()
            .any(|m| m.kind == MessageKind::Note && m.body == "Offer store credit instead.")
    );
    assert!(s.cant_help_records(None, 10).await.unwrap().is_empty());
    assert!(matches!(
        s.review_cant_help(review(b.id, true, None)).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_returned_cant_help_goes_back_to_the_agent_and_sends_nothing(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada,
        by_jo,
        by_mia,
        now,
        ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let review = |ticket, approve, partial: Option<&str>| CantHelpReview {
        ticket_id: ticket,
        approve,
        note: Some("Offer store credit instead.".into()),
        partial_solution: partial.map(String::from),
        channel: Channel::Console,
        actor: by_mia,
        now,
    };
    // Returned: back to the agent, nothing sent, still open.
    let c = new("Another cash refund", &[]).await;
    s.cant_help(cant(c.id, explained(None), by_jo, now))
        .await
        .unwrap();
    let (c2, rec) = s.review_cant_help(review(c.id, false, None)).await.unwrap();
    assert_eq!(
        (c2.status, c2.review_pending, rec.state.as_str()),
        (Status::New, false, "returned")
    );
    assert!(
        s.messages(c.id)
            .await
            .unwrap()
            .iter()
            .all(|m| m.kind != MessageKind::Reply)
    );
}

async fn a_third_party_cant_help_tells_the_customer_who_why_and_how_to_reach_them(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // A third party: who, why theirs, and how to reach them all reach the customer.
    let d = new("Card declined", &[]).await;
    let mut tp = explained(Some("We will hold the order for 14 days."));
    tp.reason = CantHelpReason::ThirdParty;
    tp.third_party = Some(ThirdParty {
        who: "your card issuer".into(),
        why_theirs: "Only they can lift a block on your card".into(),
        how_to_reach: "the number on the back of the card".into(),
    });
    tp.handoff_summary = Some("Declined 3 times with code 05.".into());
    let (_, rec) = s.cant_help(cant(d.id, tp, by_jo, now)).await.unwrap();
    assert_eq!(
        rec.handoff_summary.as_deref(),
        Some("Declined 3 times with code 05.")
    );
    let text = s.messages(d.id).await.unwrap().pop().unwrap().body;
    assert!(
        text.contains("your card issuer. Only they can lift a block on your card."),
        "{text}"
    );
    assert!(text.contains("the number on the back of the card"));
    assert!(
        !text.contains("code 05"),
        "the handoff summary stays inside"
    );
}

async fn an_ended_ticket_takes_no_cant_help(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let a = new("Return opened coffee", &[]).await;
    s.cant_help(cant(
        a.id,
        explained(Some("We can send a voucher for your next order.")),
        by_jo,
        now,
    ))
    .await
    .unwrap();
    // A ticket that has ended takes no can't-help.
    assert!(matches!(
        s.cant_help(cant(a.id, explained(Some("x")), by_jo, now))
            .await,
        Err(StoreError::Ladder(LadderError::NotActive(_)))
    ));
}

async fn the_third_transfer_without_an_answer_flags_the_ticket_once(db: &TestDb) {
    let s = &db.store;
    let Team {
        jo,
        eve,
        ada,
        by_jo,
        now,
        ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // Transfers: the customer is told each time; the third in a row without an answer
    // flags the ticket for managers, once.
    let e = new("Invoice address wrong", &[]).await;
    for (n, to) in [(1, eve.id), (2, jo.id)] {
        let moved = s.transfer(transfer_to(e.id, to, by_jo, now)).await.unwrap();
        assert_eq!(moved.assignee_id, Some(to));
        assert!(!moved.ping_pong, "after {n} transfers");
    }
    let third = s
        .transfer(transfer_to(e.id, eve.id, by_jo, now))
        .await
        .unwrap();
    assert!(third.ping_pong);
    let ping = TicketFilter {
        flag: Some(TicketFlag::PingPong),
        ..all(10)
    };
    assert_eq!(
        s.list_tickets(&ping)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        [e.id]
    );
    let names = event_names(&s.events(e.id).await.unwrap());
    assert_eq!(names.iter().filter(|n| **n == "transferred").count(), 3);
    assert_eq!(
        names.iter().filter(|n| **n == "ping_pong_flagged").count(),
        1
    );
    let lines = s.messages(e.id).await.unwrap();
    assert_eq!(
        lines
            .iter()
            .filter(|m| m.body.contains("billing specialist"))
            .count(),
        3
    );
}

async fn a_real_answer_ends_a_run_of_transfers(db: &TestDb) {
    let s = &db.store;
    let Team {
        jo,
        eve,
        ada,
        by_jo,
        now,
        ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let e = new("Invoice address wrong", &[]).await;
    for to in [eve.id, jo.id, eve.id] {
        s.transfer(transfer_to(e.id, to, by_jo, now)).await.unwrap();
    }
    // A real answer ends the run; the next transfer starts counting again.
    s.add_message(message(
        e.id,
        MessageKind::Reply,
        Actor::Agent(eve.id),
        "Fixed the address.",
        now,
    ))
    .await
    .unwrap();
    s.transfer(transfer_to(e.id, jo.id, by_jo, now))
        .await
        .unwrap();
    let names = event_names(&s.events(e.id).await.unwrap());
    assert_eq!(
        names.iter().filter(|n| **n == "ping_pong_flagged").count(),
        1
    );
}

async fn a_transfer_to_an_unknown_agent_or_rung_is_refused(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let e = new("Invoice address wrong", &[]).await;
    let mut nowhere = transfer_to(e.id, AgentId(9999), by_jo, now);
    assert!(matches!(
        s.transfer(nowhere.clone()).await,
        Err(StoreError::NotFound("assignee"))
    ));
    nowhere.to_agent = None;
    nowhere.to_rung = Some("attic".into());
    assert!(matches!(
        s.transfer(nowhere).await,
        Err(StoreError::Ladder(LadderError::UnknownRung(_)))
    ));
}

async fn listed_alternatives_are_saved_and_listed(db: &TestDb) {
    let s = &db.store;
    let Team { now, .. } = team(s).await;
    // Referrals: from the top rung only, to a listed alternative, closing as referred.
    let alt = |name: &str, serves: &[&str], contact: &str| NewAlternative {
        name: name.into(),
        serves: tags(serves),
        contact: contact.into(),
        notes: String::new(),
        active: true,
    };
    let fixit = s
        .save_alternative(
            None,
            alt("FixIt Repairs", &["repairs"], "https://fixit.example"),
            now,
        )
        .await
        .unwrap();
    let grocer = s
        .save_alternative(None, alt("Fresh Grocer", &["refunds"], "0800 123 456"), now)
        .await
        .unwrap();
    assert_eq!(s.alternatives().await.unwrap().len(), 2);
    let _ = (fixit, grocer);
}

async fn a_referral_below_the_top_rung_is_refused(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_mia, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // Referrals: from the top rung only, to a listed alternative, closing as referred.
    let alt = |name: &str, serves: &[&str], contact: &str| NewAlternative {
        name: name.into(),
        serves: tags(serves),
        contact: contact.into(),
        notes: String::new(),
        active: true,
    };
    let fixit = s
        .save_alternative(
            None,
            alt("FixIt Repairs", &["repairs"], "https://fixit.example"),
            now,
        )
        .await
        .unwrap();
    let grocer = s
        .save_alternative(None, alt("Fresh Grocer", &["refunds"], "0800 123 456"), now)
        .await
        .unwrap();
    let _ = grocer;
    let f = new("Kettle needs repair", &["repairs"]).await;
    let refer = |ticket, alternative_id| ReferralRequest {
        ticket_id: ticket,
        alternative_id,
        reason: "We sell kettles but we do not repair them.".into(),
        message: None,
        agent_name: Some("Mia".into()),
        channel: Channel::Console,
        actor: by_mia,
        now,
    };
    assert!(matches!(
        s.refer(refer(f.id, fixit.id)).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn a_referral_to_an_unknown_or_inactive_alternative_is_refused(db: &TestDb) {
    let s = &db.store;
    let Team {
        eve,
        ada,
        by_jo,
        by_mia,
        now,
        ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // Referrals: from the top rung only, to a listed alternative, closing as referred.
    let alt = |name: &str, serves: &[&str], contact: &str| NewAlternative {
        name: name.into(),
        serves: tags(serves),
        contact: contact.into(),
        notes: String::new(),
        active: true,
    };
    let fixit = s
        .save_alternative(
            None,
            alt("FixIt Repairs", &["repairs"], "https://fixit.example"),
            now,
        )
        .await
        .unwrap();
    let grocer = s
        .save_alternative(None, alt("Fresh Grocer", &["refunds"], "0800 123 456"), now)
        .await
        .unwrap();
    let _ = (fixit, grocer);
    let f = new("Kettle needs repair", &["repairs"]).await;
    let refer = |ticket, alternative_id| ReferralRequest {
        ticket_id: ticket,
        alternative_id,
        reason: "We sell kettles but we do not repair them.".into(),
        message: None,
        agent_name: Some("Mia".into()),
        channel: Channel::Console,
        actor: by_mia,
        now,
    };
    s.escalate(escalation(
        f.id,
        EscalationReason::CustomerRequest,
        by_jo,
        now,
    ))
    .await
    .unwrap();
    s.escalate(escalation(
        f.id,
        EscalationReason::CustomerRequest,
        Actor::Agent(eve.id),
        now,
    ))
    .await
    .unwrap();
    assert!(matches!(
        s.refer(refer(f.id, 9999)).await,
        Err(StoreError::NotFound("alternative"))
    ));
    let mut closed_alt = alt("Gone Ltd", &["repairs"], "x");
    closed_alt.active = false;
    let gone = s.save_alternative(None, closed_alt, now).await.unwrap();
    assert!(matches!(
        s.refer(refer(f.id, gone.id)).await,
        Err(StoreError::NotFound("alternative"))
    ));
}

async fn a_referral_from_the_top_rung_closes_as_referred_and_tells_the_customer_where_to_go(
    db: &TestDb,
) {
    let s = &db.store;
    let Team {
        eve,
        ada,
        by_jo,
        by_mia,
        now,
        ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // Referrals: from the top rung only, to a listed alternative, closing as referred.
    let alt = |name: &str, serves: &[&str], contact: &str| NewAlternative {
        name: name.into(),
        serves: tags(serves),
        contact: contact.into(),
        notes: String::new(),
        active: true,
    };
    let fixit = s
        .save_alternative(
            None,
            alt("FixIt Repairs", &["repairs"], "https://fixit.example"),
            now,
        )
        .await
        .unwrap();
    let grocer = s
        .save_alternative(None, alt("Fresh Grocer", &["refunds"], "0800 123 456"), now)
        .await
        .unwrap();
    let _ = grocer;
    let f = new("Kettle needs repair", &["repairs"]).await;
    let refer = |ticket, alternative_id| ReferralRequest {
        ticket_id: ticket,
        alternative_id,
        reason: "We sell kettles but we do not repair them.".into(),
        message: None,
        agent_name: Some("Mia".into()),
        channel: Channel::Console,
        actor: by_mia,
        now,
    };
    s.escalate(escalation(
        f.id,
        EscalationReason::CustomerRequest,
        by_jo,
        now,
    ))
    .await
    .unwrap();
    s.escalate(escalation(
        f.id,
        EscalationReason::CustomerRequest,
        Actor::Agent(eve.id),
        now,
    ))
    .await
    .unwrap();
    let referred = s.refer(refer(f.id, fixit.id)).await.unwrap();
    assert_eq!(
        (referred.status, referred.outcome),
        (Status::Closed, Some(Outcome::Referred))
    );
    let told = s.messages(f.id).await.unwrap().pop().unwrap().body;
    assert!(
        told.contains("FixIt Repairs") && told.contains("https://fixit.example"),
        "{told}"
    );
    assert!(
        told.contains("We sell kettles but we do not repair them."),
        "{told}"
    );
}

async fn abusive_words_are_masked_and_revealing_them_is_recorded(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // Agent protection: abusive words are masked; revealing is recorded.
    let g = new("Refund NOW", &[]).await;
    let mut rude = message(
        g.id,
        MessageKind::Inbound,
        Actor::Customer(ada.id),
        "You are all useless idiots.",
        now,
    );
    rude.demeanor = Some(Demeanor::Abusive);
    let (m, g2) = s.add_message(rude).await.unwrap();
    assert!(m.masked);
    assert_eq!(g2.rung, "manager", "abuse moves the case to the top rung");
    assert!(
        s.messages(g.id)
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == m.id && x.masked)
    );
    let shown = s.reveal_message(m.id, by_jo, now).await.unwrap();
    assert_eq!(shown.body, "You are all useless idiots.");
    assert!(event_names(&s.events(g.id).await.unwrap()).contains(&"message_revealed"));
}

async fn an_agent_marking_a_message_abusive_masks_it_and_a_correction_unmasks_it(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let g = new("Refund NOW", &[]).await;
    let mut rude = message(
        g.id,
        MessageKind::Inbound,
        Actor::Customer(ada.id),
        "You are all useless idiots.",
        now,
    );
    rude.demeanor = Some(Demeanor::Abusive);
    s.add_message(rude).await.unwrap();
    // An agent marking a message abusive masks it too; a correction unmasks it.
    let first = s.messages(g.id).await.unwrap()[0].id;
    s.set_demeanor(first, Demeanor::Abusive, by_jo, now)
        .await
        .unwrap();
    assert!(s.messages(g.id).await.unwrap()[0].masked);
    s.set_demeanor(first, Demeanor::Angry, by_jo, now)
        .await
        .unwrap();
    assert!(!s.messages(g.id).await.unwrap()[0].masked);
    assert_eq!(s.abuse_count(ada.id).await.unwrap(), 1);
}

async fn only_the_holder_can_hand_a_ticket_off_and_needs_no_reason(db: &TestDb) {
    let s = &db.store;
    let Team {
        jo, eve, ada, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // Hand-off: the holder passes it on with no reason; nobody else can.
    let h = new("Rude again", &[]).await;
    let holder = h.assignee_id.unwrap();
    let other = if holder == jo.id { eve.id } else { jo.id };
    assert!(matches!(
        s.hand_off(h.id, other, now).await,
        Err(StoreError::Conflict(_))
    ));
    let passed = s.hand_off(h.id, holder, now).await.unwrap();
    assert_ne!(passed.assignee_id, Some(holder));
    assert!(event_names(&s.events(h.id).await.unwrap()).contains(&"handed_off"));
}

async fn a_supervised_customers_new_tickets_start_with_a_manager(db: &TestDb) {
    let s = &db.store;
    let Team {
        mia,
        ada,
        by_mia,
        now,
        ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    // Supervision: new tickets start with a manager; the customer still gets through.
    let sup = s.set_supervised(ada.id, true, by_mia, now).await.unwrap();
    assert!(sup.supervised);
    let i = new("Another question", &[]).await;
    assert_eq!((i.rung.as_str(), i.assignee_id), ("manager", Some(mia.id)));
    s.set_supervised(ada.id, false, by_mia, now).await.unwrap();
    assert_eq!(new("And another", &[]).await.rung, "frontline");
}

async fn an_ended_ticket_gets_one_survey_and_an_active_one_none(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let a = new("Return opened coffee", &[]).await;
    s.cant_help(cant(
        a.id,
        explained(Some("We can send a voucher for your next order.")),
        by_jo,
        now,
    ))
    .await
    .unwrap();
    let e = new("Invoice address wrong", &[]).await;
    // Surveys: one per ended ticket, answered by token, editable for a week.
    assert!(
        s.open_survey(a.id, "hash-a", "How did we do? https://desk/survey/x", now)
            .await
            .unwrap()
    );
    assert!(
        !s.open_survey(a.id, "hash-a2", "again", now).await.unwrap(),
        "one survey per ticket"
    );
    assert!(
        !s.open_survey(e.id, "hash-e", "not ended", now)
            .await
            .unwrap()
    );
    let invite = s.messages(a.id).await.unwrap().pop().unwrap();
    assert_eq!(
        (invite.kind, invite.author),
        (MessageKind::Reply, Actor::System)
    );
}

async fn a_survey_is_found_by_its_token(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let a = new("Return opened coffee", &[]).await;
    s.cant_help(cant(
        a.id,
        explained(Some("We can send a voucher for your next order.")),
        by_jo,
        now,
    ))
    .await
    .unwrap();
    s.open_survey(a.id, "hash-a", "How did we do? https://desk/survey/x", now)
        .await
        .unwrap();
    let survey = s.survey_by_token("hash-a").await.unwrap().unwrap();
    assert_eq!((survey.ticket_id, survey.answered_at), (a.id, None));
    assert!(s.survey_by_token("nope").await.unwrap().is_none());
}

async fn a_survey_answer_can_be_changed_for_a_week_and_no_later(db: &TestDb) {
    let s = &db.store;
    let Team {
        ada, by_jo, now, ..
    } = team(s).await;
    let new = |subject: &str, tags: &[&str]| {
        let s = s.clone();
        let n = new_ticket(ada.id, subject, "Please help.", tags, now);
        async move { s.create_ticket(n).await.unwrap() }
    };

    let a = new("Return opened coffee", &[]).await;
    s.cant_help(cant(
        a.id,
        explained(Some("We can send a voucher for your next order.")),
        by_jo,
        now,
    ))
    .await
    .unwrap();
    s.open_survey(a.id, "hash-a", "How did we do? https://desk/survey/x", now)
        .await
        .unwrap();
    let answer = SurveyAnswer::parse(2, 5, 4, 8).unwrap();
    let done = s
        .answer_survey("hash-a", answer, Some("Nice people.".into()), now)
        .await
        .unwrap();
    assert_eq!((done.answer, done.answered_at), (Some(answer), Some(now)));
    let changed = SurveyAnswer::parse(3, 5, 4, 9).unwrap();
    let later = Millis(now.0 + 6 * 24 * 3_600_000);
    assert_eq!(
        s.answer_survey("hash-a", changed, None, later)
            .await
            .unwrap()
            .answered_at,
        Some(now)
    );
    let too_late = Millis(now.0 + 8 * 24 * 3_600_000);
    assert!(matches!(
        s.answer_survey("hash-a", answer, None, too_late).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(event_names(&s.events(a.id).await.unwrap()).contains(&"survey_answered"));
}
