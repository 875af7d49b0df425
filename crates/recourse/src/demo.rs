//! The demo desk: a team, agents of every role and experience, a few hundred
//! customers and tickets in every state. All text here is written for Recourse.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use recourse_domain::{
    Actor, Body, Channel, EmailAddress, Experience, InterventionKind, InterventionResult,
    MessageKind, Millis, Need, Outcome, PersonName, Priority, Role, Status, Subject, Tag,
    TicketChange,
};
use recourse_store::{
    NewAgent, NewApiToken, NewIntervention, NewMessage, NewTicket, Principal, Store, TicketFilter,
};
use recourse_web::auth;

use recourse_web::now;

/// Demo accounts share one password so the README can say it; never use it for real.
pub const DEMO_PASSWORD: &str = "recourse-demo-2026";

const AGENTS: &[(&str, &str, Role, Experience, &[&str])] = &[
    (
        "admin@demo.recourse.test",
        "Ada Admin",
        Role::Admin,
        Experience::Senior,
        &["billing", "accounts"],
    ),
    (
        "maria@demo.recourse.test",
        "Maria Manager",
        Role::Manager,
        Experience::Senior,
        &["billing", "delivery", "product"],
    ),
    (
        "eli@demo.recourse.test",
        "Eli Experienced",
        Role::Agent,
        Experience::Experienced,
        &["delivery", "product"],
    ),
    (
        "jo@demo.recourse.test",
        "Jo Junior",
        Role::Agent,
        Experience::Junior,
        &["delivery"],
    ),
    (
        "sam@demo.recourse.test",
        "Sam Junior",
        Role::Agent,
        Experience::Junior,
        &["billing"],
    ),
];

const FIRST: &[&str] = &[
    "Alex", "Priya", "Tomasz", "Grace", "Kenji", "Fatima", "Liam", "Sofia", "Noah", "Amara",
    "Jonas", "Mei", "Diego", "Hannah", "Omar", "Elena", "Yusuf", "Clara", "Ravi", "Ingrid",
];
const LAST: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Nakamura",
    "Brennan",
    "Haddad",
    "Kowalski",
    "Moreau",
    "Silva",
    "Chen",
    "Fischer",
    "Patel",
    "Andersen",
    "Rossi",
    "Novak",
    "Quinn",
];

/// (subject, first message, need, tag)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "Parcel marked delivered but never arrived",
        "The tracking page says my parcel was delivered on Tuesday, but nothing came. I have checked with neighbours.",
        "A replacement or a refund for the missing parcel",
        "delivery",
    ),
    (
        "Charged twice for one order",
        "My card statement shows the same amount taken twice for a single order. Please sort this out.",
        "The duplicate charge refunded",
        "billing",
    ),
    (
        "Blender stopped working after a week",
        "The blender made a burning smell and now will not switch on. It is only eight days old.",
        "A working blender",
        "product",
    ),
    (
        "Cannot log in to my account",
        "The reset email never arrives, so I am locked out of my account and cannot see my orders.",
        "Access to the account again",
        "accounts",
    ),
    (
        "Wrong size sent",
        "I ordered the medium and received a large. I need the right size before the weekend if possible.",
        "The medium size, before Saturday",
        "delivery",
    ),
    (
        "Subscription renewed without warning",
        "I was billed for another year without any reminder. I did not want to renew.",
        "The renewal cancelled and refunded",
        "billing",
    ),
    (
        "App crashes when I open my invoices",
        "Every time I tap Invoices the app closes. I have reinstalled it twice.",
        "A way to download the invoices",
        "product",
    ),
    (
        "Still waiting for my refund",
        "You told me three weeks ago that the refund was on its way. I still have nothing.",
        "The promised refund",
        "billing",
    ),
    (
        "Delivery slot missed again",
        "Second time the driver did not come in the booked slot. I took the morning off for this.",
        "A delivery that actually turns up",
        "delivery",
    ),
    (
        "Discount code not accepted",
        "The code from your newsletter says it is invalid at checkout.",
        "The advertised discount",
        "billing",
    ),
    (
        "Thank you for the quick fix",
        "Just wanted to say the replacement arrived and works perfectly. Great service.",
        "",
        "product",
    ),
    (
        "Very unhappy with how I have been treated",
        "This is the fourth time I am writing. Nobody reads my emails and I am being passed around. I want someone senior.",
        "Someone senior to own the problem",
        "accounts",
    ),
];

const REPLIES: &[&str] = &[
    "I'm sorry this happened, and thank you for the detail. I can send a replacement today by tracked courier, or refund you in full; which would you prefer?",
    "Thanks for bearing with us. I have checked the order and I can refund the extra charge now; it will show on your statement within five working days.",
    "I understand how frustrating this is. I have booked a priority slot for tomorrow morning and I will check in with you once the driver has been.",
];

