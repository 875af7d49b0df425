//! Tickets and customers as rows: create, read, reply, edit, resolve and reopen.

use crate::usecases::UseCases;
use recourse_domain::{
    Actor, Channel, Customer, CustomerId, EventKind, InterventionKind, InterventionResult,
    MessageKind, Need, Outcome, PersonName, Priority, Status, TicketId,
};
use recourse_domain::{Agent, Ticket};
use recourse_store::{NewIntervention, StoreError, TicketChange, TicketFilter, TicketFor};

use crate::harness::*;

on_both! {
    customers_are_found_by_email_and_a_later_name_fills_a_missing_one_never_overwrites,
    a_new_ticket_is_new_numbered_from_1001_on_the_first_rung_with_clean_fields,
    ticket_numbers_and_ids_grow_with_each_ticket,
    a_ticket_for_a_known_address_keeps_the_customer_and_their_name,
    a_ticket_for_a_new_address_adds_the_customer_with_the_given_name,
    an_agents_reply_opens_a_new_ticket,
    a_note_changes_no_status,
    a_reply_can_set_a_status_and_the_customer_writing_back_reopens_the_ticket,
    an_intervention_is_kept_with_its_ticket_and_touches_it,
    messages_come_back_in_order_with_the_opening_one_first,
    every_step_of_a_conversation_is_one_event_in_order,
    an_edit_records_one_event_per_changed_field_in_a_fixed_order,
    the_tag_index_follows_an_edit,
    the_same_edit_again_changes_nothing_and_records_nothing,
    clearing_unassigns_and_forgets_the_need,
    resolving_sets_the_outcome_and_the_customer_writing_again_reopens_and_clears_it,
}

/// Ada (named), Bob and Grace, the one agent present.
struct People {
    ada: Customer,
    other: Customer,
    grace: Agent,
}

async fn people(s: &S) -> People {
    let ada = s
        .upsert_customer(&email("ada@example.com"), Some("Ada Lovelace"), t(0))
        .await
        .unwrap();
    let other = s
        .upsert_customer(&email("bob@example.com"), Some("Bob"), t(3))
        .await
        .unwrap();
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;
    People { ada, other, grace }
}

/// Ada's kettle ticket and Bob's second one; on the kettle, Grace's reply, her note, her
/// reply asking the customer (pending) and Ada's answer.
struct Conversation {
    grace: Agent,
    second: Ticket,
    id: TicketId,
    customer: Actor,
    by_grace: Actor,
    reply: recourse_domain::Message,
    after_reply: Ticket,
    note: recourse_domain::Message,
    after_note: Ticket,
    ask: recourse_domain::Message,
    after_ask: Ticket,
    answer: recourse_domain::Message,
    after_answer: Ticket,
}

async fn conversation(s: &S) -> Conversation {
    let People { ada, other, grace } = people(s).await;
    let created = kettle(s, &ada).await;
    let second = ticket(s, other.id, "Second ticket", "Hello", t(11)).await;
    let id = created.id;
    let customer = Actor::Customer(ada.id);
    let by_grace = Actor::Agent(grace.id);
    let (reply, after_reply) = s
        .add_message(message(
            id,
            MessageKind::Reply,
            by_grace,
            "Sorry! A new one is on its way.",
            t(20),
        ))
        .await
        .unwrap();
    let (note, after_note) = s
        .add_message(message(
            id,
            MessageKind::Note,
            by_grace,
            "Courier damaged two this week.",
            t(30),
        ))
        .await
        .unwrap();
    let mut waiting = message(id, MessageKind::Reply, by_grace, "Did it arrive?", t(40));
    waiting.status = Some(Status::PendingCustomer);
    let (ask, after_ask) = s.add_message(waiting).await.unwrap();
    let (answer, after_answer) = s
        .add_message(message(
            id,
            MessageKind::Inbound,
            customer,
            "Not yet.",
            t(50),
        ))
        .await
        .unwrap();
    Conversation {
        grace,
        second,
        id,
        customer,
        by_grace,
        reply,
        after_reply,
        note,
        after_note,
        ask,
        after_ask,
        answer,
        after_answer,
    }
}

