//! When we can't help, over HTTP: every missing part has its own 422, the review queue,
//! transfers that must speak to the customer, referral suggestions ranked by tags, the
//! referral close, inconsolable, masking and supervision. (The survey link and the
//! report have their own modules; their fixtures are here.)

use crate::harness::*;

on_both!(
    cant_help_names_each_missing_part,
    customers_cannot_say_cant_help,
    cant_help_with_a_partial_solution_resolves_as_explained,
    the_customer_reads_the_explanation_then_the_survey_invitation,
    cant_help_with_nothing_to_offer_waits_for_review,
    agents_cannot_see_the_review_queue,
    the_review_queue_lists_the_waiting_ticket,
    a_ticket_waiting_for_review_is_flagged,
    agents_cannot_approve_a_review,
    a_manager_approves_with_something_after_all,
    a_transfer_needs_a_message_to_the_customer,
    a_transfer_needs_a_target,
    three_transfers_without_an_answer_flag_ping_pong,
    the_customer_reads_every_transfer_message,
    managers_add_to_the_referral_directory,
    agents_cannot_add_to_the_referral_directory,
    an_alternative_needs_a_contact,
    referral_suggestions_rank_by_shared_tags,
    agents_cannot_refer,
    a_referral_is_only_from_the_top_rung,
    a_referral_closes_the_ticket_as_referred,
    closing_as_inconsolable_has_its_own_route,
    only_managers_close_as_inconsolable,
    inconsolable_needs_a_note,
    a_manager_closes_as_inconsolable,
    abuse_goes_straight_to_a_manager,
    agents_see_abuse_masked,
    the_customer_sees_their_own_words,
    a_manager_reveals_a_masked_message,
    a_handoff_needs_no_reason,
    the_customer_record_counts_abusive_messages,
    only_managers_supervise_customers,
    a_supervised_customer_is_served_by_a_manager,
);

/// Jo (junior), Eve (experienced), Mia (manager) and the customer Ada.
pub struct Desk {
    pub jo: String,
    pub eve_id: i64,
    pub eve: String,
    pub mia: String,
    pub ada_id: i64,
    pub ada: String,
}

pub async fn desk(app: &TestApp) -> Desk {
    let (_, jo) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (eve_id, eve) = app
        .agent("eve@example.com", Role::Agent, Experience::Experienced)
        .await;
    let (_, mia) = app
        .agent("mia@example.com", Role::Manager, Experience::Senior)
        .await;
    let (ada_id, ada) = app.customer_token("ada@example.com").await;
    Desk {
        jo,
        eve_id,
        eve,
        mia,
        ada_id,
        ada,
    }
}

/// Ada writes in.
pub async fn open(app: &TestApp, d: &Desk, subject: &str, tags: &[&str]) -> i64 {
    app.open_ticket(
        &d.ada,
        &CreateTicket::new(subject, "Please help me with this.").tags(tags),
    )
    .await
}

fn policy() -> CantHelp {
    CantHelp {
        reason: "company_policy".into(),
        explanation: "Opened food cannot come back, for hygiene reasons.".into(),
        partial_solution: Some("A voucher for your next order.".into()),
        ..Default::default()
    }
}

/// Jo can't help with a return but offers a voucher: the ticket and the answer.
pub async fn explained(app: &TestApp, d: &Desk) -> (i64, Value) {
    let id = open(app, d, "Return opened coffee", &[]).await;
    let (status, done) = app.client(&d.jo).cant_help(id, &policy()).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    (id, done)
}

