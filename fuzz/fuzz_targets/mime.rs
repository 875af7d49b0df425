//! The email pipeline's reading of a message on arbitrary bytes: MIME parsing, HTML to
//! text, classification (person, automatic reply, bounce), quote stripping, the judge,
//! and fitting subject and text to a ticket; then the threading helpers on what came
//! out. Nothing may panic, and what would reach a ticket must be valid for it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recourse_domain::{Body, Subject};
use recourse_mail::classify::{Class, classify};
use recourse_mail::mime::html_to_text;
use recourse_mail::pipeline::read_offline;
use recourse_mail::thread::{outbound_subject, subject_token, ticket_in_message_id};

/// `mime::parse` turns a panic inside the MIME parser into `ParseError::Damaged` (its
/// debug assertions fire on some damaged structures); let such panics unwind to it
/// instead of aborting here. Any other panic is still a crash.
fn contain_parser_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info
                .location()
                .is_some_and(|l| l.file().contains("/mail-parser-"))
            {
                return;
            }
            fuzzer_hook(info)
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    contain_parser_panics();
    // The last byte picks the SMTP envelope sender: none (IMAP), the null return path
    // `<>` that bounces come with, or an ordinary address. (The last, so that a real
    // message used as a seed loses only its final line end.)
    let Some((&which, raw)) = data.split_last() else {
        return;
    };
    let envelope = match which % 3 {
        0 => None,
        1 => Some(""),
        _ => Some("someone@example.com"),
    };
    if let Ok((parsed, class, demeanor, subject, body)) = read_offline(raw, envelope) {
        // Only mail from a person is judged.
        assert_eq!(demeanor.is_some(), class == Class::Person);
        assert_eq!(
            classify(&parsed, envelope),
            class,
            "classification is not stable"
        );
        // What reaches a ticket passes the domain's own checks.
        assert!(Subject::parse(subject.as_str()).is_ok(), "{subject:?}");
        assert!(Body::parse(body.as_str()).is_ok());
        assert!(!body.as_str().contains('\0'));
        if let Some(s) = parsed.subject.as_deref() {
            let ours = outbound_subject(s, 1042);
            assert!(ours.ends_with(" [#1042]"), "{ours:?}");
            // A reply that keeps our subject threads back to its ticket.
            assert_eq!(subject_token(&ours), Some(1042), "{ours:?}");
        }
        for id in parsed.references.iter().chain(&parsed.enclosed_message_ids) {
            let _ = ticket_in_message_id(id, "desk.example");
        }
        if let Class::Bounce(report) = &class {
            for id in &report.original_ids {
                let _ = ticket_in_message_id(id, "desk.example");
            }
        }
    }
    // HTML straight from the bytes, whatever the message around it.
    let _ = html_to_text(&String::from_utf8_lossy(raw));
});
