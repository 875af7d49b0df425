//! Signals: the words in a message that show anger, disgust, a threat to leave or to
//! go public, urgency, a personal insult, profanity or shouting.

use std::sync::OnceLock;

use crate::lexicon::{Lexicon, WordInfo};
use crate::phrase::{Match, Phrases, words_of};
use crate::text::Tokens;
use crate::{Signal, SignalKind};

const INSULT_NOUNS: &str = "idiot|idiots|moron|morons|imbecile|imbeciles|clown|clowns|muppet|muppets|fool|fools|jerk|jerks|loser|losers|liar|liars|thief|thieves|crook|crooks|scammer|scammers|fraud|frauds|cretin|cretins|dumbass|dumbasses|dimwit|halfwit|nitwit|twit|twits|prat|prats|tosser|tossers|wanker|wankers|asshole|assholes|arsehole|arseholes|bastard|bastards|bitch|bitches|cunt|cunts|dickhead|dickheads|prick|pricks|twat|twats|scumbag|scumbags|scum|pig|pigs|retard|retards|amateurs|parasite|parasites|vermin|dumbo|numpty|numpties|imbecil|douchebag|douche|shithead|fuckwit|dipshit|buffoon|buffoons|donkey|donkeys|monkeys|goons|crooks|cowards|coward|incompetents|joke|disgrace|embarrassment";
const INSULT_ADJECTIVES: &str = "useless|incompetent|stupid|dumb|pathetic|worthless|clueless|brainless|hopeless|thick|retarded|idiotic|moronic|inept|ignorant|lazy|dishonest|crooked|spineless|braindead|hopeless";
const SECOND_PERSON: &str = "you|u|ya|ye|youre|you're|ur|yall|y'all|thou";
const STAFF: &str = "staff|agents|agent|team|employees|employee|reps|rep|representatives|representative|people|operators|manager|managers|colleague|colleagues|technician|technicians|workers|advisor|advisors";

fn insult_patterns() -> Vec<String> {
    vec![
        format!("{SECOND_PERSON} ~ {INSULT_NOUNS}"),
        format!("{SECOND_PERSON} ~ {INSULT_ADJECTIVES}"),
        format!("are you ~ {INSULT_ADJECTIVES}|{INSULT_NOUNS}"),
        format!("your ~ {STAFF} ~ {INSULT_NOUNS}|{INSULT_ADJECTIVES}"),
        format!("your {INSULT_ADJECTIVES} {STAFF}"),
        "fuck|f***|f**k|screw|stuff|sod you".to_owned(),
        "fuck|f***|f**k|piss|sod|bugger|naff off".to_owned(),
        "go fuck|f***|f**k yourself|urself".to_owned(),
        "shut up|it".to_owned(),
        "go to hell".to_owned(),
        "go die".to_owned(),
        "kill yourself".to_owned(),
        "kys|stfu|gfy|foad|gtfo".to_owned(),
        "eat shit".to_owned(),
        format!("{SECOND_PERSON} ~ piece of shit|crap|garbage|trash|work"),
    ]
}

const ANGER: &[&str] = &[
    "angry|angrier|anger|angered|furious|fuming|livid|outraged|outrageous|enraged|infuriated|infuriating|irate|seething|incensed|mad|pissed|raging|rage|irritated|irritating|annoyed|annoying|exasperated|exasperating",
    "fed up",
    "sick of",
    "sick and tired",
    "had enough",
    "last straw",
    "unacceptable|ridiculous|absurd|ludicrous|disgrace|disgraceful|scandalous|shambles|joke|insulting|infuriates",
    "hate|hated|hating|loathe",
    "how dare",
    "what the hell|heck|fuck",
    "wtf",
    "are you kidding|joking|serious",
    "beyond a joke",
];

const DISGUST: &[&str] = &[
    "disgusting|disgusted|disgust|gross|revolting|repulsive|vile|sickening|sickened|appalled|appalling|nauseating|shameful|despicable|deplorable|abhorrent|atrocious|repugnant|filthy|foul",
    "makes me sick",
    "made me sick",
    "shame on you",
];

const LEAVE: &[&str] = &[
    "cancel|cancelling|canceling|close|closing|terminate|terminating|end my|the ~ account|subscription|membership|contract|service|plan|policy",
    "switch|switching|moving|move|go|going|change|changing to another|a ~ provider|company|supplier|bank|network|competitor",
    "switch|switching provider|providers|supplier|suppliers|bank|banks",
    "take|taking my business|custom|money elsewhere",
    "go|going|shop|shopping elsewhere",
    "never use|buy|order|shop|fly|book|deal|come|recommend * again",
    "never use|buy|order|shop|fly|book|deal|come * * again",
    "never use|buy|order|shop|fly|book|deal|come again|back",
    "never again",
    "lost a customer",
    "lost my business|custom",
    "former|ex customer",
    "won't be back",
    "will not be back",
    "not coming back",
    "i'm|im|i am done with you",
    "find another|a new provider|company|supplier|bank|store|shop",
    "last time i use|buy|order|shop|book",
];

