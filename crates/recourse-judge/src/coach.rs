//! The reply coach: advice on an agent's draft (DESIGN.md P1, P2, P6, P7). It never
//! blocks sending; each flag explains itself and suggests a way to rewrite.

use std::sync::OnceLock;

use serde::Serialize;

use crate::lexicon::lexicon;
use crate::phrase::{Match, Phrases, words_of};
use crate::text::{Tokens, tokenize};
use crate::{Label, Reading, SignalKind};

/// What the coach looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoachInput<'a> {
    /// The agent's draft reply.
    pub draft: &'a str,
    /// The reading of the customer's latest message, if there is one.
    pub customer: Option<&'a Reading>,
    /// The ticket's need ("refund for the damaged kettle"), if recorded.
    pub need: Option<&'a str>,
}

/// A kind of advice.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    RespondsInKind,
    NoAcknowledgement,
    NoOption,
    BlamesCustomer,
    RefusalWithoutReason,
    FobOff,
    NeedNotAddressed,
    PromiseWithoutTime,
}

impl FlagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::RespondsInKind => "responds_in_kind",
            FlagKind::NoAcknowledgement => "no_acknowledgement",
            FlagKind::NoOption => "no_option",
            FlagKind::BlamesCustomer => "blames_customer",
            FlagKind::RefusalWithoutReason => "refusal_without_reason",
            FlagKind::FobOff => "fob_off",
            FlagKind::NeedNotAddressed => "need_not_addressed",
            FlagKind::PromiseWithoutTime => "promise_without_time",
        }
    }

    /// A short piece of advice for people to read (the identifier is [`FlagKind::as_str`]).
    pub fn label(self) -> &'static str {
        match self {
            FlagKind::RespondsInKind => "Sounds defensive",
            FlagKind::NoAcknowledgement => "Acknowledge how they feel",
            FlagKind::NoOption => "Offer something concrete",
            FlagKind::BlamesCustomer => "Sounds like blame",
            FlagKind::RefusalWithoutReason => "Say why not",
            FlagKind::FobOff => "Explain the hand-over",
            FlagKind::NeedNotAddressed => "Answer what they need",
            FlagKind::PromiseWithoutTime => "Say when",
        }
    }
}

/// One piece of advice on a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoachFlag {
    /// The stable identifier (serialised in snake case).
    pub kind: FlagKind,
    /// The advice in a few words, for people ("Sounds defensive"); usually
    /// [`FlagKind::label`], more specific where the draft shows which it is.
    pub label: &'static str,
    /// What the coach noticed, in a sentence.
    pub explanation: String,
    /// How the draft could be rewritten.
    pub hint: String,
    /// The words of the draft that raised the flag (may be empty).
    pub evidence: Vec<String>,
    /// Words the draft is missing: for [`FlagKind::NeedNotAddressed`], the need's words
    /// that the draft does not mention (empty for the other flags).
    pub missing: Vec<String>,
}

/// Phrase groups the coach looks for in drafts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Sarcasm,
    Defensive,
    Acknowledge,
    NonApology,
    Option,
    Blame,
    Refusal,
    Reason,
    Redirect,
    RedirectWhy,
    RedirectHow,
    Promise,
    Time,
}

const SARCASM: &[&str] = &[
    "obviously",
    "clearly you",
    "as i|we ~ already said|stated|mentioned|explained|told",
    "as previously said|stated|mentioned|explained",
    "per my last email|message",
    "if you had bothered",
    "with all due respect",
    "calm down",
    "no need to be rude|shout|shouting",
    "don't|do not appreciate your tone",
    "your tone",
    "not sure what you expect|expected",
    "good luck with that",
    "read the manual|faq|instructions",
    "not rocket science",
    "learn to read",
    "for the last|third|hundredth time",
];