async fn customers_are_found_by_email_and_a_later_name_fills_a_missing_one_never_overwrites(
    db: &TestDb,
) {
    let s = &db.store;
    s.ping().await.unwrap();

    // Customers are found by email; a later name fills a missing one, never overwrites.
    let first = s
        .upsert_customer(&email("Ada@Example.COM"), None, t(0))
        .await
        .unwrap();
    assert_eq!(first.email.as_str(), "ada@example.com");
    assert_eq!(first.name, None);
    let again = s
        .upsert_customer(&email("ada@example.com"), None, t(1))
        .await
        .unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.name, None);
    let named = s
        .upsert_customer(&email("ada@example.com"), Some("Ada Lovelace"), t(2))
        .await
        .unwrap();
    assert_eq!(named.id, first.id);
    assert_eq!(named.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(named.created_at, t(0), "upsert must not move created_at");
    let renamed = s
        .upsert_customer(&email("ada@example.com"), Some("Somebody Else"), t(3))
        .await
        .unwrap();
    assert_eq!(renamed.id, first.id);
    assert_eq!(renamed.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(s.get_customer(first.id).await.unwrap(), renamed);
    assert_eq!(
        s.customer_by_email(&email("ADA@example.com"))
            .await
            .unwrap(),
        Some(renamed.clone())
    );
    assert_eq!(
        s.customer_by_email(&email("nobody@example.com"))
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        s.get_customer(CustomerId(first.id.0 + 1000)).await,
        Err(StoreError::NotFound("customer"))
    ));
    let other = s
        .upsert_customer(&email("bob@example.com"), Some("Bob"), t(3))
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(other.name.as_deref(), Some("Bob"));
}

async fn a_new_ticket_is_new_numbered_from_1001_on_the_first_rung_with_clean_fields(db: &TestDb) {
    let s = &db.store;
    let People { ada, .. } = people(s).await;
    let created = kettle(s, &ada).await;
    assert_eq!(created.status, Status::New);
    assert!(
        created.number >= 1001,
        "ticket numbers start at 1001, got {}",
        created.number
    );
    assert_eq!(created.rung, "frontline");
    assert_eq!(created.subject, "Kettle arrived broken");
    assert_eq!(
        created.tags,
        vec!["billing".to_owned(), "late-delivery".to_owned()]
    );
    assert_eq!(created.need.as_deref(), Some("a kettle that pours"));
    assert_eq!(created.priority, Priority::Normal);
    assert_eq!(created.customer_id, ada.id);
    assert_eq!((created.created_at, created.updated_at), (t(10), t(10)));
    assert_eq!(s.get_ticket(created.id).await.unwrap(), created);
    assert!(matches!(
        s.get_ticket(TicketId(created.id.0 + 1000)).await,
        Err(StoreError::NotFound("ticket"))
    ));
}

async fn ticket_numbers_and_ids_grow_with_each_ticket(db: &TestDb) {
    let s = &db.store;
    let People { ada, other, .. } = people(s).await;
    let created = kettle(s, &ada).await;
    let second = ticket(s, other.id, "Second ticket", "Hello", t(11)).await;
    assert!(second.number > created.number && second.id.0 > created.id.0);
}

async fn a_ticket_for_a_known_address_keeps_the_customer_and_their_name(db: &TestDb) {
    let s = &db.store;
    let People { ada, .. } = people(s).await;
    let by_address = |address: &str, name: Option<&str>| {
        let mut new = new_ticket(ada.id, "By address", "Hello", &[], t(12));
        new.customer = TicketFor::Address {
            email: email(address),
            name: name.map(|n| PersonName::parse(n).unwrap()),
        };
        new
    };
    let known = s
        .create_ticket(by_address("ADA@example.com", Some("Not Ada")))
        .await
        .unwrap();
    assert_eq!(known.customer_id, ada.id);
    assert_eq!(s.get_customer(ada.id).await.unwrap(), ada);
}

async fn a_ticket_for_a_new_address_adds_the_customer_with_the_given_name(db: &TestDb) {
    let s = &db.store;
    let People { ada, .. } = people(s).await;
    let by_address = |address: &str, name: Option<&str>| {
        let mut new = new_ticket(ada.id, "By address", "Hello", &[], t(12));
        new.customer = TicketFor::Address {
            email: email(address),
            name: name.map(|n| PersonName::parse(n).unwrap()),
        };
        new
    };
    let fresh = s
        .create_ticket(by_address("carol@example.com", Some("Carol")))
        .await
        .unwrap();
    let carol = s
        .customer_by_email(&email("carol@example.com"))
        .await
        .unwrap()
        .expect("added with the ticket");
    assert_eq!(
        (fresh.customer_id, carol.name.as_deref(), carol.created_at),
        (carol.id, Some("Carol"), t(12))
    );
}

