//! Hand-written examples for the reading and every coach flag (positive and negative),
//! plus quote stripping on the shared reply-body set when it is present.

use std::path::PathBuf;

use recourse_judge::{CoachInput, FlagKind, Label, Reading, SignalKind, coach, new_text, read};

fn label(text: &str) -> Label {
    read(text).label
}

#[test]
fn swearing_at_a_thing_is_angry_but_at_a_person_is_abusive() {
    let thing = read("this fucking app is broken again");
    assert_eq!(thing.label, Label::Angry, "{thing:?}");
    assert!(thing.has(SignalKind::Profanity));
    assert!(!thing.has(SignalKind::PersonalInsult));

    let person = read("you are a fucking idiot");
    assert_eq!(person.label, Label::Abusive, "{person:?}");
    assert!(person.has(SignalKind::PersonalInsult));
    assert_eq!(label("You're useless."), Label::Abusive);
}

#[test]
fn labels_across_the_range() {
    assert_eq!(
        label("Thank you so much, that was really helpful!"),
        Label::Pleased
    );
    assert_eq!(
        label("My order number is 4471 and the delivery address is 5 Mill Lane."),
        Label::Neutral
    );
    assert!(
        label("I'm still waiting for my refund and it's been three weeks. Very disappointed.")
            .is_negative()
    );
    assert_eq!(
        label("This is absolutely outrageous, I am furious. FIX IT NOW!!"),
        Label::Angry
    );
}

#[test]
fn negation_flips_the_reading() {
    let happy = read("I am happy with the replacement");
    let unhappy = read("I am not happy with the replacement");
    assert!(happy.valence > unhappy.valence, "{happy:?} vs {unhappy:?}");
    assert!(!happy.label.is_negative());
}

#[test]
fn emoji_count() {
    assert!(read("Arrived today 😀").valence > read("Arrived today").valence);
    assert!(read("Arrived today 😠").valence < read("Arrived today").valence);
}

#[test]
fn other_languages_are_neutral_with_low_confidence() {
    let r = read("Bonjour, mon colis n'est pas arrivé et je suis très déçu. This is unacceptable!");
    assert_eq!(r.language, "fr");
    assert_eq!(r.label, Label::Neutral);
    assert!(r.confidence < 0.5);
    let en = read("My parcel has not arrived and I am very disappointed.");
    assert_eq!(en.language, "en");
}

