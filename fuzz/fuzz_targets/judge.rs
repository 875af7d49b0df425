//! The judge on arbitrary text: quote stripping, the reading (full and lexicon-only)
//! and the reply coach. Nothing may panic, the same text must always get the same
//! reading, and the reading's numbers must stay in their documented ranges.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recourse_judge::{
    CoachInput, Reading, coach, customer_demeanor, new_text, read, read_baseline,
};

fn check(r: &Reading, text: &str) {
    assert!(
        (-1.0..=1.0).contains(&r.valence),
        "valence {} out of range for {text:?}",
        r.valence
    );
    assert!(
        (0.0..=1.0).contains(&r.confidence),
        "confidence {} out of range for {text:?}",
        r.confidence
    );
    assert!(
        (0.0..=1.0).contains(&r.offensive),
        "offensive {} out of range for {text:?}",
        r.offensive
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // One input gives the three texts the coach looks at: the customer's message, the
    // agent's draft and the ticket's need, split at the first two U+0001 characters.
    let mut parts = text.splitn(3, '\u{1}');
    let customer = parts.next().unwrap_or("");
    let draft = parts.next().unwrap_or(customer);
    let need = parts.next();

    let fresh = new_text(customer);
    let reading = read(&fresh);
    check(&reading, &fresh);
    assert_eq!(
        reading,
        read(&fresh),
        "the same text read twice differently"
    );
    check(&read_baseline(customer), customer);
    let _ = customer_demeanor(customer);

    for flag in coach(&CoachInput {
        draft,
        customer: Some(&reading),
        need,
    }) {
        assert!(
            !flag.explanation.is_empty() && !flag.hint.is_empty(),
            "{flag:?}"
        );
    }
    let _ = coach(&CoachInput {
        draft,
        customer: None,
        need: None,
    });
});
