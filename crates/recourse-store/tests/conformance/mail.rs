//! Email: received mail, Message-IDs, quarantine, the outbox.

use crate::usecases::UseCases;
use recourse_domain::Ticket;
use recourse_domain::{Actor, MessageKind, Millis, TicketId};
use recourse_store::StoreError;
use recourse_store::{InboundOutcome, MailState, NewAttachment, NewInboundMail, OutboundResult};

use crate::harness::*;

on_both! {
    a_mailbox_is_saved_re_pointed_and_listed,
    raw_mail_comes_back_byte_for_byte_and_one_worker_claims_it,
    an_inbound_claim_whose_worker_died_falls_due_after_the_lease,
    a_message_id_is_taken_by_the_first_message_and_its_owner_may_claim_it_again,
    handled_mail_is_threaded_to_its_ticket_with_its_team_and_attachments,
    quarantined_mail_is_listed_with_its_reason_and_handed_back,
    a_reply_queues_mail_a_note_does_not_and_one_worker_claims_it,
    failed_outbound_mail_is_retried_after_a_backoff_and_then_sent,
    our_message_id_threads_the_customers_answer,
    a_bounce_marks_the_address_and_automatic_mail_to_it_is_flagged_and_suppressed,
}

fn inbound(raw: &str, now: Millis) -> NewInboundMail {
    NewInboundMail {
        source: "smtp".into(),
        envelope_from: Some("ada@acme.example".into()),
        envelope_to: vec!["help@desk.example".into()],
        raw: raw.as_bytes().to_vec(),
        sha256: format!("sha-{}", raw.len()),
        now,
    }
}

fn outcome(id: i64, state: MailState, now: Millis) -> InboundOutcome {
    InboundOutcome {
        id,
        state,
        message_id: None,
        from_address: None,
        subject: None,
        body_text: None,
        ticket_id: None,
        message_ref: None,
        reason: None,
        attachments: Vec::new(),
        bouncing: Vec::new(),
        team_id: None,
        now,
    }
}