#[test]
fn readings_are_deterministic_and_serialise() {
    let text = "WHERE IS MY REFUND?? I will post a 1 star review";
    assert_eq!(read(text), read(text));
    let json = serde_json::to_value(read(text)).unwrap();
    assert_eq!(json["language"], "en");
    let kinds: Vec<&str> = json["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"threat_to_review") && kinds.contains(&"shouting"));
    assert_eq!("angry".parse::<Label>().unwrap(), Label::Angry);
    assert!("furious".parse::<Label>().is_err());
}

#[test]
fn quoted_anger_is_not_the_new_mood() {
    let body = "Thanks, that sorted it, much appreciated.\n\nOn Mon, 2 Mar 2026 at 09:00, Sam <sam@example.com> wrote:\n> This is a disgrace, you idiots have ruined my week!!\n> I am FURIOUS";
    let new = new_text(body);
    assert_eq!(new, "Thanks, that sorted it, much appreciated.");
    assert_eq!(read(&new).label, Label::Pleased);
    assert!(read(body).label.is_negative() || read(body).has(SignalKind::PersonalInsult));
}

// ---- the coach -----------------------------------------------------------------

fn flags(draft: &str, customer: Option<&Reading>, need: Option<&str>) -> Vec<FlagKind> {
    coach(&CoachInput {
        draft,
        customer,
        need,
    })
    .into_iter()
    .map(|f| f.kind)
    .collect()
}

const GOOD: &str = "I'm sorry the kettle arrived broken, that is really annoying. I can send a replacement kettle today by courier, or refund you in full, whichever you prefer.";

#[test]
fn a_good_draft_gets_no_flags() {
    let upset = read("The kettle arrived broken. Very disappointed.");
    assert!(upset.label.is_negative());
    let out = coach(&CoachInput {
        draft: GOOD,
        customer: Some(&upset),
        need: Some("replacement kettle"),
    });
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn responds_in_kind() {
    let hostile = flags(
        "As I already said, calm down. It's not our fault you can't read the manual.",
        None,
        Some("refund"),
    );
    assert!(hostile.contains(&FlagKind::RespondsInKind));
    let f = coach(&CoachInput {
        draft: "With all due respect, this is ridiculous.",
        customer: None,
        need: None,
    });
    let flag = f
        .iter()
        .find(|f| f.kind == FlagKind::RespondsInKind)
        .unwrap();
    assert!(flag.evidence.iter().any(|e| e == "with all due respect"));
    assert!(!flag.explanation.is_empty() && !flag.hint.is_empty());
    assert!(!flags(GOOD, None, Some("replacement")).contains(&FlagKind::RespondsInKind));
}

#[test]
fn no_acknowledgement() {
    let upset = read("This is the third time I've asked. Where is my refund?! Unacceptable.");
    assert!(upset.label.is_negative(), "{upset:?}");
    let draft = "I can issue the refund today.";
    assert!(flags(draft, Some(&upset), Some("refund")).contains(&FlagKind::NoAcknowledgement));
    let draft = "I'm sorry you had to ask three times. I can issue the refund today.";
    assert!(!flags(draft, Some(&upset), Some("refund")).contains(&FlagKind::NoAcknowledgement));
    // A non-apology does not count.
    let draft = "I'm sorry you feel that way. I can issue the refund today.";
    assert!(flags(draft, Some(&upset), Some("refund")).contains(&FlagKind::NoAcknowledgement));
    // A calm customer does not need it.
    let calm = read("Could you tell me when my refund will arrive?");
    assert!(
        !flags("I can issue the refund today.", Some(&calm), Some("refund"))
            .contains(&FlagKind::NoAcknowledgement)
    );
}

#[test]
fn no_option() {
    assert!(
        flags("Your ticket has been noted.", None, Some("ticket")).contains(&FlagKind::NoOption)
    );
    assert!(
        !flags(
            "I can reset the password for you now.",
            None,
            Some("password")
        )
        .contains(&FlagKind::NoOption)
    );
    assert!(
        !flags(
            "Would you like a replacement or a refund?",
            None,
            Some("refund")
        )
        .contains(&FlagKind::NoOption)
    );
}

#[test]
fn blames_customer() {
    let f = coach(&CoachInput {
        draft: "You should have read the instructions before plugging it in.",
        customer: None,
        need: Some("instructions"),
    });
    let flag = f
        .iter()
        .find(|f| f.kind == FlagKind::BlamesCustomer)
        .unwrap();
    assert_eq!(flag.evidence, ["you should have"]);
    assert!(
        flags(
            "You didn't attach the receipt, so it was rejected.",
            None,
            None
        )
        .contains(&FlagKind::BlamesCustomer)
    );
    assert!(
        !flags(
            "I see you didn't receive the parcel; I can resend it today.",
            None,
            Some("parcel")
        )
        .contains(&FlagKind::BlamesCustomer)
    );
}

#[test]
fn refusal_without_reason() {
    let bare = flags("We can't refund this order.", None, Some("refund"));
    assert!(bare.contains(&FlagKind::RefusalWithoutReason));
    let reasoned = flags(
        "We can't refund this order because the law treats opened software as used; I can offer a credit instead.",
        None,
        Some("refund"),
    );
    assert!(!reasoned.contains(&FlagKind::RefusalWithoutReason));
    assert!(!flags(GOOD, None, Some("kettle")).contains(&FlagKind::RefusalWithoutReason));
}

#[test]
fn fob_off() {
    let f = coach(&CoachInput {
        draft: "You'll need to contact the manufacturer.",
        customer: None,
        need: Some("repair"),
    });
    let flag = f.iter().find(|f| f.kind == FlagKind::FobOff).unwrap();
    assert!(flag.explanation.contains("why and how"), "{flag:?}");
    let explained = flags(
        "Please contact your bank, because only they can reverse a card payment; their fraud line is on 0800 123 456.",
        None,
        Some("payment reversed"),
    );
    assert!(!explained.contains(&FlagKind::FobOff));
    assert!(!flags(GOOD, None, Some("kettle")).contains(&FlagKind::FobOff));
}

#[test]
fn need_not_addressed() {
    assert!(flags(GOOD, None, None).contains(&FlagKind::NeedNotAddressed));
    assert!(flags(GOOD, None, Some("  ")).contains(&FlagKind::NeedNotAddressed));
    assert!(
        flags(GOOD, None, Some("update billing address")).contains(&FlagKind::NeedNotAddressed)
    );
    assert!(!flags(GOOD, None, Some("replacement kettle")).contains(&FlagKind::NeedNotAddressed));
    // Related words count: "refund" answers "money back".
    assert!(
        !flags(GOOD, None, Some("wants their money back")).contains(&FlagKind::NeedNotAddressed)
    );
}

#[test]
fn promise_without_time() {
    let f = coach(&CoachInput {
        draft: "I'll look into it and get back to you.",
        customer: None,
        need: None,
    });
    assert!(f.iter().any(|f| f.kind == FlagKind::PromiseWithoutTime));
    assert!(
        !flags(
            "I'll look into it and get back to you by 3 pm tomorrow.",
            None,
            None
        )
        .contains(&FlagKind::PromiseWithoutTime)
    );
    assert!(
        !flags("Here is the invoice you asked for.", None, None)
            .contains(&FlagKind::PromiseWithoutTime)
    );
}

#[test]
fn flags_serialise_in_snake_case() {
    let f = coach(&CoachInput {
        draft: "We will look into it.",
        customer: None,
        need: None,
    });
    let json = serde_json::to_value(&f).unwrap();
    let kinds: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"promise_without_time") && kinds.contains(&"need_not_addressed"));
}