const REVIEW: &[&str] = &[
    "leave|write|post|give|giving|leaving|writing ~ review|reviews",
    "bad|negative|terrible|awful|scathing|1|one|zero|0 star|stars|review|reviews|rating",
    "trustpilot|yelp|tripadvisor|glassdoor",
    "google review|reviews",
    "tell|telling|warn|warning everyone|everybody|others|friends",
    "tell|telling all my friends|family",
    "post|posting|share|sharing|put|putting ~ online",
    "post|posting|share|sharing|put|putting * online|everywhere",
    "on|all over twitter|facebook|reddit|instagram|tiktok|linkedin",
    "social media",
    "go|going public",
    "the press|media|newspapers",
    "report|reporting you",
    "ombudsman|regulator|bbb|watchdog|ofcom|ofgem|ftc",
    "better business bureau",
    "trading standards",
    "consumer protection|rights",
    "my lawyer|solicitor|attorney",
    "legal action",
    "sue|suing you",
    "small claims",
    "chargeback",
];

const URGENCY: &[&str] = &[
    "urgent|urgently|asap|immediately|emergency|critical|deadline|pronto",
    "as soon as possible",
    "right now|away",
    "straight away",
    "at once",
    "without delay",
    "time sensitive",
    "time-sensitive",
    "still waiting|haven't|havent|not heard",
    "waiting ~ for weeks|days|months|hours|ages",
    "how much longer",
    "by|before today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday",
    "need|needs ~ it|this ~ today|tonight|tomorrow",
    "by end of day",
    "no later than",
    "need|needs ~ it|this ~ now",
];

fn phrases() -> &'static Phrases<SignalKind> {
    static PHRASES: OnceLock<Phrases<SignalKind>> = OnceLock::new();
    PHRASES.get_or_init(|| {
        let insults: &'static [&'static str] = Vec::leak(
            insult_patterns()
                .into_iter()
                .map(|p| &*String::leak(p))
                .collect(),
        );
        Phrases::new(&[
            (SignalKind::Anger, ANGER),
            (SignalKind::Disgust, DISGUST),
            (SignalKind::ThreatToLeave, LEAVE),
            (SignalKind::ThreatToReview, REVIEW),
            (SignalKind::Urgency, URGENCY),
            (SignalKind::PersonalInsult, insults),
        ])
    })
}

/// Words commonly written in capitals that are not shouting.
fn is_acronym(word: &str) -> bool {
    word.len() <= 3
        || word.bytes().any(|b| b.is_ascii_digit())
        || matches!(
            word,
            "asap"
                | "html"
                | "http"
                | "https"
                | "json"
                | "imap"
                | "smtp"
                | "vpn"
                | "wifi"
                | "utc"
                | "gmt"
                | "faq"
                | "nasa"
                | "ceo"
                | "cto"
                | "usb"
                | "hdmi"
                | "iphone"
                | "ipad"
                | "pdf"
                | "www"
                | "rsvp"
                | "gdpr"
                | "iban"
                | "swift"
                | "todo"
                | "note"
        )
}

