//! Full-text search on both engines.

use crate::usecases::UseCases;
use recourse_domain::{Actor, Customer, MessageKind, TicketId};
use recourse_domain::{Agent, Ticket};
use recourse_store::TicketFilter;

use crate::harness::*;

on_both! {
    agents_find_every_match_with_subject_matches_first,
    case_and_word_form_do_not_matter_and_every_word_must_match,
    customers_only_find_their_own_tickets,
    the_customer_scope_wins_over_a_filter_naming_somebody_else,
    the_filter_and_its_limit_apply_to_search,
    internal_notes_are_found_by_agents_never_by_the_customer,
    query_syntax_in_user_input_is_just_text,
    unicode_is_kept_exactly_and_can_be_searched,
    sql_and_html_metacharacters_are_data,
    a_word_too_long_for_any_index_is_stored_and_the_rest_still_found,
}

/// Ten tickets of two customers: six about invoices, three about kettles (one matching
/// in the body only, one of the other customer's), and one with an agent's note.
struct Corpus {
    a: Customer,
    b: Customer,
    grace: Agent,
    subject_hit: Ticket,
    body_hit: Ticket,
    other_customer: Ticket,
    noted: Ticket,
}

async fn corpus(s: &S) -> Corpus {
    let a = customer(s, "alice@example.com").await;
    let b = customer(s, "bruno@example.com").await;
    let grace = agent(s, "grace@example.com", "Grace Hopper").await;

    // Some unrelated tickets so that no word is in most documents.
    for i in 0..6 {
        let who = if i % 2 == 0 { a.id } else { b.id };
        ticket(
            s,
            who,
            &format!("Invoice number {i} looks wrong"),
            "Please check the invoice amounts again.",
            t(i),
        )
        .await;
    }
    let subject_hit = ticket(
        s,
        a.id,
        "Kettle arrived broken",
        "The box was crushed in transit.",
        t(10),
    )
    .await;
    let body_hit = ticket(
        s,
        a.id,
        "Question about my order",
        "The kettle I bought whistles too loudly.",
        t(11),
    )
    .await;
    let other_customer = ticket(
        s,
        b.id,
        "Kettle lid missing",
        "Please send a replacement lid.",
        t(12),
    )
    .await;
    let noted = ticket(
        s,
        a.id,
        "Delivery address change",
        "Please update my address.",
        t(13),
    )
    .await;
    s.add_message(message(
        noted.id,
        MessageKind::Note,
        Actor::Agent(grace.id),
        "Courier flagged a zeppelin warehouse problem.",
        t(14),
    ))
    .await
    .unwrap();
    Corpus {
        a,
        b,
        grace,
        subject_hit,
        body_hit,
        other_customer,
        noted,
    }
}

async fn agents_find_every_match_with_subject_matches_first(db: &TestDb) {
    let s = &db.store;
    let Corpus {
        subject_hit,
        body_hit,
        other_customer,
        ..
    } = corpus(s).await;
    // Agents see everything, subject matches first.
    let hits = search_ids(s, "kettle", None).await;
    assert_eq!(
        set(&hits),
        set(&[subject_hit.id, body_hit.id, other_customer.id]),
        "{hits:?}"
    );
    let pos = |id: TicketId, hits: &[TicketId]| hits.iter().position(|h| *h == id).unwrap();
    assert!(
        pos(subject_hit.id, &hits) < pos(body_hit.id, &hits),
        "subject match must rank above body-only match: {hits:?}"
    );
    assert!(
        pos(other_customer.id, &hits) < pos(body_hit.id, &hits),
        "subject match must rank above body-only match: {hits:?}"
    );
}

async fn case_and_word_form_do_not_matter_and_every_word_must_match(db: &TestDb) {
    let s = &db.store;
    let Corpus { subject_hit, .. } = corpus(s).await;
    // Case and word form do not matter; every word must match.
    assert_eq!(
        set(&search_ids(s, "KETTLE Broken", None).await),
        set(&[subject_hit.id])
    );
    assert_eq!(
        search_ids(s, "kettle zeppelin", None).await,
        Vec::<TicketId>::new()
    );
}

async fn customers_only_find_their_own_tickets(db: &TestDb) {
    let s = &db.store;
    let Corpus {
        a,
        b,
        subject_hit,
        body_hit,
        other_customer,
        ..
    } = corpus(s).await;
    // Customers only ever see their own tickets.
    assert_eq!(
        search_ids(s, "kettle", Some(a.id)).await,
        vec![subject_hit.id, body_hit.id]
    );
    assert_eq!(
        search_ids(s, "kettle", Some(b.id)).await,
        vec![other_customer.id]
    );
    assert_eq!(search_ids(s, "invoice", Some(a.id)).await.len(), 3);
    assert_eq!(search_ids(s, "invoice", None).await.len(), 6);
}