const DEFENSIVE: &[&str] = &[
    "not our|my fault|problem|responsibility|issue",
    "not responsible|liable",
    "not to blame",
    "nothing to do with us|me",
    "we|i did nothing wrong",
    "we|i have done nothing wrong",
    "our system|systems|product|service ~ working fine|correctly|properly|perfectly",
    "there is|there's nothing wrong with",
    "we did everything right",
    "just how it is",
    "not my job|department",
];

const ACKNOWLEDGE: &[&str] = &[
    "sorry|apologies|apologise|apologize|apologising|apologizing|regret|regrets",
    "understand|understandable|frustrating|frustrated|frustration|annoying|disappointing|disappointed|upsetting|inconvenience|inconvenient",
    "i can see|imagine",
    "i hear you",
    "you're|you are right",
    "fair point",
    "not good enough",
    "not the experience|service",
    "shouldn't|should not have happened",
    "let you down",
    "for your patience",
    "for bearing with",
    "appreciate your patience",
];

const NON_APOLOGY: &[&str] = &[
    "sorry|apologise|apologize you feel|think|believe",
    "sorry if|that you feel|felt|think",
    "apologies if|that you feel|felt",
    "sorry but",
];

const OPTION: &[&str] = &[
    "i|we can|could|will|'ll ~ offer|send|refund|replace|arrange|book|credit|give|issue|reset|set|call|ship|swap|exchange|waive|extend|upgrade|fix|escalate|reactivate|restore|check|sort|do|get|help|cancel|change|update|reorder|resend|add|apply|take|move|process|pay|cover|transfer|investigate|look|schedule",
    "i'll|we'll|i'd|we'd ~ offer|send|refund|replace|arrange|book|credit|give|issue|reset|set|call|ship|swap|exchange|waive|extend|upgrade|fix|escalate|reactivate|restore|check|sort|do|get|help|cancel|change|update|reorder|resend|add|apply|take|move|process|pay|cover|transfer|investigate|look|schedule",
    "i|we have|'ve ~ refunded|sent|issued|arranged|booked|credited|replaced|reset|escalated|scheduled|applied|cancelled|canceled|processed|reactivated|restored|added|extended|upgraded|fixed|waived|ordered|dispatched|shipped",
    "i've|we've ~ refunded|sent|issued|arranged|booked|credited|replaced|reset|escalated|scheduled|applied|cancelled|canceled|processed|reactivated|restored|added|extended|upgraded|fixed|waived|ordered|dispatched|shipped",
    "would you like|prefer",
    "happy|glad to",
    "here's|here is what",
    "your options|choices",
    "option|options|alternatively|instead",
    "let me",
    "i'm|i am|we're|we are going to",
    "refund|replacement|credit|discount|voucher|compensation|callback|workaround",
    "you can|could ~ choose|pick|select|have|get|keep|return|use",
];

const BLAME: &[&str] = &[
    "you should have",
    "you should've",
    "you didn't|never ~ read|follow|check|enter|provide|fill|update|pay|click|save|install|contact|tell|include|attach|select|back|backup|register|activate|confirm",
    "you did not ~ read|follow|check|enter|provide|fill|update|pay|click|save|install|contact|tell|include|attach|select|back|backup|register|activate|confirm",
    "you failed|forgot|neglected to ~ read|follow|check|enter|provide|fill|update|pay|click|save|install|contact|tell|include|attach|select|back|backup|register|activate|confirm",
    "your own fault|mistake|error",
    "your fault|mistake|error",
    "user error",
    "if you had ~ read|followed|checked|bothered|listened|paid",
    "you must have ~ done|entered|deleted|clicked|broken|dropped|misread|typed",
    "you entered|typed|gave|provided|chose|selected ~ wrong|incorrect|invalid",
    "as you were told",
    "you were told|warned",
    "you ignored",
    "you caused",
    "caused by you|yourself",
    "you broke|damaged|misused",
];