async fn an_agents_reply_opens_a_new_ticket(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        by_grace,
        reply,
        after_reply,
        ..
    } = conversation(s).await;
    assert_eq!(after_reply.status, Status::Open);
    assert_eq!(after_reply.updated_at, t(20));
    assert_eq!(reply.kind, MessageKind::Reply);
    assert_eq!(reply.author, by_grace);
}

async fn a_note_changes_no_status(db: &TestDb) {
    let s = &db.store;
    let Conversation { after_note, .. } = conversation(s).await;
    assert_eq!(after_note.status, Status::Open);
    assert_eq!(after_note.updated_at, t(30));
}

async fn a_reply_can_set_a_status_and_the_customer_writing_back_reopens_the_ticket(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        id,
        after_ask,
        after_answer,
        ..
    } = conversation(s).await;
    assert_eq!(after_ask.status, Status::PendingCustomer);
    assert_eq!(after_answer.status, Status::Open);
    assert_eq!(s.get_ticket(id).await.unwrap(), after_answer);
}

async fn an_intervention_is_kept_with_its_ticket_and_touches_it(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        grace, second, id, ..
    } = conversation(s).await;
    let intervention = s
        .add_intervention(NewIntervention {
            ticket_id: id,
            kind: InterventionKind::Replacement,
            description: body("Sent a replacement kettle by express."),
            result: InterventionResult::Accepted,
            agent_id: Some(grace.id),
            now: t(60),
        })
        .await
        .unwrap();
    assert_eq!(intervention.ticket_id, id);
    assert_eq!(intervention.kind, InterventionKind::Replacement);
    assert_eq!(
        intervention.description,
        "Sent a replacement kettle by express."
    );
    assert_eq!(
        s.interventions(id).await.unwrap(),
        vec![intervention.clone()]
    );
    assert!(s.interventions(second.id).await.unwrap().is_empty());
    assert_eq!(s.get_ticket(id).await.unwrap().updated_at, t(60));
}

async fn messages_come_back_in_order_with_the_opening_one_first(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        grace,
        second,
        id,
        customer,
        reply,
        note,
        ask,
        answer,
        ..
    } = conversation(s).await;
    let _intervention = s
        .add_intervention(NewIntervention {
            ticket_id: id,
            kind: InterventionKind::Replacement,
            description: body("Sent a replacement kettle by express."),
            result: InterventionResult::Accepted,
            agent_id: Some(grace.id),
            now: t(60),
        })
        .await
        .unwrap();
    let messages = s.messages(id).await.unwrap();
    assert_eq!(messages.len(), 5);
    let opening = &messages[0];
    assert_eq!(
        (opening.kind, opening.author, opening.channel),
        (MessageKind::Inbound, customer, Channel::Portal)
    );
    assert_eq!(opening.body, "The spout came off.\n\nPhotos attached.");
    assert_eq!(opening.created_at, t(10));
    assert_eq!(
        &messages[1..],
        &[reply.clone(), note.clone(), ask.clone(), answer.clone()]
    );
    assert!(messages.windows(2).all(|w| w[0].id.0 < w[1].id.0));
    assert_eq!(s.messages(second.id).await.unwrap().len(), 1);
}

