//! The demeanor judge and the reply coach (DESIGN.md §3, principles P1, P2, P9).
//!
//! [`read`] gives the customer's demeanor in a message: a valence, a label, the signals
//! with the words behind them, a confidence and the language. It combines a VADER-style
//! lexicon reading with a small hashed n-gram logistic-regression model whose weights
//! are compiled in (`model/`, produced by `recourse judge train`). [`new_text`] removes
//! quoted history and signatures first. [`coach`] advises on an agent's draft reply.
//!
//! Everything here is pure and deterministic: no IO at read time, no network, no
//! randomness; the same text always gets the same reading.

mod coach;
pub mod eval;
mod hash;
mod lang;
mod lexicon;
pub mod model;
mod phrase;
mod quote;
mod signals;
mod text;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use coach::{CoachFlag, CoachInput, FlagKind, coach};
pub use lexicon::build_lexicon_file;
pub use model::Model;
pub use quote::new_text;

/// How a customer comes across, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Pleased,
    Neutral,
    Frustrated,
    Angry,
    /// Profanity or insults aimed at a person: masked for agents (P9).
    Abusive,
}

impl Label {
    pub const ALL: [Label; 5] = [
        Label::Pleased,
        Label::Neutral,
        Label::Frustrated,
        Label::Angry,
        Label::Abusive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Pleased => "pleased",
            Label::Neutral => "neutral",
            Label::Frustrated => "frustrated",
            Label::Angry => "angry",
            Label::Abusive => "abusive",
        }
    }

    /// Frustrated, angry or abusive.
    pub fn is_negative(self) -> bool {
        matches!(self, Label::Frustrated | Label::Angry | Label::Abusive)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown demeanor label {0:?} (expected pleased, neutral, frustrated, angry or abusive)")]
pub struct UnknownLabel(pub String);

impl FromStr for Label {
    type Err = UnknownLabel;
    fn from_str(s: &str) -> Result<Label, UnknownLabel> {
        Label::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLabel(s.to_owned()))
    }
}

/// What a signal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Anger,
    Disgust,
    /// Cancelling, switching provider, never buying again.
    ThreatToLeave,
    /// A bad review, going public, or to a regulator or lawyer.
    ThreatToReview,
    Urgency,
    /// An insult aimed at a person ("you idiot", "your staff are useless").
    PersonalInsult,
    Profanity,
    /// Several words in capitals, or repeated `!`/`?`.
    Shouting,
    /// A plain account of the service failing: a delay, a cancellation, lost luggage or
    /// parcels, "still not here", being charged twice, something broken on arrival.
    ServiceFailure,
    /// Waiting: on hold, for hours or weeks, "still no refund".
    Waiting,
    /// Contacting the company again and again, nobody answering, being passed around.
    RepeatedContact,
    /// Exasperation: idioms ("getting on my nerves", "you are killing me"), anger emoji
    /// and hashtags of displeasure (`#fail`, `#neveragain`).
    Exasperation,
}

impl SignalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Anger => "anger",
            SignalKind::Disgust => "disgust",
            SignalKind::ThreatToLeave => "threat_to_leave",
            SignalKind::ThreatToReview => "threat_to_review",
            SignalKind::Urgency => "urgency",
            SignalKind::PersonalInsult => "personal_insult",
            SignalKind::Profanity => "profanity",
            SignalKind::Shouting => "shouting",
            SignalKind::ServiceFailure => "service_failure",
            SignalKind::Waiting => "waiting",
            SignalKind::RepeatedContact => "repeated_contact",
            SignalKind::Exasperation => "exasperation",
        }
    }

    /// Signals that a customer is complaining about the service (what a support desk
    /// knows), whether or not they use emotion words.
    pub fn is_complaint(self) -> bool {
        matches!(
            self,
            SignalKind::ServiceFailure
                | SignalKind::Waiting
                | SignalKind::RepeatedContact
                | SignalKind::Exasperation
                | SignalKind::ThreatToLeave
                | SignalKind::ThreatToReview
        )
    }
}

/// A signal and the words (lowercased, as found) that triggered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub kind: SignalKind,
    pub words: Vec<String>,
}

/// The judge's reading of one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    /// From -1 (very negative) to 1 (very positive).
    pub valence: f32,
    pub label: Label,
    /// In [`SignalKind`] order.
    pub signals: Vec<Signal>,
    /// From 0 to 1: how sure the judge is of the label.
    pub confidence: f32,
    /// How likely the message is offensive in any direction (swearing included), 0 to 1.
    pub offensive: f32,
    /// ISO 639-1 code of the language the judge thinks the text is in, or `und`.
    /// Only English is read; other languages get `neutral` with low confidence.
    pub language: &'static str,
}

impl Reading {
    pub fn has(&self, kind: SignalKind) -> bool {
        self.signals.iter().any(|s| s.kind == kind)
    }
}

/// Reads the demeanor of new text (quotes already removed, see [`new_text`]).
/// The judge's label in the domain's words, the one mapping every channel stores.
impl From<Label> for recourse_domain::Demeanor {
    fn from(l: Label) -> Self {
        use recourse_domain::Demeanor;
        match l {
            Label::Pleased => Demeanor::Pleased,
            Label::Neutral => Demeanor::Neutral,
            Label::Frustrated => Demeanor::Frustrated,
            Label::Angry => Demeanor::Angry,
            Label::Abusive => Demeanor::Abusive,
        }
    }
}

/// How a customer's message reads, judged on its new text only (quoted history and
/// signatures stripped), so an old angry quote does not colour a calm reply.
pub fn customer_demeanor(body: &str) -> recourse_domain::Demeanor {
    read(&new_text(body)).label.into()
}

pub fn read(text: &str) -> Reading {
    read_with(text, model::embedded())
}

