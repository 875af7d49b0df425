//! Customer-domain complaint patterns (issue 16): each pattern with messages that show
//! it and near misses that must not, and politeness inside a complaint. The sentences
//! are written for these tests, in the way customers write to companies.

use recourse_judge::{Label, SignalKind, read};

fn has(text: &str, kind: SignalKind) -> bool {
    read(text).has(kind)
}

fn assert_signal(kind: SignalKind, yes: &[&str], no: &[&str]) {
    for t in yes {
        assert!(has(t, kind), "{kind:?} not found in {t:?}: {:?}", read(t));
    }
    for t in no {
        assert!(
            !has(t, kind),
            "{kind:?} wrongly found in {t:?}: {:?}",
            read(t)
        );
    }
}

fn assert_negative(texts: &[&str]) {
    for t in texts {
        let r = read(t);
        assert!(r.label.is_negative(), "{t:?} read as {:?}: {r:?}", r.label);
    }
}

fn assert_not_negative(texts: &[&str]) {
    for t in texts {
        let r = read(t);
        assert!(!r.label.is_negative(), "{t:?} read as {:?}: {r:?}", r.label);
    }
}

#[test]
fn service_failure_narratives() {
    assert_signal(
        SignalKind::ServiceFailure,
        &[
            "My flight to Leeds was cancelled this morning",
            "@airline you lost my luggage on the way to Rome",
            "The parcel still hasn't arrived",
            "Ordered on the 3rd and it's still not here",
            "You charged me twice for the same order",
            "I was double charged for my subscription",
            "They sent me the wrong size again",
            "The router stopped working after two days",
            "Our train was delayed and we missed our connection",
        ],
        &[
            "My flight to Leeds leaves at 9",
            "The parcel arrived this morning, thanks",
            "You charged the right amount",
            "The router is working fine now",
        ],
    );
    assert_negative(&[
        "My flight to Leeds was cancelled this morning and I'm stuck at the airport",
        "The parcel still hasn't arrived",
        "You charged me twice for the same order",
        "@airline you lost my luggage on the way to Rome",
    ]);
    assert_not_negative(&["The parcel arrived this morning, thanks"]);
}

#[test]
fn product_and_meal_let_downs() {
    assert_signal(
        SignalKind::ServiceFailure,
        &[
            "The soup was cold and the bread was stale",
            "Far too salty for me",
            "The handle broke after a week",
            "Not worth the money",
            "I would not recommend this blender",
            "We sent it back twice",
            "Poor quality stitching",
        ],
        &[
            "The soup was hot and the bread was fresh",
            "I would recommend this blender to anyone",
            "Worth every penny",
            "The handle is sturdy",
        ],
    );
    assert_negative(&[
        "The soup was cold and the bread was stale",
        "The handle broke after a week",
        "Not worth the money",
        "I would not recommend this blender",
    ]);
    assert_not_negative(&["I would recommend this blender to anyone"]);
}

#[test]
fn waiting() {
    assert_signal(
        SignalKind::Waiting,
        &[
            "I've been on hold for 45 minutes",
            "Still waiting for my refund",
            "We waited over two hours at the gate",
            "It has been three weeks now",
            "No update since Monday",
        ],
        &[
            "Please put the project on hold",
            "Refund received, cheers",
            "I'll wait for your call tomorrow",
        ],
    );
    assert_negative(&[
        "I've been on hold for 45 minutes",
        "Still waiting for my refund. It has been three weeks now",
    ]);
}

#[test]
fn repeated_contact_and_being_passed_around() {
    assert_signal(
        SignalKind::RepeatedContact,
        &[
            "This is the third time I've asked",
            "I have called you five times about this",
            "Nobody answers the phone",
            "No one replies to my emails",
            "I keep getting passed around between departments",
            "You transferred me again",
            "Sent three emails and no response",
        ],
        &[
            "This is the first time I've ordered from you",
            "Someone answered straight away",
            "You replied quickly, thank you",
        ],
    );
    assert_negative(&[
        "This is the third time I've asked about my order",
        "Nobody answers the phone",
        "I keep getting passed around between departments",
    ]);
}

#[test]
fn threats_to_leave_or_review_read_as_negative() {
    assert_negative(&[
        "Cancel my subscription, I'm switching to another provider",
        "I'll be leaving a review on Trustpilot about this",
    ]);
    assert_not_negative(&["Can I change the plan on my account?"]);
}

#[test]
fn exasperation_idioms_emoji_and_hashtags() {
    assert_signal(
        SignalKind::Exasperation,
        &[
            "This app is getting on my nerves",
            "You are killing me with these updates",
            "Delayed again 😡",
            "Another hour at the gate #fail",
            "Thanks for nothing",
            "What a joke",
        ],
        &[
            "This app is great",
            "Delayed again, no worries 😀",
            "Thanks for your help",
        ],
    );
    assert_negative(&[
        "This app is getting on my nerves",
        "You are killing me with these updates",
        "Another hour at the gate #fail",
        "Delayed again 😡",
    ]);
}

#[test]
fn politeness_inside_a_complaint_does_not_make_it_pleased() {
    let complaints = [
        "Thank you for your reply, but my parcel still hasn't arrived and it has been two weeks.",
        "Please can someone help, I've been charged twice and nobody answers the phone. Thanks",
        "Thanks in advance. My flight was cancelled and I have been on hold for an hour.",
        "I appreciate you looking into it, but this is the third time I've had to ask.",
    ];
    for t in complaints {
        let r = read(t);
        assert_ne!(r.label, Label::Pleased, "{t:?}: {r:?}");
        assert!(r.label.is_negative(), "{t:?}: {r:?}");
    }
    // Politeness on its own, or thanks for a fixed problem, still reads as it should.
    assert_eq!(
        read("Thank you so much, the replacement arrived today and works perfectly!").label,
        Label::Pleased
    );
    assert_not_negative(&["Please could you send me the invoice for March? Thank you"]);
}