/// (`messages` is read for the opening message's id.)
async fn every_step_of_a_conversation_is_one_event_in_order(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        grace,
        second,
        id,
        customer,
        by_grace,
        reply,
        note,
        ask,
        answer,
        ..
    } = conversation(s).await;
    let intervention = s
        .add_intervention(NewIntervention {
            ticket_id: id,
            kind: InterventionKind::Replacement,
            description: body("Sent a replacement kettle by express."),
            result: InterventionResult::Accepted,
            agent_id: Some(grace.id),
            now: t(60),
        })
        .await
        .unwrap();
    let messages = s.messages(id).await.unwrap();
    assert_eq!(messages.len(), 5);
    let opening = &messages[0];
    let events = s.events(id).await.unwrap();
    let expected = vec![
        (
            customer,
            t(10),
            EventKind::TicketCreated {
                subject: "Kettle arrived broken".into(),
                priority: Priority::Normal,
                rung: "frontline".into(),
            },
        ),
        (
            customer,
            t(10),
            EventKind::MessageAdded {
                message_id: opening.id,
                kind: MessageKind::Inbound,
            },
        ),
        (
            Actor::System,
            t(10),
            EventKind::AssigneeChanged {
                from: None,
                to: Some(grace.id),
            },
        ),
        (
            by_grace,
            t(20),
            EventKind::MessageAdded {
                message_id: reply.id,
                kind: MessageKind::Reply,
            },
        ),
        (
            by_grace,
            t(20),
            EventKind::StatusChanged {
                from: Status::New,
                to: Status::Open,
            },
        ),
        (
            by_grace,
            t(30),
            EventKind::MessageAdded {
                message_id: note.id,
                kind: MessageKind::Note,
            },
        ),
        (
            by_grace,
            t(40),
            EventKind::MessageAdded {
                message_id: ask.id,
                kind: MessageKind::Reply,
            },
        ),
        (
            by_grace,
            t(40),
            EventKind::StatusChanged {
                from: Status::Open,
                to: Status::PendingCustomer,
            },
        ),
        (
            customer,
            t(50),
            EventKind::MessageAdded {
                message_id: answer.id,
                kind: MessageKind::Inbound,
            },
        ),
        (
            customer,
            t(50),
            EventKind::StatusChanged {
                from: Status::PendingCustomer,
                to: Status::Open,
            },
        ),
        (
            by_grace,
            t(60),
            EventKind::InterventionRecorded {
                intervention_id: intervention.id,
                kind: InterventionKind::Replacement,
                result: InterventionResult::Accepted,
            },
        ),
    ];
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.actor, e.at, e.kind.clone()))
        .collect();
    assert_eq!(got, expected);
    assert!(events.iter().all(|e| e.ticket_id == Some(id)));
    assert!(events.windows(2).all(|w| w[0].id.0 < w[1].id.0));
    assert_eq!(
        event_names(&s.events(second.id).await.unwrap()),
        ["ticket_created", "message_added", "assignee_changed"]
    );
}

async fn an_edit_records_one_event_per_changed_field_in_a_fixed_order(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        grace,
        id,
        by_grace,
        ..
    } = conversation(s).await;
    let _intervention = s
        .add_intervention(NewIntervention {
            ticket_id: id,
            kind: InterventionKind::Replacement,
            description: body("Sent a replacement kettle by express."),
            result: InterventionResult::Accepted,
            agent_id: Some(grace.id),
            now: t(60),
        })
        .await
        .unwrap();
    let before = s.events(id).await.unwrap().len();
    // Editing: each field that really changes is one event, in a fixed order. Grace was
    // routed the ticket on arrival, so assigning her again records nothing.
    let edit = TicketChange {
        priority: Some(Priority::High),
        need: Some(Need::parse("a working kettle before Friday").unwrap()),
        tags: Some(tags(&["Refund", "billing"])),
        assignee: Some(Some(grace.id)),
        ..change()
    };
    let edited = s
        .update_ticket(id, edit.clone(), by_grace, t(70))
        .await
        .unwrap();
    assert_eq!(edited.priority, Priority::High);
    assert_eq!(
        edited.need.as_deref(),
        Some("a working kettle before Friday")
    );
    assert_eq!(edited.tags, vec!["refund".to_owned(), "billing".to_owned()]);
    assert_eq!(edited.assignee_id, Some(grace.id));
    assert_eq!(edited.updated_at, t(70));
    assert_eq!(edited.status, Status::Open);
    assert_eq!(s.get_ticket(id).await.unwrap(), edited);
    let events = s.events(id).await.unwrap();
    let new_events: Vec<_> = events[before..]
        .iter()
        .map(|e| (e.actor, e.at, e.kind.clone()))
        .collect();
    assert_eq!(
        new_events,
        vec![
            (
                by_grace,
                t(70),
                EventKind::PriorityChanged {
                    from: Priority::Normal,
                    to: Priority::High
                }
            ),
            (
                by_grace,
                t(70),
                EventKind::NeedChanged {
                    need: Some("a working kettle before Friday".into())
                }
            ),
            (
                by_grace,
                t(70),
                EventKind::TagsChanged {
                    added: vec!["refund".into()],
                    removed: vec!["late-delivery".into()]
                }
            ),
        ]
    );
}