/// [`read`] with another model (for evaluating freshly trained weights).
pub fn read_with(text: &str, model: &Model) -> Reading {
    let tokens = text::tokenize(text, lexicon::lexicon());
    read_tokens_with(text, &tokens, Some(model))
}

/// The lexicon-only baseline: word valences and word lists, no trained model.
pub fn read_baseline(text: &str) -> Reading {
    let tokens = text::tokenize(text, lexicon::lexicon());
    read_tokens_with(text, &tokens, None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Full,
    Baseline,
}

/// The full reading with the compiled-in model.
pub(crate) fn read_tokens(text: &str, tokens: &text::Tokens) -> Reading {
    read_tokens_with(text, tokens, Some(model::embedded()))
}

/// The least offensiveness of a message with a profane word.
const PROFANITY_OFFENSIVE: f32 = 0.6;

/// How sure a probability is: 0.5 at the fence, 1 at either end.
fn sureness(p: f32) -> f32 {
    0.5 + (p - 0.5).abs()
}

/// The reading with `model`, or the lexicon-only baseline without one.
fn read_tokens_with(text: &str, tokens: &text::Tokens, model: Option<&Model>) -> Reading {
    let mode = if model.is_some() {
        Mode::Full
    } else {
        Mode::Baseline
    };
    let lex = lexicon::lexicon();
    let polarity = lexicon::polarity(tokens, lex);
    let signals = signals::find(tokens, lex, &mut Vec::new());
    let language = lang::detect(text, tokens);
    let has = |k: SignalKind| signals.iter().any(|s| s.kind == k);
    let insult = has(SignalKind::PersonalInsult);
    // A customer describing a failed service, waiting, chasing or exasperated: what a
    // support desk hears as a complaint even without emotion words.
    let complaint = signals.iter().any(|s| s.kind.is_complaint());
    let heated = has(SignalKind::Anger)
        || has(SignalKind::Disgust)
        || has(SignalKind::Profanity)
        || has(SignalKind::Shouting);

    let (valence, negative, p_negative, p_positive, offensive, angry) = match model {
        Some(model) => {
            // Inside a complaint, "please" and "thank you" are manners, not pleasure: the
            // model reads the message without them (`model::view`).
            let mut plain = None;
            let (polarity, dense) = model::view(tokens, polarity, &signals, &mut plain);
            let p = model.predict(plain.as_ref().unwrap_or(tokens), &dense);
            let (neg, pos, off, anger) = (
                p[model::Head::Negative as usize],
                p[model::Head::Positive as usize],
                p[model::Head::Offensive as usize],
                p[model::Head::Anger as usize],
            );
            let valence = (0.5 * polarity.compound + 0.5 * (pos - neg)).clamp(-1.0, 1.0);
            // A complaint (a failed service, waiting, chasing, exasperation, a threat to
            // leave or go public) is negative unless the model is sure it is positive:
            // customers often describe what went wrong without a single emotion word.
            // There, being sure also needs a positive word besides the manners
            // (`polarity` here is read without them).
            let sure_positive =
                pos >= 0.5 && valence > 0.05 && (!complaint || polarity.compound > 0.05);
            let negative = neg >= 0.5 || (complaint && !sure_positive);
            // Swearing is offensive in the broad sense of `Reading::offensive` (OLID's
            // too), whatever the head makes of the rest of the message.
            let off = if has(SignalKind::Profanity) {
                off.max(PROFANITY_OFFENSIVE)
            } else {
                off
            };
            (valence, negative, neg, pos, off, heated || anger >= 0.5)
        }
        None => {
            let c = polarity.compound;
            let off = if insult || has(SignalKind::Profanity) {
                1.0
            } else {
                0.0
            };
            // VADER's usual cut-offs (±0.05) for negative and positive.
            let p_neg = if c <= -0.05 {
                0.5 + 0.5 * -c
            } else {
                0.5 - 0.5 * c.max(0.0)
            };
            (
                c,
                c <= -0.05,
                p_neg,
                if c >= 0.05 { 0.5 + 0.5 * c } else { 0.0 },
                off,
                heated,
            )
        }
    };

    let words = tokens.len() as f32;
    // Short texts say little; confidence grows with length up to about eight words.
    let length_factor = (words / 8.0).clamp(0.25, 1.0).sqrt();
    let second_person = (0..tokens.len()).any(|i| {
        matches!(
            tokens.word(i),
            "you" | "your" | "you're" | "u" | "ur" | "yours"
        )
    });

    if language != "en" && language != "und" {
        return Reading {
            valence: 0.0,
            label: Label::Neutral,
            signals,
            confidence: 0.2,
            offensive,
            language,
        };
    }
    // Abuse is an insult aimed at someone; swearing about a thing is not abuse.
    let abusive = insult
        || (mode == Mode::Full && offensive >= 0.8 && second_person && has(SignalKind::Profanity));
    let (label, confidence) = if abusive {
        (Label::Abusive, if insult { 0.9 } else { offensive })
    } else if negative {
        let label = if angry {
            Label::Angry
        } else {
            Label::Frustrated
        };
        (label, sureness(p_negative))
    } else if valence >= 0.25 || (p_positive >= 0.5 && valence > 0.05) {
        (
            Label::Pleased,
            sureness(p_positive.max(0.5 + valence / 2.0)),
        )
    } else {
        (
            Label::Neutral,
            sureness(1.0 - p_negative).min(sureness(1.0 - p_positive)),
        )
    };
    let confidence = if language == "und" {
        confidence * 0.7
    } else {
        confidence
    };
    Reading {
        valence,
        label,
        signals,
        confidence: (confidence * length_factor).clamp(0.0, 1.0),
        offensive,
        language,
    }
}
