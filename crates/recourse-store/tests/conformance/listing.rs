//! Listing tickets: filters, order and the cursor.

use crate::usecases::UseCases;
use recourse_domain::{Actor, Customer, MessageKind, Outcome, Status, TicketId};
use recourse_domain::{Agent, Ticket};
use recourse_store::{AssigneeFilter, TicketChange, TicketFilter};

use crate::harness::*;

on_both! {
    listing_everything_returns_every_ticket_newest_first,
    the_status_filter_returns_exactly_five_tickets_of_each_status,
    the_rung_filter_returns_exactly_the_tickets_on_that_rung,
    the_tag_filter_returns_exactly_the_tagged_tickets,
    the_assignee_filter_returns_each_agents_and_the_unassigned_tickets,
    the_customer_filter_returns_exactly_their_tickets,
    filters_combine,
    before_lists_only_older_tickets_within_a_filter,
    limit_caps_a_page,
    before_walks_every_ticket_exactly_once_newest_first,
}

/// What [`population`] made: three customers, two agents (away, so nothing is routed),
/// and 25 tickets spread over statuses, tags, rungs, assignees and customers, newest first.
struct Population {
    customers: [Customer; 3],
    agents: [Agent; 2],
    tickets: Vec<Ticket>,
}

async fn population(db: &TestDb) -> Population {
    let s = &db.store;
    let customers = [
        customer(s, "a@example.com").await,
        customer(s, "b@example.com").await,
        customer(s, "c@example.com").await,
    ];
    let agents = [
        agent(s, "x@example.com", "Xavier").await,
        agent(s, "y@example.com", "Yolanda").await,
    ];
    // Away, so arrivals are not routed: this story assigns by hand.
    for a in &agents {
        s.set_presence(a.id, false, Actor::System, t(0))
            .await
            .unwrap();
    }
    let statuses = [
        Status::New,
        Status::Open,
        Status::PendingCustomer,
        Status::Resolved,
        Status::Closed,
    ];

    let mut ids = Vec::new();
    for i in 0..25i64 {
        let now = t(i * 10);
        let mut tag_list = Vec::new();
        if i % 2 == 0 {
            tag_list.push("even");
        }
        if i % 7 == 0 {
            tag_list.push("seventh");
        }
        let c = &customers[(i % 3) as usize];
        let new = new_ticket(
            c.id,
            &format!("Ticket {i}"),
            &format!("Body of ticket {i}"),
            &tag_list,
            now,
        );
        let tk = s.create_ticket(new).await.unwrap();
        if i % 6 == 5 {
            // Placed on a rung directly: this story is about listing, not escalating.
            db.raw_execute(&format!(
                "UPDATE tickets SET rung = 'experienced' WHERE id = {}",
                tk.id.0
            ))
            .await
            .unwrap();
        }
        let who = Actor::Agent(agents[0].id);
        match (i / 2) % 3 {
            0 => s
                .update_ticket(
                    tk.id,
                    TicketChange {
                        assignee: Some(Some(agents[0].id)),
                        ..change()
                    },
                    who,
                    now,
                )
                .await
                .unwrap(),
            1 => s
                .update_ticket(
                    tk.id,
                    TicketChange {
                        assignee: Some(Some(agents[1].id)),
                        ..change()
                    },
                    who,
                    now,
                )
                .await
                .unwrap(),
            _ => tk.clone(),
        };
        match statuses[(i % 5) as usize] {
            Status::New => {}
            Status::Open => {
                s.add_message(message(tk.id, MessageKind::Reply, who, "On it", now))
                    .await
                    .unwrap();
            }
            Status::PendingCustomer => {
                let mut m = message(tk.id, MessageKind::Reply, who, "Can you send a photo?", now);
                m.status = Some(Status::PendingCustomer);
                s.add_message(m).await.unwrap();
            }
            Status::Resolved => {
                s.update_ticket(
                    tk.id,
                    TicketChange {
                        status: Some(Status::Resolved),
                        ..change()
                    },
                    who,
                    now,
                )
                .await
                .unwrap();
            }
            Status::Closed => {
                let close = TicketChange {
                    status: Some(Status::Closed),
                    outcome: Some(Outcome::Explained),
                    ..change()
                };
                s.update_ticket(tk.id, close, who, now).await.unwrap();
            }
        }
        ids.push(tk.id);
    }
    assert!(
        ids.windows(2).all(|w| w[0].0 < w[1].0),
        "ids grow with creation"
    );

    let mut tickets = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let tk = s.get_ticket(*id).await.unwrap();
        assert_eq!(tk.status, statuses[i % 5], "ticket {i}");
        tickets.push(tk);
    }
    tickets.reverse(); // newest first, as listings come back
    Population {
        customers,
        agents,
        tickets,
    }
}