const REFUSAL: &[&str] = &[
    "can't|cannot|won't|don't|couldn't ~ offer|refund|do|help|accept|process|give|provide|make|change|replace|exchange|issue|honour|honor|extend|cancel|allow|reimburse|compensate|waive|approve|send|ship",
    "can|do|will|could not ~ offer|refund|do|help|accept|process|give|provide|make|change|replace|exchange|issue|honour|honor|extend|cancel|allow|reimburse|compensate|waive|approve|send|ship",
    "unable to ~ offer|refund|do|help|accept|process|give|provide|make|change|replace|exchange|issue|honour|honor|extend|cancel|allow|reimburse|compensate|waive|approve|send|ship",
    "not able to ~ offer|refund|do|help|accept|process|give|provide|make|change|replace|exchange|issue|honour|honor|extend|cancel|allow|reimburse|compensate|waive|approve|send|ship",
    "not possible",
    "no refund|refunds|exchange|exchanges|returns",
    "request ~ denied|declined|rejected|refused",
    "i'm|i am afraid not",
    "not eligible|entitled",
    "we|i refuse|decline",
    "nothing ~ we|i can do",
];

const REASON: &[&str] = &[
    "because|since|due|reason|so that|otherwise|means",
    "as the|our|your|it|this|we|they|these|those|that",
    "policy|law|laws|legal|legally|regulation|regulations|regulator|terms|contract|warranty|licence|license|gdpr|security|safety|fraud",
    "in order to",
    "which means",
];

const REDIRECT: &[&str] = &[
    "contact|call|email|phone|ring|ask ~ your|the|another|our|a ~ manufacturer|bank|courier|carrier|department|team|seller|provider|store|shop|retailer|supplier|insurer|landlord|airline|vendor|sales|billing|support|maker|agency|office|company|developer|publisher|isp|network|them",
    "reach|speak|talk|write|touch ~ to|with|out ~ your|the|another|our|a ~ manufacturer|bank|courier|carrier|department|team|seller|provider|store|shop|retailer|supplier|insurer|landlord|airline|vendor|sales|billing|support|maker|agency|office|company|developer|publisher|isp|network|them",
    "need|have|must|should ~ to contact|call|ask|speak|reach|talk|raise|write",
    "take it up with",
    "a question for",
    "not our|my department|area|responsibility",
    "someone else",
    "another department|team",
    "pass|passed|forward|forwarded ~ this|it ~ on|to",
];

const REDIRECT_WHY: &[&str] = &[
    "because|since|as ~ they|only|the|it",
    "they hold|handle|own|can|are|have|manage|control|look|deal|issue|process",
    "who can|will|handle|handles|deal|deals|own|owns|hold|holds|manages|manage",
    "only they",
    "the only ones",
    "so they|that they",
    "responsible for",
    "in charge of",
];

const REDIRECT_HOW: &[&str] = &[
    "on|at|via ~ 0*|1*|2*|3*|4*|5*|6*|7*|8*|9*|http*|www*",
    "number|address|form|link|portal|website|page|url|com|org|net|io",
    "i've|i have|we've|we have ~ already ~ contacted|passed|forwarded|sent|introduced|copied|called|spoken|told|informed|cc'd|included|shared|given",
    "i'll|i will|we'll|we will ~ contact|introduce|pass|forward|call|ring|email|brief|connect|put|transfer|copy",
    "here is|here's",
    "reach them",
    "their contact|details",
];

const PROMISE: &[&str] = &[
    "i'll|we'll ~ get|come|be|look|follow|update|send|call|arrange|fix|sort|check|investigate|find|have|ship|refund|chase|confirm|let|keep|make",
    "i|we will|shall ~ get|come|be|look|follow|update|send|call|arrange|fix|sort|check|investigate|find|have|ship|refund|chase|confirm|let|keep|make",
    "i'm|i am|we're|we are going to",
    "will be ~ sent|fixed|resolved|refunded|processed|shipped|delivered|credited|replaced|updated|corrected|looked|sorted|dispatched",
    "get back to you",
    "look|looking into",
    "follow up|follow-up",
    "be in touch",
    "keep you posted|updated|informed",
    "call you back",
];

