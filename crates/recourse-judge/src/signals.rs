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

// Customer-domain complaint patterns, written for this project from what a support desk
// hears (no data set's text): what went wrong, the waiting, the chasing, the exasperation.

/// Things a customer waits for or that go missing.
const THINGS: &str = "flight|flights|train|trains|bus|order|orders|parcel|parcels|package|packages|delivery|deliveries|luggage|bag|bags|baggage|suitcase|suitcases|refund|item|items|shipment|booking|reservation|appointment|connection|card|payment|replacement|repair|engineer|technician|driver|courier|food|meal|tickets|ticket|seat|room|laptop|phone|router|account|internet|wifi|broadband|service|app|website|site";
const FAILED: &str = "cancelled|canceled|delayed|lost|missing|misplaced|damaged|broken|smashed|late|stolen|overbooked|overcharged|stuck|wrong|faulty|defective|down|dead|declined|blocked|locked|suspended|disconnected|rejected";

fn service_failure_patterns() -> Vec<String> {
    vec![
        format!("my|our ~ {THINGS} ~ {FAILED}"),
        format!("my|our ~ {THINGS} has|have|had|got|gets|keeps|still ~ {FAILED}"),
        format!("my|our ~ {THINGS} has|have|had been ~ {FAILED}"),
        // "my flight to Leeds was cancelled": a few words may sit between.
        format!("my|our ~ {THINGS} * ~ {FAILED}"),
        format!("my|our ~ {THINGS} * * ~ {FAILED}"),
        format!("my|our ~ {THINGS} * * * ~ {FAILED}"),
        format!("{FAILED} ~ my|our ~ {THINGS}"),
        format!("lost|missing|delayed|damaged|cancelled|canceled|late|wrong ~ {THINGS}"),
        "lost|misplaced|broke|damaged|smashed|cancelled|canceled|delayed my|our|me|us".into(),
        "hasn't|hasnt|haven't|havent|didn't|didnt|never|not ~ arrived|arrive|delivered|received|receive|refunded|shown|showed|come|came|fixed|resolved|sorted|credited|reimbursed|dispatched|shipped".into(),
        "still not|no|isn't|isnt|hasn't|hasnt|haven't|havent|nothing|broken|missing|down".into(),
        "not|never|isn't|isnt|wasn't|wasnt ~ here|there ~ yet".into(),
        "charged|billed|debited|overcharged me|us|my ~ twice|double|again|extra|wrong|card".into(),
        "charged|billed|debited twice|double|again".into(),
        "double|triple charged|billed|charge|charging|billing".into(),
        "overcharged|overbilled|overcharging".into(),
        "sent|gave|delivered|shipped|brought me|us ~ wrong".into(),
        "wrong item|order|size|product|parcel|package|bill|amount|charge|address|colour|color|meal|food".into(),
        "stopped|stops|quit ~ working".into(),
        "doesn't|doesnt|didn't|didnt|won't|wont|isn't|isnt|not|can't|cant|cannot even work|working|load|loading|connect|connecting|charge|open|start|boot".into(),
        "doesn't|doesnt|didn't|didnt|won't|wont|isn't|isnt|not|never|can't|cant|cannot ~ work|working|load|loading|connect|connecting|boot".into(),
        "keeps|kept|keep ~ crashing|freezing|failing|dropping|breaking|disconnecting|cancelling|canceling|losing|declining".into(),
        "outage|outages|overbooked|stranded|bumped|crashes|crashed|crashing|freezes|froze|glitch|glitches|glitchy|buggy|laggy|lagging".into(),
        "refused|denied boarding".into(),
        "missed my|our connection|connecting|flight|train|meeting".into(),
        "no service|signal|internet|wifi|power|connection|water|heating|refund|compensation|explanation|apology|help|support".into(),
        "worst|terrible|awful|horrible|horrendous|lousy|shocking|appalling|rubbish|crap|crappy|shoddy|poor|bad|abysmal|dreadful|pathetic ~ service|customer|support|experience|airline|company|delivery|communication|app".into(),
        "where is|where's|wheres ~ my|our ~ refund|order|parcel|package|money|bag|luggage|delivery|item|replacement|stuff|engineer|driver|food|flight".into(),
        "rip off|ripoff|scam|scammed|swindled|conned".into(),
        "ripped off".into(),
        "waste of ~ money|time".into(),
        // Reviews of products and meals: what was wrong with them.
        "food|meal|pizza|soup|steak|fries|chips|coffee|burger|dish|dishes|chicken|fish|pasta|rice|bread|room|bed|bathroom|table|drinks|order ~ was|were|is|are|came|arrived ~ cold|stale|burnt|burned|undercooked|overcooked|raw|bland|soggy|greasy|tasteless|inedible|lukewarm|dry|chewy|rubbery|dirty|filthy|tiny|cramped|noisy|wrong|late".into(),
        "too|overly|way|far ~ salty|sweet|greasy|oily|dry|cold|expensive|pricey|slow|loud|noisy|small|cramped|long|late|busy|crowded|hot|bland|rushed".into(),
        "ignored us|me".into(),
        "sent|send|sending|took|take|returned|return|returning it|them|this ~ back".into(),
        "broke|died|failed|cracked|snapped|stopped|quit ~ after|within".into(),
        "fell|came apart".into(),
        "poor|cheap|bad|low|shoddy|terrible|awful quality|build|workmanship".into(),
        "not|isn't|wasn't|never worth ~ it|the|a|money|price|wait|penny".into(),
        "overpriced|overrated|underwhelming|mediocre|subpar|sub-par|flimsy|cheaply|unhelpful|unprofessional|inattentive".into(),
        "wouldn't|won't|don't|not|never ~ recommend".into(),
        "avoid this|them|it|at|like".into(),
        "stay away".into(),
        "save your money".into(),
        "hung|hang|hangs up on".into(),
        "cut me|us off".into(),
    ]
}