/// Follow-ups from customers who are still unhappy, and from those we won back.
const UPSET: &[&str] = &[
    "This is the third time I have written and I still have nothing. I am really fed up with this.",
    "Honestly this is ridiculous. Nobody has fixed anything and I am losing patience.",
    "I am very disappointed. I expected far better than this.",
];
const CALM: &[&str] = &[
    "Thank you, that sorts it out. I appreciate the help.",
    "Great, that works for me. Thanks for being so quick.",
    "Thanks for explaining, that makes sense now.",
];

const ALTERNATIVES: &[(&str, &[&str], &str, &str)] = &[
    (
        "FixIt Repair Network",
        &["product"],
        "https://fixit.example.org, 0800 555 0101",
        "Repairs small appliances out of warranty.",
    ),
    (
        "Parcel Claims Office",
        &["delivery"],
        "claims@parcels.example.org",
        "Handles lost-parcel claims against the carrier directly.",
    ),
    (
        "Consumer Money Advice",
        &["billing", "accounts"],
        "https://money-advice.example.org",
        "Free help with disputed card payments.",
    ),
];

const NOTES: &[&str] = &[
    "Carrier confirms the scan at the depot but no proof of delivery photo.",
    "Customer has contacted us three times about this; keep replies with one owner.",
    "Checked the payment log: two captures, second one should be voided.",
];

/// Canned replies for the composer: each acknowledges first and then offers something
/// concrete, the way the reply coach likes it.
const CANNED: &[(&str, &str)] = &[
    (
        "Late parcel: replacement or refund",
        "Hello {{customer_name}},

I'm sorry your order still hasn't arrived; waiting on something you paid for is frustrating. I can do one of two things for you today:

- send a replacement by express delivery, at our cost, or
- refund the order in full, back to your original payment method.

Just tell me which you'd prefer and I'll set it in motion straight away.

{{agent_name}}",
    ),
    (
        "Charged twice: we'll void the extra payment",
        "Hello {{customer_name}},

Thank you for flagging this, and I'm sorry for the worry a double charge causes. I can see the second payment on ticket #{{ticket_number}} and I can void it now; your bank usually shows it gone within three to five working days. If you would rather have a credit on your account instead, I can arrange that too.

{{agent_name}}",
    ),
    (
        "Asking what they need first",
        "Hello {{customer_name}},

Thanks for getting in touch about \"{{subject}}\". So that I fix the right thing first: what would put this right for you? For example a replacement, a refund, or a call back at a time that suits you. Whatever you choose, I'll take it from there.

{{agent_name}}",
    ),
    (
        "Confirming the need and the next step",
        "Hello {{customer_name}},

To make sure I have understood: what you need is {{need}}. I can start on that today and will update you by the end of tomorrow at the latest, sooner if I can.

{{agent_name}}",
    ),
];