const TIME: &[&str] = &[
    "today|tonight|tomorrow|eod|cob|noon|midnight|lunchtime|o'clock|am|pm|hour|hours|minute|minutes|days|weeks|months|within",
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend",
    "january|february|april|june|july|august|september|october|november|december",
    "0*|1*|2*|3*|4*|5*|6*|7*|8*|9*",
    "this|next morning|afternoon|evening|week|month",
    "end of",
    "first thing",
    "straight away|after",
    "right away|now",
];

fn cues() -> &'static Phrases<Cue> {
    static CUES: OnceLock<Phrases<Cue>> = OnceLock::new();
    CUES.get_or_init(|| {
        Phrases::new(&[
            (Cue::Sarcasm, SARCASM),
            (Cue::Defensive, DEFENSIVE),
            (Cue::Acknowledge, ACKNOWLEDGE),
            (Cue::NonApology, NON_APOLOGY),
            (Cue::Option, OPTION),
            (Cue::Blame, BLAME),
            (Cue::Refusal, REFUSAL),
            (Cue::Reason, REASON),
            (Cue::Redirect, REDIRECT),
            (Cue::RedirectWhy, REDIRECT_WHY),
            (Cue::RedirectHow, REDIRECT_HOW),
            (Cue::Promise, PROMISE),
            (Cue::Time, TIME),
        ])
    })
}

struct Found<'t> {
    tokens: &'t Tokens,
    matches: Vec<Match<Cue>>,
}

impl Found<'_> {
    fn any(&self, cue: Cue) -> bool {
        self.matches.iter().any(|m| m.label == cue)
    }

    fn evidence(&self, cue: Cue) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in self.matches.iter().filter(|m| m.label == cue) {
            let w = words_of(self.tokens, m.start, m.end);
            if !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }

    /// Sentence number of each token.
    fn sentence_of(&self) -> Vec<u32> {
        let mut s = 0;
        self.tokens
            .toks
            .iter()
            .map(|t| {
                let here = s;
                if t.sentence_end {
                    s += 1;
                }
                here
            })
            .collect()
    }
}

fn flag(kind: FlagKind, explanation: &str, hint: &str, evidence: Vec<String>) -> CoachFlag {
    CoachFlag {
        kind,
        label: kind.label(),
        explanation: explanation.to_owned(),
        hint: hint.to_owned(),
        evidence,
        missing: Vec::new(),
    }
}

/// What a ticket is about, as far as the coach's examples go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    Delivery,
    Refund,
    Replacement,
    Account,
    Cancellation,
    Billing,
    Repair,
    Other,
}

/// The ticket's topic, from the first need word that belongs to one of the coach's
/// synonym groups ([`SYNONYMS`], same order as [`Topic`]).
fn topic(need: Option<&str>) -> Topic {
    const TOPICS: [Topic; 7] = [
        Topic::Refund,
        Topic::Replacement,
        Topic::Delivery,
        Topic::Account,
        Topic::Cancellation,
        Topic::Billing,
        Topic::Repair,
    ];
    let Some(need) = need else {
        return Topic::Other;
    };
    let tokens = tokenize(need, lexicon());
    for i in 0..tokens.len() {
        let w = tokens.word(i);
        if is_stopword(w) {
            continue;
        }
        for (group, topic) in SYNONYMS.iter().zip(TOPICS) {
            if group.iter().any(|s| w.starts_with(s)) {
                return topic;
            }
        }
    }
    Topic::Other
}