async fn the_customer_scope_wins_over_a_filter_naming_somebody_else(db: &TestDb) {
    let s = &db.store;
    let Corpus {
        a,
        b,
        subject_hit,
        body_hit,
        ..
    } = corpus(s).await;
    // The customer scope wins over a filter naming somebody else.
    let mut q = search_for("kettle", Some(a.id));
    q.filter.customer = Some(b.id);
    assert_eq!(
        s.search(&q)
            .await
            .unwrap()
            .iter()
            .map(|h| h.ticket.id)
            .collect::<Vec<_>>(),
        vec![subject_hit.id, body_hit.id]
    );
}

async fn the_filter_and_its_limit_apply_to_search(db: &TestDb) {
    let s = &db.store;
    let Corpus {
        b, other_customer, ..
    } = corpus(s).await;
    // The filter applies to search as well.
    let mut q = search_for("kettle", None);
    q.filter.customer = Some(b.id);
    assert_eq!(
        s.search(&q)
            .await
            .unwrap()
            .iter()
            .map(|h| h.ticket.id)
            .collect::<Vec<_>>(),
        vec![other_customer.id]
    );
    q.filter = TicketFilter {
        customer: None,
        limit: 1,
        ..q.filter
    };
    assert_eq!(
        s.search(&q).await.unwrap().len(),
        1,
        "limit applies to search"
    );
}

async fn internal_notes_are_found_by_agents_never_by_the_customer(db: &TestDb) {
    let s = &db.store;
    let Corpus { a, noted, .. } = corpus(s).await;
    // Internal notes are found by agents, never by the customer.
    assert_eq!(search_ids(s, "zeppelin", None).await, vec![noted.id]);
    assert_eq!(
        search_ids(s, "zeppelin", Some(a.id)).await,
        Vec::<TicketId>::new()
    );
    assert_eq!(
        search_ids(s, "address", Some(a.id)).await,
        vec![noted.id],
        "the customer still finds the ticket itself"
    );
}

async fn query_syntax_in_user_input_is_just_text(db: &TestDb) {
    let s = &db.store;
    let Corpus {
        a,
        subject_hit,
        body_hit,
        other_customer,
        ..
    } = corpus(s).await;
    // Query syntax of either engine in user input is just text.
    let hostile = [
        "\"unbalanced",
        "OR AND NOT *",
        "'; DROP TABLE tickets; --",
        "NEAR(",
        "NEAR(kettle broken, 2)",
        "kettle\"",
        "\"kettle",
        "kettle*",
        "kettle:*",
        "subject:kettle",
        "-kettle",
        "^kettle",
        "{kettle}",
        "( ) ( ",
        "!kettle & | <-> :* \\",
        "% _ ' '' \" \"\"",
        "",
        "   \t\n",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
        "the and or not",
        "日本語 \u{0} \u{200b} 🎉",
        "\u{93e} \u{345} ² ½ Ⅻ kettle",
    ];
    let (long, long_word) = ("kettle ".repeat(500), "x".repeat(5000));
    for text in hostile
        .iter()
        .copied()
        .chain([long.as_str(), long_word.as_str()])
    {
        for scope in [None, Some(a.id)] {
            let r = s.search(&search_for(text, scope)).await;
            assert!(
                r.is_ok(),
                "search {text:?} (customer {scope:?}) failed: {:?}",
                r.err()
            );
        }
    }
    for text in [
        "\"kettle",
        "kettle*",
        "'kettle'; --",
        "(kettle)",
        "kettle:*",
    ] {
        assert_eq!(
            set(&search_ids(s, text, None).await),
            set(&[subject_hit.id, body_hit.id, other_customer.id]),
            "{text:?}"
        );
    }
    assert_eq!(
        s.count_rows("tickets").await.unwrap(),
        10,
        "tickets survived the hostile searches"
    );
}

async fn unicode_is_kept_exactly_and_can_be_searched(db: &TestDb) {
    let s = &db.store;
    let Corpus { a, b, .. } = corpus(s).await;
    // Unicode is kept exactly and can be searched.
    let subject = "Größe passt nicht – café 日本語 🎉";
    let text = "Die Größe ist falsch.\nUn café, s'il vous plaît.\n日本語のテキストです。\r\n\tEmoji: 🎉👍🏽 — ünïcödé";
    let uni = ticket(s, b.id, subject, text, t(20)).await;
    assert_eq!(uni.subject, subject);
    assert_eq!(s.get_ticket(uni.id).await.unwrap().subject, subject);
    assert_eq!(s.messages(uni.id).await.unwrap()[0].body, text);
    assert_eq!(search_ids(s, "größe", None).await, vec![uni.id]);
    assert_eq!(search_ids(s, "Größe", Some(b.id)).await, vec![uni.id]);
    assert_eq!(search_ids(s, "café", None).await, vec![uni.id]);
    assert_eq!(search_ids(s, "日本語", None).await, vec![uni.id]);
    assert_eq!(
        search_ids(s, "Größe", Some(a.id)).await,
        Vec::<TicketId>::new()
    );
}