/// Every filter returns exactly the matching tickets, newest first.
async fn check(
    s: &S,
    tickets: &[Ticket],
    filter: TicketFilter,
    keep: Box<dyn Fn(&Ticket) -> bool>,
    expect_some: bool,
) {
    let expected: Vec<Ticket> = tickets.iter().filter(|t| keep(t)).cloned().collect();
    assert_eq!(
        expected.is_empty(),
        !expect_some,
        "test data for {filter:?}"
    );
    let got = s.list_tickets(&filter).await.unwrap();
    assert_eq!(got, expected, "{filter:?}");
}

async fn listing_everything_returns_every_ticket_newest_first(db: &TestDb) {
    let s = &db.store;
    let Population { tickets, .. } = population(db).await;
    let f = || all(100);
    check(s, &tickets, f(), Box::new(|_| true), true).await;
}

async fn the_status_filter_returns_exactly_five_tickets_of_each_status(db: &TestDb) {
    let s = &db.store;
    let Population { tickets, .. } = population(db).await;
    let f = || all(100);
    for status in Status::ALL {
        let n = tickets.iter().filter(|t| t.status == *status).count();
        assert_eq!(n, 5, "five tickets in {status}");
        let st = *status;
        check(
            s,
            &tickets,
            TicketFilter {
                status: Some(st),
                ..f()
            },
            Box::new(move |t| t.status == st),
            true,
        )
        .await;
    }
}

async fn the_rung_filter_returns_exactly_the_tickets_on_that_rung(db: &TestDb) {
    let s = &db.store;
    let Population { tickets, .. } = population(db).await;
    let f = || all(100);
    check(
        s,
        &tickets,
        TicketFilter {
            rung: Some("experienced".into()),
            ..f()
        },
        Box::new(|t| t.rung == "experienced"),
        true,
    )
    .await;
    check(
        s,
        &tickets,
        TicketFilter {
            rung: Some("frontline".into()),
            ..f()
        },
        Box::new(|t| t.rung == "frontline"),
        true,
    )
    .await;
    check(
        s,
        &tickets,
        TicketFilter {
            rung: Some("manager".into()),
            ..f()
        },
        Box::new(|_| false),
        false,
    )
    .await;
}

async fn the_tag_filter_returns_exactly_the_tagged_tickets(db: &TestDb) {
    let s = &db.store;
    let Population { tickets, .. } = population(db).await;
    let f = || all(100);
    for tag in ["even", "seventh"] {
        check(
            s,
            &tickets,
            TicketFilter {
                tag: Some(tag.into()),
                ..f()
            },
            Box::new(move |t| t.tags.iter().any(|x| x == tag)),
            true,
        )
        .await;
    }
    check(
        s,
        &tickets,
        TicketFilter {
            tag: Some("nonexistent".into()),
            ..f()
        },
        Box::new(|_| false),
        false,
    )
    .await;
}