// ---- the shared reply-body set ---------------------------------------------------

fn reply_bodies() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/email/reply-bodies/zapier-email-reply-parser");
    dir.is_dir().then_some(dir)
}

#[test]
fn zapier_reply_bodies() {
    let Some(dir) = reply_bodies() else {
        eprintln!("shared data not found; skipping");
        return;
    };
    let body = |name: &str| new_text(&std::fs::read_to_string(dir.join(name)).unwrap());
    let expected = [
        (
            "correct_sig.txt",
            "this is an email with a correct -- signature.",
        ),
        (
            "email_1_4.txt",
            "Awesome! I haven't had another problem with it.",
        ),
        ("email_1_6.txt", "I get proper rendering as well."),
        ("email_1_7.txt", ":+1:"),
        ("email_2_1.txt", "Outlook with a reply"),
        ("email_2_2.txt", "Outlook with a reply directly above line"),
        (
            "email_2_3.txt",
            "Outlook with a reply above headers using unusual format",
        ),
        ("email_BlackBerry.txt", "Here is another email"),
        ("email_iPhone.txt", "Here is another email"),
        (
            "email_multi_word_sent_from_my_mobile_device.txt",
            "Here is another email",
        ),
        ("email_headers_no_delimiter.txt", "And another reply!"),
        (
            "email_gmail.txt",
            "This is a test for inbox replying to a github message.",
        ),
        (
            "email_1_8.txt",
            "I will reply under this one\n\nand under this.",
        ),
    ];
    for (name, want) in expected {
        assert_eq!(body(name), want, "{name}");
    }
    assert!(body("email_1_2.txt").starts_with("Hi,\n\nYou can list the keys"));
    assert!(!body("email_1_2.txt").contains("Abhishek Kona wrote"));
    assert!(body("email_1_3.txt").ends_with("-Abhishek Kona"));
    assert!(body("email_1_1.txt").ends_with("-Abhishek Kona"));
    assert!(body("email_bullets.txt").ends_with("- and another"));
    assert!(body("pathological.txt").ends_with("get back to a computer."));
    assert!(body("greedy_on.txt").ends_with("the tunnel is not working."));
    assert!(body("email_one_is_not_on.txt").ends_with("Locally (on development), when I run..."));
    for keep in [
        "email_sent_from_my_not_signature.txt",
        "email_sig_delimiter_in_middle_of_line.txt",
        "email_1_5.txt",
    ] {
        let raw = std::fs::read_to_string(dir.join(keep)).unwrap();
        assert_eq!(body(keep), raw.trim_end(), "{keep}");
    }
}