/// An opening that acknowledges the customer, fitted to the ticket: what it is about
/// (from the need) and whether the customer has been waiting or chasing.
fn acknowledgement_example(topic: Topic, customer: Option<&Reading>) -> &'static str {
    let chased = customer.is_some_and(|r| r.has(SignalKind::RepeatedContact));
    let waited = customer.is_some_and(|r| r.has(SignalKind::Waiting));
    match topic {
        Topic::Delivery if waited || chased => {
            "I'm sorry your order still hasn't reached you and that you've had to chase us for it."
        }
        Topic::Delivery => {
            "I'm sorry your order hasn't reached you yet; I know you were counting on it."
        }
        Topic::Refund if waited || chased => {
            "I'm sorry you're still waiting for your money and have had to chase us for it."
        }
        Topic::Refund => "I'm sorry you're out of pocket over this; that shouldn't have happened.",
        Topic::Replacement => {
            "I'm sorry you still don't have one that works; that's not what you paid for."
        }
        Topic::Account => {
            "I'm sorry you've been locked out; that's really frustrating when you need it."
        }
        Topic::Cancellation => "I'm sorry cancelling has been this hard; it should be simple.",
        Topic::Billing => "I'm sorry about the mistake on your bill; I can see why you're upset.",
        Topic::Repair => "I'm sorry it stopped working; that's not what you paid for.",
        Topic::Other if chased => "I'm sorry you've had to contact us again about this.",
        Topic::Other if waited => "I'm sorry you've been kept waiting so long for an answer.",
        Topic::Other => {
            "I'm sorry this has caused you so much trouble; I can see why you're frustrated."
        }
    }
}

/// A concrete offer in the "I can … for you" form, fitted to the ticket's topic.
fn option_example(topic: Topic) -> &'static str {
    match topic {
        Topic::Delivery => {
            "I can send it again by express delivery, or refund you today, whichever you prefer."
        }
        Topic::Refund => {
            "I can process the refund today; it should reach your card within three working days."
        }
        Topic::Replacement => {
            "I can send a replacement today, or refund you in full, whichever you prefer."
        }
        Topic::Account => "I can reset your access now and stay with you while you sign in.",
        Topic::Cancellation => "I can cancel it today and confirm by email within the hour.",
        Topic::Billing => "I can correct the bill and credit the difference to your account today.",
        Topic::Repair => {
            "I can book a repair this week, or send a replacement, whichever suits you."
        }
        Topic::Other => "I can look into this today and call you back by 5 pm with an answer.",
    }
}