const WAITING: &[&str] = &[
    "waiting|waited|wait|queuing|queueing|queued|stuck|sitting|delayed for|over|since|nearly|almost ~ 0*|1*|2*|3*|4*|5*|6*|7*|8*|9*|an|two|three|four|five|six|seven|eight|nine|ten|twelve|several|hours|days|weeks|months|ages|forever|hour|week|month|year|years",
    "waiting|waited|wait|queuing|queued|stuck|delayed ~ hours|days|weeks|months|ages|forever",
    "still waiting|waitin|no|nothing",
    "on hold for|over|forever|again|since|now",
    "been|kept|put|left ~ on hold",
    "kept|put|left me|us on hold",
    "hours|hour|days|weeks|mins|minutes|hrs late|delay|delayed|wait|waiting|queue|queuing",
    "been|over|than|nearly|almost ~ 0*|1*|2*|3*|4*|5*|6*|7*|8*|9*|two|three|four|five|six|several|a ~ hours|days|weeks|months|week|month",
    "took|taking|takes ~ forever|ages|hours|days|weeks|months",
    "no sign|word|news|update|updates ~ of|yet|from|since",
    "how much|many longer",
    "when will ~ i|we ~ get|receive|hear|see",
];

const REPEATED: &[&str] = &[
    "second|third|fourth|fifth|3rd|4th|5th|nth|umpteenth|hundredth|tenth|millionth time",
    "called|phoned|rang|emailed|messaged|contacted|tweeted|chatted|complained|wrote|written|reported|chased ~ twice|again|repeatedly|already|numerous|multiple|several|countless|many|every",
    "called|phoned|rang|emailed|messaged|contacted|tweeted|chatted|complained|wrote|reported|chased you|them|u|support|customer|your|ur ~ twice|again|repeatedly|already|numerous|multiple|several|countless|many|every|0*|1*|2*|3*|4*|5*|6*|7*|8*|9*|two|three|four|five|ten|times",
    "2|3|4|5|6|7|8|9|10|11|12|15|20|two|three|four|five|six|ten|multiple|several|numerous|countless ~ calls|emails|messages|tweets|tickets|complaints|attempts",
    "again and again",
    "over and over",
    "yet again",
    "once again",
    "same problem|issue|thing|story|excuse|excuses ~ again|every|still|keeps",
    "keep|keeps|kept ~ calling|asking|telling|emailing|chasing|saying|getting|promising|fobbing",
    "nobody|noone|no-one ~ answers|answer|answered|answering|replies|reply|replied|responds|responded|respond|picks|calls|called|gets|got|cares|helps|helped|knows|bothered|bothers|listens|listening|seems",
    "no one ~ answers|answer|answered|answering|replies|reply|replied|responds|responded|respond|picks|calls|called|gets|got|cares|helps|helped|knows|bothered|bothers|listens|listening|seems",
    "nobody|noone|no-one ~ can|could|will ~ help|tell|explain",
    "no reply|response|answer|callback|answers|replies|responses|acknowledgement|follow",
    "never|didn't|didnt|don't|dont|doesn't|doesnt|won't|wont|haven't|havent|hasn't|hasnt|not ~ replied|responded|answered|emailed|respond|reply|answer|helped|bothered",
    "never|didn't|didnt|haven't|havent|hasn't|hasnt|not heard|got|gotten|get ~ back",
    "passed|pushed|bounced|transferred|shuffled|redirected|fobbed ~ me|us ~ around|about|between|back|from|off|again|elsewhere",
    "passed|pushed|bounced|transferred|shuffled|redirected|fobbed ~ around|about|between|back|off|again|twice",
    "from department to department",
    "from pillar to post",
    "from one department|person|agent|team to another",
    "chasing|chased ~ this|you|up|again|them|it|for",
];