/// Finds the signals in tokenised text. `matches` is scratch space.
pub(crate) fn find(
    tokens: &Tokens,
    lex: &Lexicon,
    matches: &mut Vec<Match<SignalKind>>,
) -> Vec<Signal> {
    let mut signals: Vec<Signal> = Vec::new();
    let mut add = |kind: SignalKind, word: String| {
        if let Some(s) = signals.iter_mut().find(|s| s.kind == kind) {
            if !s.words.contains(&word) {
                s.words.push(word);
            }
        } else {
            signals.push(Signal {
                kind,
                words: vec![word],
            });
        }
    };
    matches.clear();
    phrases().find(tokens, matches);
    for m in matches.iter() {
        add(m.label, words_of(tokens, m.start, m.end));
    }
    let n = tokens.len();
    let mut caps = Vec::new();
    for i in 0..n {
        let word = tokens.word(i);
        let info = tokens.toks[i].info;
        if info.has(WordInfo::PROFANE) {
            add(SignalKind::Profanity, word.to_owned());
        } else if i + 1 < n
            && info.has(WordInfo::PROFANE_PAIR_FIRST)
            && lex.is_profane_pair(word, tokens.word(i + 1))
        {
            add(SignalKind::Profanity, words_of(tokens, i, i + 2));
        }
        if tokens.toks[i].caps && !is_acronym(word) {
            caps.push(i);
        }
    }
    // Capitals count as shouting when several words are in capitals, or when the whole
    // message is (a one-word "HELP" is not enough); repeated `!`/`?` always does.
    let shouting_caps = caps.len() >= 3 || (caps.len() >= 2 && caps.len() * 3 >= n);
    if shouting_caps {
        for &i in &caps {
            add(SignalKind::Shouting, tokens.word(i).to_uppercase());
        }
    }
    if tokens.punct_run >= 2 {
        let mark = if tokens.exclamations > tokens.questions {
            "!!"
        } else {
            "??"
        };
        add(SignalKind::Shouting, mark.to_owned());
    }
    signals.sort_by_key(|s| s.kind);
    signals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::lexicon;
    use crate::text::tokenize;

    fn kinds(text: &str) -> Vec<SignalKind> {
        let t = tokenize(text, lexicon());
        find(&t, lexicon(), &mut Vec::new())
            .into_iter()
            .map(|s| s.kind)
            .collect()
    }

    fn words(text: &str, kind: SignalKind) -> Vec<String> {
        let t = tokenize(text, lexicon());
        find(&t, lexicon(), &mut Vec::new())
            .into_iter()
            .find(|s| s.kind == kind)
            .map(|s| s.words)
            .unwrap_or_default()
    }

    #[test]
    fn anger() {
        assert_eq!(
            words("I am absolutely furious about this", SignalKind::Anger),
            ["furious"]
        );
        assert_eq!(
            words("I'm fed up with waiting", SignalKind::Anger),
            ["fed up"]
        );
        assert!(!kinds("Thanks, that fixed it").contains(&SignalKind::Anger));
    }

    #[test]
    fn disgust() {
        assert_eq!(
            words("Frankly this is disgusting", SignalKind::Disgust),
            ["disgusting"]
        );
        assert!(!kinds("The food was lovely").contains(&SignalKind::Disgust));
    }

    #[test]
    fn threat_to_leave() {
        assert_eq!(
            words("I will cancel my subscription", SignalKind::ThreatToLeave),
            ["cancel my subscription"]
        );
        assert!(kinds("I'm taking my business elsewhere").contains(&SignalKind::ThreatToLeave));
        assert!(!kinds("Can I change my delivery address?").contains(&SignalKind::ThreatToLeave));
    }

    #[test]
    fn threat_to_review() {
        assert!(
            kinds("I will leave a 1 star review on Trustpilot")
                .contains(&SignalKind::ThreatToReview)
        );
        assert!(kinds("I'll tell everyone on social media").contains(&SignalKind::ThreatToReview));
        assert!(!kinds("Could you review my order?").contains(&SignalKind::ThreatToReview));
    }

    #[test]
    fn urgency() {
        assert_eq!(
            words("I need this fixed ASAP", SignalKind::Urgency),
            ["asap"]
        );
        assert!(kinds("Please reply as soon as possible").contains(&SignalKind::Urgency));
        assert!(!kinds("No rush, whenever suits you").contains(&SignalKind::Urgency));
    }

    #[test]
    fn personal_insult_needs_a_person() {
        assert_eq!(
            words("you are a fucking idiot", SignalKind::PersonalInsult),
            ["you are a fucking idiot"]
        );
        assert!(kinds("You're useless").contains(&SignalKind::PersonalInsult));
        assert!(kinds("your staff are clueless morons").contains(&SignalKind::PersonalInsult));
        assert!(!kinds("this fucking app is useless").contains(&SignalKind::PersonalInsult));
        assert!(!kinds("you are not useless, the app is").contains(&SignalKind::PersonalInsult));
        assert!(!kinds("Thank you, you were a great help").contains(&SignalKind::PersonalInsult));
    }

    #[test]
    fn profanity_plain_and_masked() {
        assert_eq!(
            words("this shit is broken", SignalKind::Profanity),
            ["shit"]
        );
        assert_eq!(words("the f***ing app", SignalKind::Profanity), ["f***ing"]);
        assert!(!kinds("please screw the lid back on").contains(&SignalKind::Profanity));
        assert!(!kinds("Scunthorpe class assessment").contains(&SignalKind::Profanity));
    }

    #[test]
    fn shouting_caps_and_punctuation() {
        assert!(kinds("WHY IS THIS STILL BROKEN").contains(&SignalKind::Shouting));
        assert!(kinds("where is my parcel??").contains(&SignalKind::Shouting));
        assert_eq!(words("where is my parcel?!", SignalKind::Shouting), ["??"]);
        assert!(!kinds("My PDF from the USA arrived.").contains(&SignalKind::Shouting));
        assert!(!kinds("Is it ready? Thanks!").contains(&SignalKind::Shouting));
    }
}