async fn sql_and_html_metacharacters_are_data(db: &TestDb) {
    let s = &db.store;
    let Corpus { a, grace, .. } = corpus(s).await;
    // SQL and HTML metacharacters are data.
    let subject = "<script>alert('x')</script> & \"quotes\"; DROP TABLE tickets; -- %_ \\ $1 ?";
    let text = "Robert'); DROP TABLE tickets;--\n<b>bold</b> &amp; &lt;tag&gt; 100% _x_ \\n $1 $$ ? :name @p0 /* c */ `tick`";
    let meta = ticket(s, a.id, subject, text, t(30)).await;
    assert_eq!(s.get_ticket(meta.id).await.unwrap().subject, subject);
    assert_eq!(s.messages(meta.id).await.unwrap()[0].body, text);
    let reply = message(
        meta.id,
        MessageKind::Reply,
        Actor::Agent(grace.id),
        "It's \"fine\" -- <i>really</i>; DELETE FROM messages;",
        t(31),
    );
    let (stored, _) = s.add_message(reply).await.unwrap();
    assert_eq!(s.messages(meta.id).await.unwrap()[1], stored);
    assert_eq!(
        stored.body,
        "It's \"fine\" -- <i>really</i>; DELETE FROM messages;"
    );
    // (PostgreSQL's parser skips HTML tags and what is inside `<script>`, so search other words.)
    assert_eq!(
        search_ids(s, "quotes drop table", Some(a.id)).await,
        vec![meta.id]
    );
    assert_eq!(search_ids(s, "robert", None).await, vec![meta.id]);
}

/// Runs after the Unicode and metacharacter tickets, so the row counts cover them too.
async fn a_word_too_long_for_any_index_is_stored_and_the_rest_still_found(db: &TestDb) {
    let s = &db.store;
    let Corpus { a, b, grace, .. } = corpus(s).await;
    // Unicode is kept exactly and can be searched.
    let subject = "Größe passt nicht – café 日本語 🎉";
    let text = "Die Größe ist falsch.\nUn café, s'il vous plaît.\n日本語のテキストです。\r\n\tEmoji: 🎉👍🏽 — ünïcödé";
    let uni = ticket(s, b.id, subject, text, t(20)).await;
    assert_eq!(uni.subject, subject);
    assert_eq!(s.get_ticket(uni.id).await.unwrap().subject, subject);
    assert_eq!(s.messages(uni.id).await.unwrap()[0].body, text);
    assert_eq!(search_ids(s, "größe", None).await, vec![uni.id]);
    assert_eq!(search_ids(s, "Größe", Some(b.id)).await, vec![uni.id]);
    assert_eq!(search_ids(s, "café", None).await, vec![uni.id]);
    assert_eq!(search_ids(s, "日本語", None).await, vec![uni.id]);
    assert_eq!(
        search_ids(s, "Größe", Some(a.id)).await,
        Vec::<TicketId>::new()
    );

    // SQL and HTML metacharacters are data.
    let subject = "<script>alert('x')</script> & \"quotes\"; DROP TABLE tickets; -- %_ \\ $1 ?";
    let text = "Robert'); DROP TABLE tickets;--\n<b>bold</b> &amp; &lt;tag&gt; 100% _x_ \\n $1 $$ ? :name @p0 /* c */ `tick`";
    let meta = ticket(s, a.id, subject, text, t(30)).await;
    assert_eq!(s.get_ticket(meta.id).await.unwrap().subject, subject);
    assert_eq!(s.messages(meta.id).await.unwrap()[0].body, text);
    let reply = message(
        meta.id,
        MessageKind::Reply,
        Actor::Agent(grace.id),
        "It's \"fine\" -- <i>really</i>; DELETE FROM messages;",
        t(31),
    );
    let (stored, _) = s.add_message(reply).await.unwrap();
    assert_eq!(s.messages(meta.id).await.unwrap()[1], stored);
    assert_eq!(
        stored.body,
        "It's \"fine\" -- <i>really</i>; DELETE FROM messages;"
    );
    // (PostgreSQL's parser skips HTML tags and what is inside `<script>`, so search other words.)
    assert_eq!(
        search_ids(s, "quotes drop table", Some(a.id)).await,
        vec![meta.id]
    );
    assert_eq!(search_ids(s, "robert", None).await, vec![meta.id]);
    // A word too long for any index is still stored, and the rest of the text still found.
    let huge = format!("{} plus a zebra", "y".repeat(3000));
    let (stored, _) = s
        .add_message(message(
            meta.id,
            MessageKind::Inbound,
            Actor::Customer(a.id),
            &huge,
            t(32),
        ))
        .await
        .unwrap();
    assert_eq!(s.messages(meta.id).await.unwrap()[2].body, huge);
    assert_eq!(stored.body, huge);
    assert_eq!(search_ids(s, "zebra", Some(a.id)).await, vec![meta.id]);
    assert_eq!(s.count_rows("tickets").await.unwrap(), 12);
    assert_eq!(s.count_rows("messages").await.unwrap(), 15);
}
