//! Inputs the fuzz targets (`fuzz/`, run by `bench/fuzz.sh`) found to crash, kept as
//! tests: each must now be read, or refused as unreadable, without a panic, and the
//! pipeline must still file the message (quarantined at worst, never lost).

use std::sync::Arc;

use recourse_mail::mime::{ParseError, parse};
use recourse_mail::pipeline::read_offline;
use recourse_mail::{Incoming, MailConfig, Pipeline};
use recourse_store::{MailState, Store};

/// The `mime` target's input: the message, then one byte that chose the envelope.
fn message(input: &[u8]) -> &[u8] {
    &input[..input.len() - 1]
}

/// A `message/rfc822` part straight after a boundary line with no line end: mail-parser
/// 0.11.9 panics ("Invalid part ID, could not find multipart") in builds with debug
/// assertions, as the tests are. Found by the `mime` target in its first minute.
const DAMAGED_MULTIPART: &[u8] = include_bytes!("fuzz/mime-damaged-multipart.eml");

#[test]
fn a_damaged_multipart_is_unreadable_not_a_panic() {
    let raw = message(DAMAGED_MULTIPART);
    match parse(raw) {
        Ok(_) | Err(ParseError::Damaged) => {}
        Err(e) => panic!("unexpected: {e}"),
    }
    let _ = read_offline(raw, None);
    let _ = read_offline(raw, Some(""));
}

#[tokio::test]
async fn a_damaged_multipart_is_filed_not_lost() {
    let dir = std::env::temp_dir().join(format!(
        "recourse-mail-fuzz-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let store: Arc<Store> = Arc::new(Store::sqlite(&dir.join("recourse.db")).await.unwrap());
    let pipeline = Pipeline::new(store.clone(), Arc::new(MailConfig::default()));
    let (_, state) = pipeline
        .deliver(Incoming {
            source: "smtp",
            envelope_from: Some("sender@example.net".into()),
            envelope_to: vec!["support@recourse.localhost".into()],
            raw: message(DAMAGED_MULTIPART).to_vec(),
        })
        .await
        .unwrap();
    let state = state.expect("handled");
    assert_ne!(state, MailState::Received);
    let all = store.inbound_mail(None, None, 10).await.unwrap();
    assert_eq!(all.len(), 1);
    if state == MailState::Quarantined {
        assert!(
            all[0]
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("damaged")),
            "{:?}",
            all[0].reason
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `mime` target's check that our own subject threads back to its ticket failed on
/// a subject that already carried a token: `Order [#7]` was answered as
/// `Re: Order [#7] [#1042]`, and a reply without In-Reply-To went to ticket 7.
#[test]
fn our_subject_threads_back_even_when_the_customer_typed_a_token() {
    use recourse_mail::thread::{outbound_subject, subject_token};
    for subject in ["Order [#7]", "[#7] and [# 8 ]", "Re: [#1042] [#99]", "[#x]"] {
        let ours = outbound_subject(subject, 1042);
        assert_eq!(subject_token(&ours), Some(1042), "{ours}");
    }
}
