//! Template variables on arbitrary strings: checking a desk template or a canned reply,
//! rendering it, and drafting the escalation handoff from it. Nothing may panic; an
//! accepted template rendered with empty values is never longer than its body, and
//! values (which may look like templates themselves) are pasted once, as text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recourse_domain::template::{HandoffFacts, TEMPLATE_KEYS, Template, draft_handoff};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    // The body, then (after U+0001) a value to fill in, which may itself look like a
    // template.
    let (body, value) = text.split_once('\u{1}').unwrap_or((&text, "{{subject}}"));
    let key = match which as usize % (TEMPLATE_KEYS.len() + 2) {
        i if i < TEMPLATE_KEYS.len() => TEMPLATE_KEYS[i].0,
        i if i == TEMPLATE_KEYS.len() => "canned_reply",
        _ => body.get(..body.len().min(16)).unwrap_or(""),
    };
    let parsed = if key == "canned_reply" {
        Template::canned_reply(body)
    } else {
        Template::parse(key, body)
    };
    let Ok(template) = parsed else {
        return;
    };
    assert_eq!(template.body(), body);

    // With empty values the result is the body less its variables: never longer.
    let empty = template.render(|_| String::new());
    assert!(empty.len() <= body.len(), "{body:?} rendered to {empty:?}");
    // A value is pasted once, as text: rendering it does not render it again.
    let calls = std::cell::Cell::new(0usize);
    let marked = template.render(|_| {
        calls.set(calls.get() + 1);
        "\u{2}".to_owned() + value + "\u{3}"
    });
    assert_eq!(
        marked.len(),
        empty.len() + calls.get() * (value.len() + 2),
        "{body:?} with {value:?} rendered to {marked:?}"
    );

    let facts = HandoffFacts {
        customer_name: Some(value),
        ticket_number: i64::from(which) - 128,
        subject: value,
        interventions: &[],
        next_person: Some(value),
        next_rung_title: value,
        reply_by: value,
        agent_name: None,
    };
    let _ = draft_handoff(&template, &facts);
});