/// Advice on a draft reply. Flags come in [`FlagKind`] order; an empty list means the
/// coach has nothing to add.
pub fn coach(input: &CoachInput) -> Vec<CoachFlag> {
    let lex = lexicon();
    let tokens = tokenize(input.draft, lex);
    let mut found = Found {
        tokens: &tokens,
        matches: Vec::new(),
    };
    cues().find(&tokens, &mut found.matches);
    let draft_reading = crate::read_tokens(input.draft, &tokens);
    let upset = input.customer.is_some_and(|r| r.label.is_negative());
    let pleased = input.customer.is_some_and(|r| r.label == Label::Pleased);
    let mut flags = Vec::new();

    // Hostile, sarcastic or defensive tone. Words like "annoying" are left out: in a
    // draft they usually acknowledge the customer's feelings rather than show the agent's.
    let mut hostile: Vec<String> = draft_reading
        .signals
        .iter()
        .filter(|s| {
            matches!(
                s.kind,
                SignalKind::PersonalInsult | SignalKind::Profanity | SignalKind::Shouting
            )
        })
        .flat_map(|s| s.words.iter().cloned())
        .collect();
    let rude = !hostile.is_empty();
    hostile.extend(found.evidence(Cue::Sarcasm));
    hostile.extend(found.evidence(Cue::Defensive));
    hostile.extend(found.evidence(Cue::NonApology));
    if !hostile.is_empty() || draft_reading.label == Label::Abusive {
        // Name what it sounds like, most serious first.
        let label = if rude || draft_reading.label == Label::Abusive {
            "Sounds hostile"
        } else if found.any(Cue::Sarcasm) {
            "Sounds sarcastic"
        } else {
            FlagKind::RespondsInKind.label()
        };
        let mut f = flag(
            FlagKind::RespondsInKind,
            "The draft sounds hostile, sarcastic or defensive, which tends to escalate things.",
            "Drop the edge: say plainly what happened and what you will do, without judging the customer's tone.",
            hostile,
        );
        f.label = label;
        flags.push(f);
    }

    // An upset customer first needs to hear that they were heard.
    let acknowledges = found.matches.iter().any(|m| {
        m.label == Cue::Acknowledge
            && !found
                .matches
                .iter()
                .any(|n| n.label == Cue::NonApology && n.start <= m.start && m.start < n.end)
    });
    let need = input.need.map(str::trim).filter(|n| !n.is_empty());
    let topic = topic(need);
    if upset && !acknowledges {
        flags.push(flag(
            FlagKind::NoAcknowledgement,
            "The customer is upset and the draft does not acknowledge how they feel.",
            &format!(
                "Open with a sentence that names the problem and its impact on them, e.g. \"{}\"",
                acknowledgement_example(topic, input.customer)
            ),
            Vec::new(),
        ));
    }

    if !pleased && !found.any(Cue::Option) {
        flags.push(flag(
            FlagKind::NoOption,
            "The draft offers nothing concrete the customer can accept or choose.",
            &format!(
                "Add at least one specific thing you can do, or two options to choose from, e.g. \"{}\"",
                option_example(topic)
            ),
            Vec::new(),
        ));
    }

    let blame = found.evidence(Cue::Blame);
    if !blame.is_empty() {
        flags.push(flag(
            FlagKind::BlamesCustomer,
            "The draft puts the fault on the customer.",
            "Describe what happened and the way forward without saying whose fault it was.",
            blame,
        ));
    }

    let sentence = found.sentence_of();
    // A reason counts when it is in the refusal's sentence or the next one.
    let reasoned = |m: &Match<Cue>| {
        let s = sentence[m.start];
        found.matches.iter().any(|r| {
            r.label == Cue::Reason && (sentence[r.start] == s || sentence[r.start] == s + 1)
        })
    };
    let bare_refusals: Vec<String> = found
        .matches
        .iter()
        .filter(|m| m.label == Cue::Refusal && !reasoned(m))
        .map(|m| words_of(&tokens, m.start, m.end))
        .collect();
    if !bare_refusals.is_empty() {
        flags.push(flag(
            FlagKind::RefusalWithoutReason,
            "The draft says no without saying why.",
            "Give the actual reason (a law, a policy and its purpose, a technical limit, a third party) and offer what you can do instead.",
            dedup(bare_refusals),
        ));
    }

    if found.any(Cue::Redirect) {
        let why = found.any(Cue::RedirectWhy) || found.any(Cue::Reason);
        let how = found.any(Cue::RedirectHow);
        if !why || !how {
            let missing = match (why, how) {
                (false, false) => "why and how",
                (false, true) => "why",
                _ => "how",
            };
            flags.push(CoachFlag {
                kind: FlagKind::FobOff,
                label: FlagKind::FobOff.label(),
                explanation: format!(
                    "The draft sends the customer elsewhere without saying {missing}."
                ),
                hint: "Say why they are the right people, how to reach them (or that you have already passed it on), and what to do if that fails.".to_owned(),
                evidence: found.evidence(Cue::Redirect),
                missing: Vec::new(),
            });
        }
    }

    match need {
        None => {
            let mut f = flag(
                FlagKind::NeedNotAddressed,
                "The ticket has no need recorded yet, so the reply may miss what the customer wants.",
                "Find out and record what the customer needs, then answer that first.",
                Vec::new(),
            );
            f.label = "Record what they need";
            flags.push(f);
        }
        Some(need) => {
            if let Some(words) = need_missing(need, &tokens) {
                let mut f = flag(
                    FlagKind::NeedNotAddressed,
                    "The draft does not mention what the customer needs.",
                    &format!(
                        "Answer the recorded need (\"{need}\") directly, early in the reply. Need words missing from the draft: {}.",
                        words.join(", ")
                    ),
                    Vec::new(),
                );
                f.missing = words;
                flags.push(f);
            }
        }
    }

    let timed: Vec<u32> = found
        .matches
        .iter()
        .filter(|m| m.label == Cue::Time)
        .map(|m| sentence[m.start])
        .collect();
    let untimed: Vec<String> = found
        .matches
        .iter()
        .filter(|m| m.label == Cue::Promise)
        .filter(|m| {
            let s = sentence[m.start];
            !timed.iter().any(|t| *t == s || *t == s + 1)
        })
        .map(|m| words_of(&tokens, m.start, m.end))
        .collect();
    if !untimed.is_empty() {
        flags.push(flag(
            FlagKind::PromiseWithoutTime,
            "The draft promises something without saying when.",
            "Give a time you can keep (\"by Thursday 5 pm\", \"within two working days\").",
            dedup(untimed),
        ));
    }
    flags.sort_by_key(|f| f.kind);
    flags
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(v.len());
    v.retain(|w| {
        if seen.contains(w) {
            false
        } else {
            seen.push(w.clone());
            true
        }
    });
    v
}