pub async fn seed_if_empty(store: &std::sync::Arc<Store>) -> anyhow::Result<()> {
    let desk = recourse_desk::Desk::new(store.clone());
    if store.count_rows("tickets").await? > 0 || store.count_rows("agents").await? > 0 {
        println!("The database already has data; not adding the demo desk.");
        return Ok(());
    }
    println!("Seeding the demo desk…");
    let mut rng = StdRng::seed_from_u64(2009);
    let team = store.create_team("Customer Care").await?;
    let hash = auth::hash_password(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!(e.message))?;
    let mut agents = Vec::new();
    for (email, name, role, experience, skills) in AGENTS {
        agents.push(
            store
                .create_agent(NewAgent {
                    email: EmailAddress::parse(email)?,
                    name: PersonName::parse(name)?,
                    role: *role,
                    experience: *experience,
                    skills: Tag::parse_all(skills)?,
                    team_id: Some(team.id),
                    capacity: 25,
                    password_hash: hash.clone(),
                    now: now(),
                })
                .await?,
        );
    }
    let token = auth::new_secret("rct");
    store
        .create_api_token(NewApiToken {
            principal: Principal::Agent(agents[0].id),
            name: "demo".into(),
            token_hash: auth::sha256_hex(&token),
            scope: "full".into(),
            now: now(),
        })
        .await?;

    let start = now().0 - 60 * 24 * 3600 * 1000; // two months of history
    let customers = 240;
    let tickets = 320;
    let mut customer_ids = Vec::with_capacity(customers);
    for i in 0..customers {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len()) % LAST.len()];
        let email = EmailAddress::parse(&format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase(),
            i
        ))?;
        let c = store
            .upsert_customer(&email, Some(&format!("{first} {last}")), Millis(start))
            .await?;
        customer_ids.push(c.id);
    }
    let mut alternatives = Vec::new();
    for (name, serves, contact, notes) in ALTERNATIVES {
        alternatives.push(
            store
                .save_alternative(
                    None,
                    recourse_store::NewAlternative {
                        name: (*name).into(),
                        serves: Tag::parse_all(serves)?,
                        contact: (*contact).into(),
                        notes: (*notes).into(),
                        active: true,
                    },
                    Millis(start),
                )
                .await?,
        );
    }
    for (title, body) in CANNED {
        let body = recourse_domain::template::Template::canned_reply(body)?;
        store
            .save_canned_reply(
                None,
                recourse_store::NewCannedReply {
                    title: (*title).into(),
                    body: body.body().to_owned(),
                    author: Some(agents[0].id),
                },
                Millis(start),
            )
            .await?;
    }
    for i in 0..tickets {
        let (subject, body, need, tag) = CASES[rng.random_range(0..CASES.len())];
        let at = start + (i as i64) * (60 * 24 * 3600 * 1000 / tickets as i64);
        let customer = customer_ids[rng.random_range(0..customer_ids.len())];
        let actor = Actor::Customer(customer);
        let priority = [
            Priority::Low,
            Priority::Normal,
            Priority::Normal,
            Priority::High,
            Priority::Urgent,
        ][rng.random_range(0..5)];
        let ticket = desk
            .open_ticket(NewTicket {
                customer: customer.into(),
                subject: Subject::parse(subject)?,
                body: Body::parse(body)?,
                need: if rng.random_bool(0.6) {
                    Need::parse(need)?
                } else {
                    None
                },
                priority,
                tags: Tag::parse_all(&[tag])?,
                channel: if rng.random_bool(0.7) {
                    Channel::Email
                } else {
                    Channel::Portal
                },
                demeanor: Some(recourse_judge::customer_demeanor(body)),
                actor,
                now: Millis(at),
            })
            .await?;
        // Walk each ticket some way through its life, so every status is represented.
        let stage = rng.random_range(0..6);
        if stage == 0 {
            continue;
        }
        let agent = &agents[rng.random_range(0..agents.len())];
        let by = Actor::Agent(agent.id);
        let mut t = at + 3_600_000;
        desk.change_ticket(
            ticket.id,
            TicketChange {
                assignee: Some(Some(agent.id)),
                ..Default::default()
            },
            by,
            Millis(t),
        )
        .await?;
        if rng.random_bool(0.4) {
            t += 600_000;
            let note = NOTES[rng.random_range(0..NOTES.len())];
            desk.add_message(NewMessage {
                ticket_id: ticket.id,
                kind: MessageKind::Note,
                channel: Channel::Console,
                author: by,
                body: Body::parse(note)?,
                status: None,
                demeanor: None,
                now: Millis(t),
            })
            .await?;
        }
        t += 600_000;
        let reply = REPLIES[rng.random_range(0..REPLIES.len())];
        let wait = stage == 2;
        desk.add_message(NewMessage {
            ticket_id: ticket.id,
            kind: MessageKind::Reply,
            channel: Channel::Email,
            author: by,
            body: Body::parse(reply)?,
            status: wait.then_some(Status::PendingCustomer),
            demeanor: None,
            now: Millis(t),
        })
        .await?;
        let kind = [
            InterventionKind::Apology,
            InterventionKind::Refund,
            InterventionKind::Replacement,
            InterventionKind::Expedite,
            InterventionKind::Credit,
        ][rng.random_range(0..5)];
        let result = [
            InterventionResult::Accepted,
            InterventionResult::Pending,
            InterventionResult::Declined,
        ][rng.random_range(0..3)];
        store
            .add_intervention(NewIntervention {
                ticket_id: ticket.id,
                kind,
                description: Body::parse(&format!(
                    "Offered a {kind} after checking the order history."
                ))?,
                result,
                agent_id: Some(agent.id),
                now: Millis(t),
            })
            .await?;
        t += 1_800_000;
        // The customer answers: some are still upset, some are won back.
        if stage >= 2 {
            let text = if rng.random_bool(0.45) {
                UPSET[rng.random_range(0..UPSET.len())]
            } else {
                CALM[rng.random_range(0..CALM.len())]
            };
            desk.add_message(NewMessage {
                ticket_id: ticket.id,
                kind: MessageKind::Inbound,
                channel: Channel::Email,
                author: actor,
                body: Body::parse(text)?,
                status: None,
                demeanor: Some(recourse_judge::customer_demeanor(text)),
                now: Millis(t),
            })
            .await?;
        }
        t += 1_800_000;
        // A few reach a manager's last stand: a referral, or (about 2%) inconsolable.
        let last_stand = i % 50 == 7 || i % 40 == 3;
        if stage >= 2 && last_stand {
            let live = store.get_ticket(ticket.id).await?;
            if live.status.is_active() {
                // A manager may move any case; with the case at the top already the
                // ladder says so, and that is fine here.
                let manager = Actor::Agent(agents[1].id);
                for reason in [
                    recourse_domain::EscalationReason::CustomerRequest,
                    recourse_domain::EscalationReason::NeedsExperience,
                ] {
                    let moved = desk
                        .escalate(recourse_store::EscalationRequest {
                            ticket_id: ticket.id,
                            reason,
                            note: None,
                            message: None,
                            assignee: None,
                            channel: Channel::Email,
                            actor: manager,
                            now: Millis(t),
                        })
                        .await;
                    match moved {
                        Ok(_)
                        | Err(recourse_desk::DeskError::Store(
                            recourse_store::StoreError::Ladder(_),
                        )) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                if i % 50 == 7 {
                    desk
                        .add_message(NewMessage {
                            ticket_id: ticket.id,
                            kind: MessageKind::Note,
                            channel: Channel::Console,
                            author: manager,
                            body: Body::parse(
                                "Offered a refund, a replacement and a call; the customer wants compensation we cannot give.",
                            )?,
                            status: None,
                            demeanor: None,
                            now: Millis(t),
                        })
                        .await?;
                    desk.change_ticket(
                        ticket.id,
                        TicketChange {
                            status: Some(Status::Closed),
                            outcome: Some(Outcome::Inconsolable),
                            ..Default::default()
                        },
                        manager,
                        Millis(t),
                    )
                    .await?;
                } else if let Some(alt) = alternatives
                    .iter()
                    .find(|a| a.serves.contains(&tag.to_string()))
                {
                    desk.refer(recourse_store::ReferralRequest {
                        ticket_id: ticket.id,
                        alternative_id: alt.id,
                        reason: "This is something we cannot put right ourselves.".into(),
                        message: None,
                        agent_name: Some("Maria Manager".into()),
                        channel: Channel::Email,
                        actor: manager,
                        now: Millis(t),
                    })
                    .await?;
                }
                continue;
            }
        }
        t += 3_600_000;
        if matches!(stage, 3 | 4) {
            desk.change_ticket(
                ticket.id,
                TicketChange {
                    status: Some(Status::Resolved),
                    ..Default::default()
                },
                by,
                Millis(t),
            )
            .await?;
        }
        if matches!(stage, 3 | 4) && rng.random_bool(0.6) {
            let token = auth::new_secret("srv");
            let opened = desk
                .open_survey(
                    ticket.id,
                    &auth::sha256_hex(&token),
                    &format!(
                        "How did we do? Three quick questions, and a week to change your answers: /survey/{token}"
                    ),
                    Millis(t),
                )
                .await?;
            if opened {
                let answer = recourse_domain::recovery::SurveyAnswer::parse(
                    rng.random_range(2..=5),
                    rng.random_range(3..=5),
                    rng.random_range(3..=5),
                    rng.random_range(4..=10),
                )?;
                desk.answer_survey(
                    &auth::sha256_hex(&token),
                    answer,
                    None,
                    Millis(t + 7_200_000),
                )
                .await?;
            }
        }
        match stage {
            4 => {
                desk.change_ticket(
                    ticket.id,
                    TicketChange {
                        status: Some(Status::Closed),
                        ..Default::default()
                    },
                    Actor::System,
                    Millis(t + 86_400_000),
                )
                .await?;
            }
            5 => {
                let outcome = [Outcome::Explained, Outcome::Withdrawn, Outcome::Resolved]
                    [rng.random_range(0..3)];
                desk.change_ticket(
                    ticket.id,
                    TicketChange {
                        status: Some(Status::Closed),
                        outcome: Some(outcome),
                        ..Default::default()
                    },
                    by,
                    Millis(t),
                )
                .await?;
            }
            _ => {}
        }
    }
    let open = store
        .list_tickets(&TicketFilter {
            status: Some(Status::Open),
            limit: 1000,
            ..Default::default()
        })
        .await?
        .len();
    println!(
        "Demo desk ready: {} agents, {customers} customers, {tickets} tickets ({open} open).",
        agents.len()
    );
    println!("Sign in (POST /api/v1/auth/login) as any of these, password `{DEMO_PASSWORD}`:");
    for a in &agents {
        println!(
            "  {:<28} {:<8} {}",
            a.email.as_str(),
            a.role.as_str(),
            a.experience.as_str()
        );
    }
    println!("API token for {} (shown once): {token}", agents[0].email);
    Ok(())
}