pub async fn fill_mail(s: &S, ticket: TicketId, team: recourse_domain::TeamId) {
    s.save_mailbox(&email("help@desk.example"), Some(team), t(80))
        .await
        .unwrap();
    let id = s
        .store_inbound_mail(inbound("Subject: hi\r\n\r\nbinary \u{e9}", t(81)))
        .await
        .unwrap();
    assert!(
        s.claim_inbound_mail(id, t(81), 1000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.claim_message_id("m1@acme.example", id, t(81))
            .await
            .unwrap()
    );
    let mut done = outcome(id, MailState::Threaded, t(82));
    done.message_id = Some("m1@acme.example".into());
    done.ticket_id = Some(ticket);
    done.attachments = vec![NewAttachment {
        filename: Some("photo.jpg".into()),
        content_type: "image/jpeg".into(),
        sha256: "abc".into(),
        content: vec![0xff, 0xd8, 0x00, 0x01],
    }];
    done.bouncing = vec![("gone@example.com".into(), "5.1.1".into())];
    s.finish_inbound_mail(done).await.unwrap();

    // The IMAP cursor moves with the message it stores, once per UID and UIDVALIDITY.
    let account = "help@imap.example:993/INBOX";
    let at = |uid| recourse_store::ImapCursor {
        uidvalidity: 7,
        last_uid: uid,
    };
    assert!(s.imap_cursor(account).await.unwrap().is_none());
    let first = s.store_imap_mail(inbound("Subject: by imap\r\n\r\nx", t(83)), account, at(4));
    assert!(first.await.unwrap().is_some());
    let again = s.store_imap_mail(inbound("Subject: by imap\r\n\r\nx", t(83)), account, at(4));
    assert!(
        again.await.unwrap().is_none(),
        "a UID already taken stores nothing"
    );
    assert_eq!(s.imap_cursor(account).await.unwrap(), Some(at(4)));
    s.reset_imap_cursor(account, 8, t(84)).await.unwrap();
    let reset = s.imap_cursor(account).await.unwrap().unwrap();
    assert_eq!((reset.uidvalidity, reset.last_uid), (8, 0));
}

/// Ada's ticket, opened by mail: the message (Message-ID `a@x`) handled and threaded to it,
/// with the Mail team and one attachment.
struct Threaded {
    tk: Ticket,
}

async fn threaded(s: &S) -> Threaded {
    let ada = customer(s, "ada@acme.example").await;
    let team = s.create_team("Mail").await.unwrap();
    let mut raw = inbound("x", t(2));
    raw.raw = vec![b'S', b':', 0xff, 0xfe, b'\r', b'\n'];
    let id = s.store_inbound_mail(raw.clone()).await.unwrap();
    s.claim_message_id("a@x", id, t(5)).await.unwrap();
    let tk = ticket(s, ada.id, "By mail", "Hello", t(6)).await;
    let mut done = outcome(id, MailState::Ticket, t(7));
    done.message_id = Some("a@x".into());
    done.ticket_id = Some(tk.id);
    done.team_id = Some(team.id);
    done.subject = Some("By mail".into());
    done.attachments = vec![NewAttachment {
        filename: None,
        content_type: "application/pdf".into(),
        sha256: "h".into(),
        content: vec![1, 2, 3],
    }];
    s.finish_inbound_mail(done).await.unwrap();
    Threaded { tk }
}

async fn a_mailbox_is_saved_re_pointed_and_listed(db: &TestDb) {
    let s = &db.store;
    let team = s.create_team("Mail").await.unwrap();
    // Mailboxes: saved, re-pointed, listed, removed.
    let mb = s
        .save_mailbox(&email("help@desk.example"), None, t(0))
        .await
        .unwrap();
    let again = s
        .save_mailbox(&email("help@desk.example"), Some(team.id), t(1))
        .await
        .unwrap();
    assert_eq!(mb.id, again.id);
    assert_eq!(s.mailboxes().await.unwrap()[0].team_id, Some(team.id));
}

async fn raw_mail_comes_back_byte_for_byte_and_one_worker_claims_it(db: &TestDb) {
    let s = &db.store;
    // A raw message (not valid UTF-8) comes back byte for byte; one worker claims it.
    let mut raw = inbound("x", t(2));
    raw.raw = vec![b'S', b':', 0xff, 0xfe, b'\r', b'\n'];
    let id = s.store_inbound_mail(raw.clone()).await.unwrap();
    assert_eq!(s.due_inbound_mail(t(3), 10).await.unwrap(), vec![id]);
    let claimed = s
        .claim_inbound_mail(id, t(3), 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.raw, raw.raw);
    assert_eq!(claimed.envelope_to, vec!["help@desk.example".to_owned()]);
    assert!(
        s.claim_inbound_mail(id, t(4), 10_000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.due_inbound_mail(t(4), 10).await.unwrap().is_empty());
}

async fn an_inbound_claim_whose_worker_died_falls_due_after_the_lease(db: &TestDb) {
    let s = &db.store;
    let mut raw = inbound("x", t(2));
    raw.raw = vec![b'S', b':', 0xff, 0xfe, b'\r', b'\n'];
    let id = s.store_inbound_mail(raw.clone()).await.unwrap();
    s.claim_inbound_mail(id, t(3), 10_000)
        .await
        .unwrap()
        .unwrap();
    // The lease runs out (the worker died): it is due again.
    assert_eq!(s.due_inbound_mail(t(14), 10).await.unwrap(), vec![id]);
    assert!(
        s.claim_inbound_mail(id, t(14), 10_000)
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_message_id_is_taken_by_the_first_message_and_its_owner_may_claim_it_again(db: &TestDb) {
    let s = &db.store;
    let mut raw = inbound("x", t(2));
    raw.raw = vec![b'S', b':', 0xff, 0xfe, b'\r', b'\n'];
    let id = s.store_inbound_mail(raw.clone()).await.unwrap();
    // Message-IDs: the first message takes one, a second delivery cannot; the owner
    // may claim it again (a retry after a crash).
    assert!(s.claim_message_id("a@x", id, t(5)).await.unwrap());
    assert!(s.claim_message_id("a@x", id, t(5)).await.unwrap());
    let other = s.store_inbound_mail(inbound("y", t(5))).await.unwrap();
    assert!(!s.claim_message_id("a@x", other, t(5)).await.unwrap());
}

async fn handled_mail_is_threaded_to_its_ticket_with_its_team_and_attachments(db: &TestDb) {
    let s = &db.store;
    let ada = customer(s, "ada@acme.example").await;
    let team = s.create_team("Mail").await.unwrap();
    let mut raw = inbound("x", t(2));
    raw.raw = vec![b'S', b':', 0xff, 0xfe, b'\r', b'\n'];
    let id = s.store_inbound_mail(raw.clone()).await.unwrap();
    s.claim_message_id("a@x", id, t(5)).await.unwrap();
    let other = s.store_inbound_mail(inbound("y", t(5))).await.unwrap();
    // Handled: threaded to a ticket; the ID now finds the ticket, the team is set.
    let tk = ticket(s, ada.id, "By mail", "Hello", t(6)).await;
    let mut done = outcome(id, MailState::Ticket, t(7));
    done.message_id = Some("a@x".into());
    done.ticket_id = Some(tk.id);
    done.team_id = Some(team.id);
    done.subject = Some("By mail".into());
    done.attachments = vec![NewAttachment {
        filename: None,
        content_type: "application/pdf".into(),
        sha256: "h".into(),
        content: vec![1, 2, 3],
    }];
    s.finish_inbound_mail(done).await.unwrap();
    assert_eq!(
        s.thread_of(&["zzz".into(), "a@x".into()]).await.unwrap(),
        Some(tk.id)
    );
    assert_eq!(s.thread_of(&["zzz".into()]).await.unwrap(), None);
    assert_eq!(
        s.ticket_by_number(tk.number).await.unwrap().unwrap().id,
        tk.id
    );
    let files = s.attachments(tk.id).await.unwrap();
    assert_eq!(
        (files[0].size, files[0].content_type.as_str()),
        (3, "application/pdf")
    );
    assert!(s.due_inbound_mail(t(2000), 10).await.unwrap() == vec![other]);
}

async fn quarantined_mail_is_listed_with_its_reason_and_handed_back(db: &TestDb) {
    let s = &db.store;
    let other = s.store_inbound_mail(inbound("y", t(5))).await.unwrap();
    // Quarantine: listed with its reason, handed back, due again.
    let mut q = outcome(other, MailState::Quarantined, t(8));
    q.reason = Some("the message cannot be read".into());
    s.finish_inbound_mail(q).await.unwrap();
    let listed = s
        .inbound_mail(Some(MailState::Quarantined), None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].reason.as_deref(),
        Some("the message cannot be read")
    );
    assert_eq!(s.inbound_mail_raw(other).await.unwrap(), b"y");
    s.requeue_inbound_mail(other).await.unwrap();
    assert!(matches!(
        s.requeue_inbound_mail(other).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.due_inbound_mail(t(9), 10).await.unwrap(), vec![other]);
}

async fn a_reply_queues_mail_a_note_does_not_and_one_worker_claims_it(db: &TestDb) {
    let s = &db.store;
    let Threaded { tk, .. } = threaded(s).await;
    // The outbox: a reply queues mail in its own transaction; an agent's is not automatic.
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    s.add_message(message(
        tk.id,
        MessageKind::Reply,
        Actor::Agent(grace.id),
        "On its way.",
        t(10),
    ))
    .await
    .unwrap();
    s.add_message(message(
        tk.id,
        MessageKind::Note,
        Actor::Agent(grace.id),
        "internal",
        t(10),
    ))
    .await
    .unwrap();
    let queued = s.outbound_mail(tk.id).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert!(!queued[0].automatic);
    let claimed = s.claim_outbound_mail(t(11), 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let m = &claimed[0];
    assert_eq!(
        (m.to_address.as_str(), m.attempt, m.ticket_number),
        ("ada@acme.example", 1, tk.number)
    );
    assert_eq!(m.body, "On its way.");
    assert_eq!(m.last_inbound.as_deref(), Some("a@x"));
    assert!(
        s.claim_outbound_mail(t(12), 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn failed_outbound_mail_is_retried_after_a_backoff_and_then_sent(db: &TestDb) {
    let s = &db.store;
    let Threaded { tk, .. } = threaded(s).await;
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    s.add_message(message(
        tk.id,
        MessageKind::Reply,
        Actor::Agent(grace.id),
        "On its way.",
        t(10),
    ))
    .await
    .unwrap();
    s.add_message(message(
        tk.id,
        MessageKind::Note,
        Actor::Agent(grace.id),
        "internal",
        t(10),
    ))
    .await
    .unwrap();
    let claimed = s.claim_outbound_mail(t(11), 60_000, 10).await.unwrap();
    let m = &claimed[0];
    // Fails: retried after a backoff, not before.
    s.finish_outbound_mail(m.id, OutboundResult::Failed("relay down".into()), t(13))
        .await
        .unwrap();
    assert!(
        s.claim_outbound_mail(t(14), 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = s.claim_outbound_mail(t(24), 60_000, 10).await.unwrap();
    assert_eq!(retry[0].attempt, 2);
    s.finish_outbound_mail(m.id, OutboundResult::Sent("ours@desk".into()), t(20_000))
        .await
        .unwrap();
    let sent = &s.outbound_mail(tk.id).await.unwrap()[0];
    assert_eq!(
        (sent.state.as_str(), sent.message_id.as_deref()),
        ("sent", Some("ours@desk"))
    );
}

async fn our_message_id_threads_the_customers_answer(db: &TestDb) {
    let s = &db.store;
    let Threaded { tk, .. } = threaded(s).await;
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    s.add_message(message(
        tk.id,
        MessageKind::Reply,
        Actor::Agent(grace.id),
        "On its way.",
        t(10),
    ))
    .await
    .unwrap();
    s.add_message(message(
        tk.id,
        MessageKind::Note,
        Actor::Agent(grace.id),
        "internal",
        t(10),
    ))
    .await
    .unwrap();
    let claimed = s.claim_outbound_mail(t(11), 60_000, 10).await.unwrap();
    let m = &claimed[0];
    s.finish_outbound_mail(m.id, OutboundResult::Failed("relay down".into()), t(13))
        .await
        .unwrap();
    s.claim_outbound_mail(t(24), 60_000, 10).await.unwrap();
    s.finish_outbound_mail(m.id, OutboundResult::Sent("ours@desk".into()), t(20_000))
        .await
        .unwrap();
    // Our Message-ID now threads the customer's answer.
    assert_eq!(
        s.thread_of(&["ours@desk".into()]).await.unwrap(),
        Some(tk.id)
    );
}

async fn a_bounce_marks_the_address_and_automatic_mail_to_it_is_flagged_and_suppressed(
    db: &TestDb,
) {
    let s = &db.store;
    let Threaded { tk, .. } = threaded(s).await;
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    s.add_message(message(
        tk.id,
        MessageKind::Reply,
        Actor::Agent(grace.id),
        "On its way.",
        t(10),
    ))
    .await
    .unwrap();
    s.add_message(message(
        tk.id,
        MessageKind::Note,
        Actor::Agent(grace.id),
        "internal",
        t(10),
    ))
    .await
    .unwrap();
    let claimed = s.claim_outbound_mail(t(11), 60_000, 10).await.unwrap();
    let m = &claimed[0];
    s.finish_outbound_mail(m.id, OutboundResult::Failed("relay down".into()), t(13))
        .await
        .unwrap();
    s.claim_outbound_mail(t(24), 60_000, 10).await.unwrap();
    s.finish_outbound_mail(m.id, OutboundResult::Sent("ours@desk".into()), t(20_000))
        .await
        .unwrap();
    // Bounces mark the address; automatic mail (the desk's own) is flagged as such.
    let bounce = s
        .store_inbound_mail(inbound("bounce", t(21_000)))
        .await
        .unwrap();
    let mut b = outcome(bounce, MailState::Bounce, t(21_000));
    b.bouncing = vec![("ADA@acme.example".into(), "5.1.1 no such user".into())];
    s.finish_inbound_mail(b).await.unwrap();
    assert_eq!(
        s.bouncing_since("ada@acme.example").await.unwrap(),
        Some(t(21_000))
    );
    s.add_message(message(
        tk.id,
        MessageKind::Reply,
        Actor::System,
        "Automatic.",
        t(22_000),
    ))
    .await
    .unwrap();
    let auto = s.claim_outbound_mail(t(22_000), 60_000, 10).await.unwrap();
    assert!(auto[0].automatic && auto[0].bouncing);
    s.finish_outbound_mail(
        auto[0].id,
        OutboundResult::Suppressed("bounces".into()),
        t(22_001),
    )
    .await
    .unwrap();
    assert_eq!(s.outbound_mail(tk.id).await.unwrap()[1].state, "suppressed");
}