const EXASPERATION: &[&str] = &[
    "getting|gets|get|got|grating|grates on ~ my|our ~ nerves|tits|wick",
    "drive|drives|driving|driven|drove me|us ~ crazy|mad|insane|nuts|bonkers|up|round|mental",
    "killing|kill me|us",
    "you're|youre|you ~ killing|kidding|joking",
    "at my wits|wit's|wits' end",
    "give me|us a break",
    "for god's|gods|heaven's|heavens|pete's|petes|christ's|fuck's|fucks sake",
    "smh|fml|ffs|fgs|ugh|ughh|urgh|argh|grr|sigh|jeez|facepalm|bruh",
    "ughhh|ughhhh|urghh|arghh|arghhh|grrrr|grrrrr|aaargh|aargh",
    "seriously ~ guys|though|now|again|wtf|why|what|how",
    "thanks for nothing|nada",
    "thank you for nothing|nada",
    "so much for",
    "what a joke|shambles|mess|nightmare|disaster|farce|ripoff|con|scam|waste|letdown|shower",
    "nightmare|shambles|farce|fiasco|debacle|letdown",
    "fail|fails|epicfail|customerservicefail|servicefail|badservice|poorservice|worstservice|terribleservice|neveragain|notimpressed|nothappy|notcool|firstworldproblems|fuming|rant|complaint|sucks|worst|worstservice|worstcustomerservice|worstairline|worstcompany|worstever",
    "not impressed|amused|happy|cool|ok|okay|acceptable|good",
    "can't|cant|cannot believe ~ this|it",
    "unbelievable|pathetic|useless|hopeless|incompetence|incompetent",
    "let me|us down",
    "over it",
    "so done",
];

/// Emoji of anger and exasperation.
fn is_anger_emoji(c: char) -> bool {
    matches!(
        c,
        '😠' | '😡'
            | '🤬'
            | '😤'
            | '👎'
            | '🙄'
            | '😒'
            | '😑'
            | '🤦'
            | '😩'
            | '😫'
            | '💢'
            | '🖕'
            | '😾'
            | '🤯'
            | '😖'
            | '😣'
    )
}

fn phrases() -> &'static Phrases<SignalKind> {
    static PHRASES: OnceLock<Phrases<SignalKind>> = OnceLock::new();
    PHRASES.get_or_init(|| {
        let leak = |patterns: Vec<String>| -> &'static [&'static str] {
            Vec::leak(patterns.into_iter().map(|p| &*String::leak(p)).collect())
        };
        let insults = leak(insult_patterns());
        let failures = leak(service_failure_patterns());
        Phrases::new(&[
            (SignalKind::Anger, ANGER),
            (SignalKind::Disgust, DISGUST),
            (SignalKind::ThreatToLeave, LEAVE),
            (SignalKind::ThreatToReview, REVIEW),
            (SignalKind::Urgency, URGENCY),
            (SignalKind::PersonalInsult, insults),
            (SignalKind::ServiceFailure, failures),
            (SignalKind::Waiting, WAITING),
            (SignalKind::RepeatedContact, REPEATED),
            (SignalKind::Exasperation, EXASPERATION),
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

/// Politeness markers ("please", "thank you"): common inside complaints, so they must
/// not by themselves make a message read as pleased.
pub(crate) fn is_polite(tokens: &Tokens) -> bool {
    (0..tokens.len()).any(|i| is_politeness_word(tokens.word(i)))
}

/// A word that is (part of) a politeness marker.
pub(crate) fn is_politeness_word(word: &str) -> bool {
    matches!(
        word,
        "please"
            | "pls"
            | "plz"
            | "thank"
            | "thanks"
            | "thx"
            | "ty"
            | "appreciate"
            | "appreciated"
            | "kindly"
            | "grateful"
            | "cheers"
            | "regards"
    )
}

/// The tokens without their politeness markers, so that "thank you" and "please" in a
/// complaint can be read past.
pub(crate) fn without_politeness(tokens: &Tokens) -> Tokens {
    Tokens {
        lower: tokens.lower.clone(),
        toks: tokens
            .toks
            .iter()
            .enumerate()
            .filter(|(i, _)| !is_politeness_word(tokens.word(*i)))
            .map(|(_, t)| *t)
            .collect(),
        symbols: tokens.symbols.clone(),
        emoji: tokens.emoji.clone(),
        exclamations: tokens.exclamations,
        questions: tokens.questions,
        punct_run: tokens.punct_run,
        lower_words: tokens.lower_words,
    }
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
    for &c in &tokens.emoji {
        if is_anger_emoji(c) {
            add(SignalKind::Exasperation, c.to_string());
        }
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
