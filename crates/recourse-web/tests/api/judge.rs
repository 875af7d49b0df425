//! The judge and the coach: a reading with its signals, and flags on a poor draft that
//! go away on a better one.

use crate::harness::*;

on_both!(
    the_judge_reads_anger_and_threats,
    the_judge_does_not_reread_the_quote,
    customers_cannot_ask_the_judge,
    the_coach_flags_a_poor_draft,
    the_coach_has_nothing_to_say_about_a_good_draft,
    the_stored_reading_is_part_of_the_ticket,
);

const LATE_AGAIN: &str = "This is the THIRD time my order is late!!! I'm cancelling and leaving a review.\n\nOn Mon, Support wrote:\n> Thanks, we love you";

/// Jo's token, and Ada's with her ticket about a late parcel.
async fn late_parcel(app: &TestApp) -> (String, String, i64) {
    let (_, jo) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, ada) = app.customer_token("ada@example.com").await;
    let id = app
        .open_ticket(
            &ada,
            &CreateTicket::new(
                "Late again",
                "My order is late again and I am really annoyed. This is unacceptable.",
            )
            .need("the parcel before Friday"),
        )
        .await;
    (jo, ada, id)
}

fn kinds<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect()
}

async fn the_judge_reads_anger_and_threats(app: TestApp) {
    let (jo, _, _) = late_parcel(&app).await;
    let (status, r) = app.client(&jo).judge_demeanor(LATE_AGAIN).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert!(
        ["angry", "frustrated"].contains(&r["label"].as_str().unwrap()),
        "{r}"
    );
    let kinds = kinds(&r, "signals");
    assert!(
        kinds.contains(&"threat_to_leave") || kinds.contains(&"threat_to_review"),
        "{kinds:?}"
    );
}

async fn the_judge_does_not_reread_the_quote(app: TestApp) {
    let (jo, _, _) = late_parcel(&app).await;
    let (_, r) = app.client(&jo).judge_demeanor(LATE_AGAIN).await;
    assert!(
        !r["read_text"].as_str().unwrap().contains("love you"),
        "the quote is not re-read"
    );
}

async fn customers_cannot_ask_the_judge(app: TestApp) {
    let (_, ada, _) = late_parcel(&app).await;
    assert_eq!(
        app.client(&ada).judge_demeanor("hi").await.0,
        StatusCode::FORBIDDEN
    );
}

async fn the_coach_flags_a_poor_draft(app: TestApp) {
    let (jo, _, id) = late_parcel(&app).await;
    let (status, c) = app
        .client(&jo)
        .coach(&Coach {
            ticket_id: Some(id),
            draft: "That's not our fault, you should have read the terms. Contact the courier."
                .into(),
        })
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let flags = kinds(&c, "flags");
    for expected in ["blames_customer", "no_acknowledgement", "fob_off"] {
        assert!(
            flags.contains(&expected),
            "{expected} missing from {flags:?}"
        );
    }
    assert!(c["customer"]["label"].is_string());
}

async fn the_coach_has_nothing_to_say_about_a_good_draft(app: TestApp) {
    let (jo, _, id) = late_parcel(&app).await;
    let (_, better) = app
        .client(&jo)
        .coach(&Coach {
            ticket_id: Some(id),
            draft: "I'm sorry your parcel is late again, that is frustrating. I can send a replacement by express today so it reaches you before Friday; I will email you the tracking number by 5pm.".into(),
        })
        .await;
    let flags = kinds(&better, "flags");
    assert!(flags.is_empty(), "{flags:?}: {better}");
}

/// The stored reading of the customer's message is part of the ticket.
async fn the_stored_reading_is_part_of_the_ticket(app: TestApp) {
    let (jo, _, id) = late_parcel(&app).await;
    let (_, detail) = app.client(&jo).ticket(id).await;
    assert!(detail["messages"][0]["demeanor"].is_string());
}
