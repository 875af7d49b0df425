//! The coach speaks to people: flags carry advice as a label, the need hint names the
//! need's missing words under a label saying so, and examples fit the ticket.

use recourse_judge::{CoachFlag, CoachInput, FlagKind, coach, read};

fn find(flags: &[CoachFlag], kind: FlagKind) -> &CoachFlag {
    flags
        .iter()
        .find(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("{kind:?} not in {flags:#?}"))
}

#[test]
fn labels_read_as_advice_not_identifiers() {
    let defensive = coach(&CoachInput {
        draft: "That is not our fault. Our system is working fine.",
        customer: None,
        need: Some("refund"),
    });
    assert_eq!(
        find(&defensive, FlagKind::RespondsInKind).label,
        "Sounds defensive"
    );
    let sarcastic = coach(&CoachInput {
        draft: "As I already explained, read the manual.",
        customer: None,
        need: Some("manual"),
    });
    assert_eq!(
        find(&sarcastic, FlagKind::RespondsInKind).label,
        "Sounds sarcastic"
    );
    for kind in [
        FlagKind::RespondsInKind,
        FlagKind::NoAcknowledgement,
        FlagKind::NoOption,
        FlagKind::BlamesCustomer,
        FlagKind::RefusalWithoutReason,
        FlagKind::FobOff,
        FlagKind::NeedNotAddressed,
        FlagKind::PromiseWithoutTime,
    ] {
        let label = kind.label();
        assert!(!label.contains('_'), "{label}");
        assert!(label.chars().next().unwrap().is_uppercase(), "{label}");
        assert_ne!(label.to_lowercase(), kind.as_str().replace('_', " "));
    }
    // The identifier stays stable in JSON, next to the label.
    let json = serde_json::to_value(&defensive).unwrap();
    assert_eq!(json[0]["kind"], "responds_in_kind");
    assert_eq!(json[0]["label"], "Sounds defensive");
}

#[test]
fn the_need_hint_lists_the_missing_words_under_a_label() {
    let flags = coach(&CoachInput {
        draft: "I can send you a discount voucher today.",
        customer: None,
        need: Some("blender repaired under warranty"),
    });
    let f = find(&flags, FlagKind::NeedNotAddressed);
    assert_eq!(f.missing, ["blender", "repaired", "under", "warranty"]);
    assert!(
        f.hint
            .contains("Need words missing from the draft: blender, repaired, under, warranty"),
        "{}",
        f.hint
    );
    // The need's words are not in the draft, so they are not shown as its evidence.
    assert!(f.evidence.is_empty());
    // A draft that answers the need gets no such flag.
    let answered = coach(&CoachInput {
        draft: "I can book the blender repair under warranty for Friday.",
        customer: None,
        need: Some("blender repaired under warranty"),
    });
    assert!(
        !answered
            .iter()
            .any(|f| f.kind == FlagKind::NeedNotAddressed)
    );
    // Without a recorded need the label asks for one.
    let none = coach(&CoachInput {
        draft: "I can book the repair for Friday.",
        customer: None,
        need: None,
    });
    assert_eq!(
        find(&none, FlagKind::NeedNotAddressed).label,
        "Record what they need"
    );
}

#[test]
fn examples_fit_the_ticket() {
    let upset = read("My blender stopped working after a week. Really disappointed.");
    assert!(upset.label.is_negative(), "{upset:?}");
    let blender = coach(&CoachInput {
        draft: "Noted.",
        customer: Some(&upset),
        need: Some("blender repaired"),
    });
    for kind in [FlagKind::NoAcknowledgement, FlagKind::NoOption] {
        let hint = &find(&blender, kind).hint;
        for word in ["parcel", "delivery", "order", "arrived"] {
            assert!(
                !hint.contains(word),
                "{kind:?} hint {hint:?} mentions {word}"
            );
        }
    }
    assert!(find(&blender, FlagKind::NoOption).hint.contains("repair"));

    let late = read("Where is my parcel? Still waiting after two weeks!");
    let parcel = coach(&CoachInput {
        draft: "Noted.",
        customer: Some(&late),
        need: Some("parcel delivered"),
    });
    let hint = &find(&parcel, FlagKind::NoAcknowledgement).hint;
    assert!(hint.contains("order still hasn't reached you"), "{hint}");

    let locked = read("I can't log in and nobody answers. This is ridiculous.");
    let account = coach(&CoachInput {
        draft: "Noted.",
        customer: Some(&locked),
        need: Some("access to my account"),
    });
    let hint = &find(&account, FlagKind::NoAcknowledgement).hint;
    assert!(hint.contains("locked out"), "{hint}");
}