/// Words too common to show that a draft addresses a need.
fn is_stopword(w: &str) -> bool {
    w.len() < 3
        || matches!(
            w,
            "the"
                | "and"
                | "for"
                | "with"
                | "that"
                | "this"
                | "from"
                | "their"
                | "them"
                | "they"
                | "wants"
                | "want"
                | "needs"
                | "need"
                | "customer"
                | "would"
                | "like"
                | "about"
                | "have"
                | "has"
                | "her"
                | "his"
                | "our"
                | "your"
                | "not"
                | "but"
                | "are"
                | "was"
                | "were"
                | "will"
                | "can"
                | "please"
                | "get"
                | "how"
                | "why"
                | "what"
        )
}

/// Synonym groups, so "money back" answers a need for a "refund".
const SYNONYMS: &[&[&str]] = &[
    &["refund", "money", "reimburs", "repay", "credit"],
    &["replac", "exchang", "swap", "new"],
    &[
        "deliver", "parcel", "package", "shipping", "shipment", "arriv", "courier", "dispatch",
    ],
    &["password", "login", "log", "sign", "account", "access"],
    &["cancel", "terminat", "close"],
    &["invoice", "bill", "charge", "payment", "paid"],
    &["repair", "fix", "broken", "faulty"],
];

fn stem(w: &str) -> &str {
    let end = w.char_indices().nth(6).map_or(w.len(), |(i, _)| i);
    &w[..end]
}

fn related(a: &str, b: &str) -> bool {
    if stem(a) == stem(b) {
        return true;
    }
    SYNONYMS.iter().any(|group| {
        group.iter().any(|s| a.starts_with(s)) && group.iter().any(|s| b.starts_with(s))
    })
}

/// The need's content words when none of them (or a related word) is in the draft.
fn need_missing(need: &str, draft: &Tokens) -> Option<Vec<String>> {
    let need_tokens = tokenize(need, lexicon());
    let words: Vec<&str> = (0..need_tokens.len())
        .map(|i| need_tokens.word(i))
        .filter(|w| !is_stopword(w))
        .collect();
    if words.is_empty() {
        return None;
    }
    let addressed = (0..draft.len()).any(|i| {
        let d = draft.word(i);
        !is_stopword(d) && words.iter().any(|w| related(w, d))
    });
    (!addressed).then(|| words.iter().map(|w| (*w).to_owned()).collect())
}