/// The survey token in the invitation the customer got last on ticket `id`.
pub async fn survey_token(app: &TestApp, d: &Desk, id: i64) -> String {
    let (_, seen) = app.client(&d.ada).ticket(id).await;
    let invite = seen["messages"].as_array().unwrap().last().unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    invite
        .split("/survey/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// Nothing to offer: the ticket waits for a manager's review.
pub async fn pending_review(app: &TestApp, d: &Desk) -> (i64, Value) {
    let id2 = open(app, d, "Cash refund", &[]).await;
    let (status, queued) = app
        .client(&d.jo)
        .cant_help(
            id2,
            &CantHelp {
                reason: "law_or_regulation".into(),
                explanation: "The law does not let us refund in cash.".into(),
                no_partial_justification: Some("Nothing else fits this customer.".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{queued}");
    (id2, queued)
}

fn approve() -> Review {
    Review {
        approve: true,
        partial_solution: Some("A bank transfer within two days.".into()),
    }
}

pub async fn approved(app: &TestApp, d: &Desk) -> i64 {
    let (id2, _) = pending_review(app, d).await;
    let (status, approved) = app.client(&d.mia).review_cant_help(id2, &approve()).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    id2
}

fn to_eve(d: &Desk) -> Transfer {
    Transfer {
        to_agent_id: Some(d.eve_id),
        customer_message: Some("Eve in billing has your case now: she can change invoices.".into()),
        ..Default::default()
    }
}

/// A ticket Mia transfers to Eve three times without an answer from the customer.
pub async fn ping_pong(app: &TestApp, d: &Desk) -> i64 {
    let id3 = open(app, d, "Invoice address", &[]).await;
    for _ in 0..3 {
        let (status, t) = app.client(&d.mia).transfer(id3, &to_eve(d)).await;
        assert_eq!(status, StatusCode::OK, "{t}");
    }
    id3
}

/// The referral directory: three alternatives.
pub async fn directory(app: &TestApp, d: &Desk) {
    for (name, serves, notes) in [
        ("FixIt Repairs", vec!["repairs"], "Kettles, toasters"),
        ("Refund Helpers", vec!["refunds", "repairs"], "Disputes"),
        ("Garden World", vec!["garden"], "Lawnmowers"),
    ] {
        let (status, _) = app
            .client(&d.mia)
            .create_alternative(&NewAlternative {
                name: name.into(),
                serves: Some(serves.into_iter().map(String::from).collect()),
                contact: "https://example.org".into(),
                notes: Some(notes.into()),
            })
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
}

/// The directory and a ticket tagged for repairs and refunds: the ticket and the
/// referral to its best suggestion.
pub async fn repair_ticket(app: &TestApp, d: &Desk) -> (i64, Referral) {
    directory(app, d).await;
    let id4 = open(app, d, "Kettle repair refund", &["repairs", "refunds"]).await;
    let (_, sug) = app.client(&d.jo).referral_suggestions(id4).await;
    let best = sug[0]["alternative"]["id"].as_i64().unwrap();
    let referral = Referral {
        alternative_id: best,
        reason: "We sell kettles; we do not repair them.".into(),
    };
    (id4, referral)
}

/// Mia takes the repair ticket to the top rung.
pub async fn to_the_top(app: &TestApp, d: &Desk, id4: i64) {
    for reason in ["customer_request", "customer_request"] {
        app.client(&d.mia)
            .escalate(id4, &Escalate::because(reason))
            .await;
    }
}

/// The repair ticket referred elsewhere from the top rung: the ticket and the answer.
pub async fn referred(app: &TestApp, d: &Desk) -> (i64, Answer) {
    let (id4, referral) = repair_ticket(app, d).await;
    to_the_top(app, d, id4).await;
    (id4, app.client(&d.mia).refer(id4, &referral).await)
}

const NOTHING_WILL_DO: &str =
    "Offered refund, credit and a call; wants compensation we cannot give.";

/// Ada's abusive ticket: its id and its first message as an agent sees it.
pub async fn rude(app: &TestApp, d: &Desk) -> (Value, Value) {
    let (status, rude) = app
        .client(&d.ada)
        .create_ticket(&CreateTicket::new(
            "Refund",
            "You are a useless idiot and so is your manager.",
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rude}");
    let (_, agent_view) = app
        .client(&d.mia)
        .ticket(rude["id"].as_i64().unwrap())
        .await;
    (rude, agent_view)
}

/// Replays the whole story up to the report: an explained ticket whose survey is
/// answered, an approved review, ping-pong, a referral, an inconsolable close, an
/// abusive customer handed off and supervised, and their next ticket.
pub async fn everything(app: &TestApp, d: &Desk) {
    let (id, _) = explained(app, d).await;
    let token = survey_token(app, d, id).await;
    let (status, _) = app
        .client("")
        .answer_survey(
            &token,
            &SurveyAnswer {
                product: 2,
                pleasantness: 5,
                competence: 4,
                recommend: 9,
                comment: Some("Kind people, odd policy.".into()),
            },
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    approved(app, d).await;
    let id3 = ping_pong(app, d).await;
    let (_, (status, _)) = referred(app, d).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.client(&d.mia).inconsolable(id3, NOTHING_WILL_DO).await;
    assert_eq!(status, StatusCode::OK);
    let (rude, view) = rude(app, d).await;
    let rid = rude["id"].as_i64().unwrap();
    let mid = view["messages"][0]["id"].as_i64().unwrap();
    let mia = app.client(&d.mia);
    assert_eq!(mia.reveal(rid, mid).await.0, StatusCode::OK);
    assert_eq!(mia.handoff(rid).await.0, StatusCode::OK);
    assert_eq!(mia.set_supervision(d.ada_id, true).await.0, StatusCode::OK);
    let (status, _) = app
        .client(&d.ada)
        .create_ticket(&CreateTicket::new("New question", "Hello there."))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn cant_help_names_each_missing_part(app: TestApp) {
    let d = desk(&app).await;
    let id = open(&app, &d, "Return opened coffee", &[]).await;
    let bank = || ThirdParty {
        who: "Your bank".into(),
        why_theirs: None,
    };
    let cases = [
        (
            CantHelp {
                explanation: " ".into(),
                ..policy()
            },
            "explanation_required",
        ),
        (
            CantHelp {
                partial_solution: None,
                ..policy()
            },
            "partial_solution_required",
        ),
        (
            CantHelp {
                reason: "third_party".into(),
                ..policy()
            },
            "third_party_who_required",
        ),
        (
            CantHelp {
                reason: "third_party".into(),
                third_party: Some(bank()),
                ..policy()
            },
            "third_party_why_required",
        ),
        (
            CantHelp {
                reason: "third_party".into(),
                third_party: Some(ThirdParty {
                    why_theirs: Some("It is their block".into()),
                    ..bank()
                }),
                ..policy()
            },
            "third_party_contact_required",
        ),
    ];
    let mut failures = Vec::new();
    for (body, want) in cases {
        let (status, err) = app.client(&d.jo).cant_help(id, &body).await;
        if (status, code(&err)) != (StatusCode::UNPROCESSABLE_ENTITY, Some(want)) {
            failures.push(format!("expected {want}: {status} {err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn customers_cannot_say_cant_help(app: TestApp) {
    let d = desk(&app).await;
    let id = open(&app, &d, "Return opened coffee", &[]).await;
    assert_eq!(
        app.client(&d.ada).cant_help(id, &policy()).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn cant_help_with_a_partial_solution_resolves_as_explained(app: TestApp) {
    let d = desk(&app).await;
    let (_, done) = explained(&app, &d).await;
    assert_eq!(
        (
            done["ticket"]["status"].as_str(),
            done["ticket"]["outcome"].as_str()
        ),
        (Some("resolved"), Some("explained"))
    );
}

/// The customer reads the explanation, then the survey invitation with its link.
async fn the_customer_reads_the_explanation_then_the_survey_invitation(app: TestApp) {
    let d = desk(&app).await;
    let (id, _) = explained(&app, &d).await;
    let (_, seen) = app.client(&d.ada).ticket(id).await;
    let msgs = seen["messages"].as_array().unwrap();
    assert!(
        msgs[msgs.len() - 2]["body"]
            .as_str()
            .unwrap()
            .contains("for hygiene reasons")
    );
    assert!(
        msgs.last().unwrap()["body"]
            .as_str()
            .unwrap()
            .contains("/survey/")
    );
}

/// Nothing to offer: the review queue, then a manager approves with something after all.
async fn cant_help_with_nothing_to_offer_waits_for_review(app: TestApp) {
    let d = desk(&app).await;
    let (_, queued) = pending_review(&app, &d).await;
    assert_eq!(
        queued["cant_help"]["state"].as_str(),
        Some("pending_review")
    );
}

async fn agents_cannot_see_the_review_queue(app: TestApp) {
    let d = desk(&app).await;
    pending_review(&app, &d).await;
    assert_eq!(app.client(&d.jo).reviews().await.0, StatusCode::FORBIDDEN);
}

async fn the_review_queue_lists_the_waiting_ticket(app: TestApp) {
    let d = desk(&app).await;
    let (id2, _) = pending_review(&app, &d).await;
    let (_, q) = app.client(&d.mia).reviews().await;
    assert_eq!(
        q.as_array()
            .unwrap()
            .iter()
            .map(|r| r["ticket_id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [id2]
    );
}

async fn a_ticket_waiting_for_review_is_flagged(app: TestApp) {
    let d = desk(&app).await;
    let (id2, _) = pending_review(&app, &d).await;
    let (_, flagged) = app.client(&d.mia).tickets("flag=review_pending").await;
    assert_eq!(flagged["tickets"][0]["id"].as_i64(), Some(id2));
}

async fn agents_cannot_approve_a_review(app: TestApp) {
    let d = desk(&app).await;
    let (id2, _) = pending_review(&app, &d).await;
    let review = Review {
        approve: true,
        partial_solution: None,
    };
    assert_eq!(
        app.client(&d.jo).review_cant_help(id2, &review).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn a_manager_approves_with_something_after_all(app: TestApp) {
    let d = desk(&app).await;
    let (id2, _) = pending_review(&app, &d).await;
    let mia = app.client(&d.mia);
    let (status, approved) = mia.review_cant_help(id2, &approve()).await;
    assert_eq!(
        (status, approved["cant_help"]["state"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{approved}"
    );
    assert!(mia.reviews().await.1.as_array().unwrap().is_empty());
}

/// Transfers must tell the customer; a third without an answer flags ping-pong.
async fn a_transfer_needs_a_message_to_the_customer(app: TestApp) {
    let d = desk(&app).await;
    let id3 = open(&app, &d, "Invoice address", &[]).await;
    let (status, err) = app
        .client(&d.jo)
        .transfer(
            id3,
            &Transfer {
                to_agent_id: Some(d.eve_id),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("customer_message_required")
        )
    );
}

async fn a_transfer_needs_a_target(app: TestApp) {
    let d = desk(&app).await;
    let id3 = open(&app, &d, "Invoice address", &[]).await;
    let (status, err) = app
        .client(&d.jo)
        .transfer(
            id3,
            &Transfer {
                customer_message: Some("Someone else has it now.".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("transfer_target_required")
        )
    );
}

async fn three_transfers_without_an_answer_flag_ping_pong(app: TestApp) {
    let d = desk(&app).await;
    let id3 = ping_pong(&app, &d).await;
    let (_, pp) = app.client(&d.mia).tickets("flag=ping_pong").await;
    assert_eq!(pp["tickets"][0]["id"].as_i64(), Some(id3));
}

async fn the_customer_reads_every_transfer_message(app: TestApp) {
    let d = desk(&app).await;
    let id3 = ping_pong(&app, &d).await;
    let (_, seen) = app.client(&d.ada).ticket(id3).await;
    assert_eq!(
        seen["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["body"].as_str().unwrap().contains("Eve in billing"))
            .count(),
        3
    );
}

/// The referral directory, ranked suggestions, and the referral close.
async fn managers_add_to_the_referral_directory(app: TestApp) {
    let d = desk(&app).await;
    directory(&app, &d).await;
}

async fn agents_cannot_add_to_the_referral_directory(app: TestApp) {
    let d = desk(&app).await;
    let alternative = NewAlternative {
        name: "x".into(),
        contact: "y".into(),
        ..Default::default()
    };
    assert_eq!(
        app.client(&d.jo).create_alternative(&alternative).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn an_alternative_needs_a_contact(app: TestApp) {
    let d = desk(&app).await;
    let (status, err) = app
        .client(&d.mia)
        .create_alternative(&NewAlternative {
            name: "No contact".into(),
            contact: " ".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("contact_required"))
    );
}

async fn referral_suggestions_rank_by_shared_tags(app: TestApp) {
    let d = desk(&app).await;
    let (id4, _) = repair_ticket(&app, &d).await;
    let (_, sug) = app.client(&d.jo).referral_suggestions(id4).await;
    let names: Vec<&str> = sug
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["alternative"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Refund Helpers", "FixIt Repairs"],
        "two shared tags beat one; no match is left out"
    );
}

async fn agents_cannot_refer(app: TestApp) {
    let d = desk(&app).await;
    let (id4, referral) = repair_ticket(&app, &d).await;
    assert_eq!(
        app.client(&d.jo).refer(id4, &referral).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn a_referral_is_only_from_the_top_rung(app: TestApp) {
    let d = desk(&app).await;
    let (id4, referral) = repair_ticket(&app, &d).await;
    let (status, err) = app.client(&d.mia).refer(id4, &referral).await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::CONFLICT, Some("conflict")),
        "not on the top rung yet"
    );
}

async fn a_referral_closes_the_ticket_as_referred(app: TestApp) {
    let d = desk(&app).await;
    let (_, (status, closed)) = referred(&app, &d).await;
    assert_eq!(
        (
            status,
            closed["status"].as_str(),
            closed["outcome"].as_str()
        ),
        (StatusCode::OK, Some("closed"), Some("referred")),
        "{closed}"
    );
}

async fn closing_as_inconsolable_has_its_own_route(app: TestApp) {
    let d = desk(&app).await;
    let id3 = ping_pong(&app, &d).await;
    let (status, err) = app
        .client(&d.mia)
        .update_ticket(
            id3,
            &TicketPatch {
                status: Some("closed".into()),
                outcome: Some("inconsolable".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("use_inconsolable_route")
        )
    );
}

/// Inconsolable: managers only, with a note.
async fn only_managers_close_as_inconsolable(app: TestApp) {
    let d = desk(&app).await;
    let id3 = ping_pong(&app, &d).await;
    assert_eq!(
        app.client(&d.eve).inconsolable(id3, "x").await.0,
        StatusCode::FORBIDDEN
    );
}

async fn inconsolable_needs_a_note(app: TestApp) {
    let d = desk(&app).await;
    let id3 = ping_pong(&app, &d).await;
    let (status, err) = app.client(&d.mia).inconsolable(id3, "").await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note_required"))
    );
}

async fn a_manager_closes_as_inconsolable(app: TestApp) {
    let d = desk(&app).await;
    let id3 = ping_pong(&app, &d).await;
    let (status, t) = app.client(&d.mia).inconsolable(id3, NOTHING_WILL_DO).await;
    assert_eq!(
        (status, t["outcome"].as_str()),
        (StatusCode::OK, Some("inconsolable"))
    );
}

/// Abuse: the judge reads it on arrival; agents see it masked, the customer does not.
async fn abuse_goes_straight_to_a_manager(app: TestApp) {
    let d = desk(&app).await;
    let (rude, _) = rude(&app, &d).await;
    assert_eq!(rude["rung"], "manager", "abuse goes straight to a manager");
}

async fn agents_see_abuse_masked(app: TestApp) {
    let d = desk(&app).await;
    let (_, agent_view) = rude(&app, &d).await;
    let first = &agent_view["messages"][0];
    assert_eq!(
        (first["masked"].as_bool(), first["body"].as_str()),
        (Some(true), Some(""))
    );
    assert_eq!(agent_view["demeanor_trajectory"][0]["demeanor"], "abusive");
}

async fn the_customer_sees_their_own_words(app: TestApp) {
    let d = desk(&app).await;
    let (rude, _) = rude(&app, &d).await;
    let (_, own) = app
        .client(&d.ada)
        .ticket(rude["id"].as_i64().unwrap())
        .await;
    assert!(
        own["messages"][0]["body"]
            .as_str()
            .unwrap()
            .contains("useless idiot")
    );
}

async fn a_manager_reveals_a_masked_message(app: TestApp) {
    let d = desk(&app).await;
    let (rude, view) = rude(&app, &d).await;
    let mid = view["messages"][0]["id"].as_i64().unwrap();
    let (status, shown) = app
        .client(&d.mia)
        .reveal(rude["id"].as_i64().unwrap(), mid)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown["body"].as_str().unwrap().contains("useless idiot"));
}

/// Hand-off with no reason; then supervision for the repeat offender.
async fn a_handoff_needs_no_reason(app: TestApp) {
    let d = desk(&app).await;
    let (rude, _) = rude(&app, &d).await;
    let (status, passed) = app
        .client(&d.mia)
        .handoff(rude["id"].as_i64().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK, "{passed}");
}

async fn the_customer_record_counts_abusive_messages(app: TestApp) {
    let d = desk(&app).await;
    rude(&app, &d).await;
    let (_, cust) = app.client(&d.jo).customer(d.ada_id).await;
    assert_eq!(cust["abusive_messages"].as_i64(), Some(1));
}

async fn only_managers_supervise_customers(app: TestApp) {
    let d = desk(&app).await;
    rude(&app, &d).await;
    assert_eq!(
        app.client(&d.jo).set_supervision(d.ada_id, true).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, sup) = app.client(&d.mia).set_supervision(d.ada_id, true).await;
    assert_eq!(
        (status, sup["supervised"].as_bool()),
        (StatusCode::OK, Some(true))
    );
}

async fn a_supervised_customer_is_served_by_a_manager(app: TestApp) {
    let d = desk(&app).await;
    rude(&app, &d).await;
    app.client(&d.mia).set_supervision(d.ada_id, true).await;
    let (status, next) = app
        .client(&d.ada)
        .create_ticket(&CreateTicket::new("New question", "Hello there."))
        .await;
    assert_eq!(
        (status, next["rung"].as_str()),
        (StatusCode::CREATED, Some("manager")),
        "supervised, never refused"
    );
}