async fn the_assignee_filter_returns_each_agents_and_the_unassigned_tickets(db: &TestDb) {
    let s = &db.store;
    let Population {
        agents, tickets, ..
    } = population(db).await;
    let f = || all(100);
    for a in &agents {
        let id = a.id;
        check(
            s,
            &tickets,
            TicketFilter {
                assignee: AssigneeFilter::Agent(id),
                ..f()
            },
            Box::new(move |t| t.assignee_id == Some(id)),
            true,
        )
        .await;
    }
    check(
        s,
        &tickets,
        TicketFilter {
            assignee: AssigneeFilter::Unassigned,
            ..f()
        },
        Box::new(|t| t.assignee_id.is_none()),
        true,
    )
    .await;
}

async fn the_customer_filter_returns_exactly_their_tickets(db: &TestDb) {
    let s = &db.store;
    let Population {
        customers, tickets, ..
    } = population(db).await;
    let f = || all(100);
    for c in &customers {
        let id = c.id;
        check(
            s,
            &tickets,
            TicketFilter {
                customer: Some(id),
                ..f()
            },
            Box::new(move |t| t.customer_id == id),
            true,
        )
        .await;
    }
}

async fn filters_combine(db: &TestDb) {
    let s = &db.store;
    let Population {
        customers,
        agents,
        tickets,
        ..
    } = population(db).await;
    let f = || all(100);
    let (c0, a0) = (customers[0].id, agents[0].id);
    check(
        s,
        &tickets,
        TicketFilter {
            tag: Some("even".into()),
            customer: Some(c0),
            assignee: AssigneeFilter::Agent(a0),
            ..f()
        },
        Box::new(move |t| {
            t.tags.iter().any(|x| x == "even") && t.customer_id == c0 && t.assignee_id == Some(a0)
        }),
        true,
    )
    .await;
}

async fn before_lists_only_older_tickets_within_a_filter(db: &TestDb) {
    let s = &db.store;
    let Population { tickets, .. } = population(db).await;
    let f = || all(100);
    let middle = tickets[10].id;
    check(
        s,
        &tickets,
        TicketFilter {
            before: Some(middle),
            status: Some(Status::Open),
            ..f()
        },
        Box::new(move |t| t.id < middle && t.status == Status::Open),
        true,
    )
    .await;
}

async fn limit_caps_a_page(db: &TestDb) {
    let s = &db.store;
    let Population { tickets, .. } = population(db).await;
    // `limit` caps a page; `before` walks every ticket exactly once, newest first.
    assert_eq!(
        s.list_tickets(&all(3)).await.unwrap(),
        tickets[..3].to_vec()
    );
}

async fn before_walks_every_ticket_exactly_once_newest_first(db: &TestDb) {
    let s = &db.store;
    let Population { tickets, .. } = population(db).await;
    for (filter, keep) in [
        (
            all(4),
            Box::new(|_: &Ticket| true) as Box<dyn Fn(&Ticket) -> bool>,
        ),
        (
            TicketFilter {
                assignee: AssigneeFilter::Unassigned,
                ..all(3)
            },
            Box::new(|t: &Ticket| t.assignee_id.is_none()),
        ),
        (
            TicketFilter {
                tag: Some("even".into()),
                ..all(2)
            },
            Box::new(|t: &Ticket| t.tags.iter().any(|x| x == "even")),
        ),
    ] {
        let expected: Vec<TicketId> = tickets.iter().filter(|t| keep(t)).map(|t| t.id).collect();
        let mut walked = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = s
                .list_tickets(&TicketFilter {
                    before: cursor,
                    ..filter.clone()
                })
                .await
                .unwrap();
            assert!(page.len() as i64 <= filter.limit);
            let Some(last) = page.last() else { break };
            cursor = Some(last.id);
            walked.extend(page.iter().map(|t| t.id));
            pages += 1;
            assert!(pages <= 30, "pagination does not end");
        }
        assert_eq!(walked, expected, "{filter:?}");
        assert_eq!(pages, expected.len().div_ceil(filter.limit as usize));
    }
}