async fn the_tag_index_follows_an_edit(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        grace,
        id,
        by_grace,
        ..
    } = conversation(s).await;
    let edit = TicketChange {
        priority: Some(Priority::High),
        need: Some(Need::parse("a working kettle before Friday").unwrap()),
        tags: Some(tags(&["Refund", "billing"])),
        assignee: Some(Some(grace.id)),
        ..change()
    };
    let edited = s
        .update_ticket(id, edit.clone(), by_grace, t(70))
        .await
        .unwrap();
    // The tag index follows the ticket.
    let tagged = |tag: &str| TicketFilter {
        tag: Some(tag.into()),
        ..all(10)
    };
    assert_eq!(
        s.list_tickets(&tagged("refund")).await.unwrap(),
        vec![edited.clone()]
    );
    assert!(
        s.list_tickets(&tagged("late-delivery"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_same_edit_again_changes_nothing_and_records_nothing(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        grace,
        id,
        by_grace,
        ..
    } = conversation(s).await;
    let edit = TicketChange {
        priority: Some(Priority::High),
        need: Some(Need::parse("a working kettle before Friday").unwrap()),
        tags: Some(tags(&["Refund", "billing"])),
        assignee: Some(Some(grace.id)),
        ..change()
    };
    let edited = s
        .update_ticket(id, edit.clone(), by_grace, t(70))
        .await
        .unwrap();
    let events = s.events(id).await.unwrap();
    // The same request again changes nothing and records nothing.
    let replayed = s.update_ticket(id, edit, by_grace, t(80)).await.unwrap();
    assert_eq!(replayed, edited);
    assert_eq!(s.get_ticket(id).await.unwrap(), edited);
    assert_eq!(s.events(id).await.unwrap(), events);
}

async fn clearing_unassigns_and_forgets_the_need(db: &TestDb) {
    let s = &db.store;
    let Conversation {
        grace,
        id,
        by_grace,
        ..
    } = conversation(s).await;
    // Clearing: unassign and forget the need.
    let cleared = s
        .update_ticket(
            id,
            TicketChange {
                assignee: Some(None),
                need: Some(None),
                ..change()
            },
            by_grace,
            t(90),
        )
        .await
        .unwrap();
    assert_eq!((cleared.assignee_id, cleared.need.as_deref()), (None, None));
    let events = s.events(id).await.unwrap();
    assert_eq!(
        event_names(&events[events.len() - 2..]),
        ["need_changed", "assignee_changed"]
    );
    assert_eq!(
        events.last().unwrap().kind,
        EventKind::AssigneeChanged {
            from: Some(grace.id),
            to: None
        }
    );
}

async fn resolving_sets_the_outcome_and_the_customer_writing_again_reopens_and_clears_it(
    db: &TestDb,
) {
    let s = &db.store;
    let Conversation {
        id,
        customer,
        by_grace,
        ..
    } = conversation(s).await;
    // Resolving sets the outcome; the customer writing again reopens and clears it.
    let resolved = s
        .update_ticket(
            id,
            TicketChange {
                status: Some(Status::Resolved),
                ..change()
            },
            by_grace,
            t(100),
        )
        .await
        .unwrap();
    assert_eq!(
        (resolved.status, resolved.outcome),
        (Status::Resolved, Some(Outcome::Resolved))
    );
    let (_, reopened) = s
        .add_message(message(
            id,
            MessageKind::Inbound,
            customer,
            "It broke again.",
            t(110),
        ))
        .await
        .unwrap();
    assert_eq!((reopened.status, reopened.outcome), (Status::Open, None));
    let events = s.events(id).await.unwrap();
    assert_eq!(
        event_names(&events[events.len() - 5..]),
        [
            "status_changed",
            "outcome_set",
            "message_added",
            "status_changed",
            "outcome_set"
        ]
    );
    assert_eq!(
        events.last().unwrap().kind,
        EventKind::OutcomeSet { outcome: None }
    );
}
