//! A small language guess: script first, then function words.
//!
//! The judge reads English only; its job here is to notice when a message is mostly
//! in another language (even with some English in it) so the reading can say
//! "neutral, low confidence" instead of guessing from the few English words.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::hash::FxHasher;
use crate::lexicon::WordInfo;
use crate::text::Tokens;

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Marks the function words in the lexicon's word table, so that the guess reads
/// them from the tokens instead of looking each word up again.
pub(crate) fn register(info: &mut FxMap<&'static str, WordInfo>) {
    for w in ENGLISH {
        info.entry(w).or_default().flags |= WordInfo::ENGLISH;
    }
    for (k, (_, words)) in LANGS.iter().enumerate() {
        for w in *words {
            info.entry(w).or_default().langs |= 1 << k;
        }
    }
}

/// ISO 639-1 codes, or `und` when there is too little text to tell.
pub(crate) fn detect(text: &str, tokens: &Tokens) -> &'static str {
    if let Some(code) = script(text) {
        return code;
    }
    let mut counts = [0u32; LANGS.len()];
    let mut english = 0u32;
    // The first hundred words are plenty to tell, and keep long mails cheap.
    for i in 0..tokens.len().min(100) {
        let info = tokens.toks[i].info;
        if info.has(WordInfo::ENGLISH) {
            english += 1;
        }
        if info.langs != 0 {
            for (k, count) in counts.iter_mut().enumerate() {
                if info.langs & (1 << k) != 0 {
                    *count += 1;
                }
            }
        }
    }
    let (best, hits) = counts
        .iter()
        .enumerate()
        .max_by_key(|(k, c)| (**c, std::cmp::Reverse(*k)))
        .map(|(k, c)| (LANGS[k].0, *c))
        .unwrap_or(("und", 0));
    if hits >= 2 && hits > english {
        best
    } else if english > 0 || tokens.len() >= 3 {
        "en"
    } else {
        "und"
    }
}

/// The main non-Latin scripts, when they make up most of the letters.
fn script(text: &str) -> Option<&'static str> {
    let (mut latin, mut other) = (0u32, [0u32; 9]);
    for c in text.chars().take(1000) {
        if c.is_ascii_alphabetic() {
            latin += 1;
            continue;
        }
        if c.is_ascii() || !c.is_alphabetic() {
            continue;
        }
        let k = match c as u32 {
            0x00C0..=0x024F => {
                latin += 1;
                continue;
            }
            0x0370..=0x03FF => 0,
            0x0400..=0x04FF => 1,
            0x0590..=0x05FF => 2,
            0x0600..=0x06FF => 3,
            0x0900..=0x097F => 4,
            0x0E00..=0x0E7F => 5,
            0x3040..=0x30FF => 6,
            0xAC00..=0xD7AF | 0x1100..=0x11FF => 7,
            0x4E00..=0x9FFF => 8,
            _ => continue,
        };
        other[k] += 1;
    }
    let total_other: u32 = other.iter().sum();
    if total_other == 0 || total_other < latin {
        return None;
    }
    const CODES: [&str; 9] = ["el", "ru", "he", "ar", "hi", "th", "ja", "ko", "zh"];
    // Kana means Japanese even when most characters are kanji.
    if other[6] > 0 {
        return Some("ja");
    }
    let k = (0..9).max_by_key(|&k| (other[k], std::cmp::Reverse(k)))?;
    Some(CODES[k])
}

/// Common English function words.
const ENGLISH: &[&str] = &[
    "the", "and", "is", "are", "you", "i", "to", "of", "it", "this", "that", "my", "for", "with",
    "not", "have", "was", "be", "on", "me", "your", "please", "can", "we", "what", "but", "just",
    "they", "will", "would", "so", "at", "from", "i'm", "it's", "don't", "thanks", "hi", "there",
    "been", "an", "a", "all", "if", "when", "why", "how", "get", "got", "like", "do",
];

const LANGS: [(&str, &[&str]); 6] = [
    (
        "fr",
        &[
            "le", "la", "les", "et", "est", "je", "vous", "nous", "pas", "une", "des", "du", "que",
            "qui", "pour", "avec", "mon", "ma", "mes", "votre", "merci", "ce", "cette", "sur",
            "dans", "bonjour", "au", "aux", "j'ai", "c'est", "n'est", "très", "mais",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "ich", "sie", "nicht", "ein", "eine", "mit", "für",
            "auf", "zu", "den", "dem", "mein", "meine", "ihr", "ihre", "bitte", "danke", "wir",
            "es", "haben", "hallo", "aber", "noch", "sehr", "wurde", "habe", "kein",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "y", "es", "yo", "usted", "una", "con", "para", "por", "que", "mi",
            "su", "gracias", "hola", "pero", "muy", "está", "esta", "del", "al", "se", "lo", "mis",
            "pedido", "todavía", "también", "ustedes",
        ],
    ),
    (
        "it",
        &[
            "il", "gli", "e", "è", "sono", "io", "non", "una", "con", "per", "che", "mio", "mia",
            "grazie", "ciao", "ma", "molto", "del", "della", "ho", "questo", "anche",
        ],
    ),
    (
        "pt",
        &[
            "o", "os", "as", "e", "é", "eu", "você", "voce", "não", "nao", "uma", "com", "para",
            "por", "que", "meu", "minha", "obrigado", "obrigada", "olá", "mas", "muito", "do",
            "da", "em", "está",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "ik", "u", "jij", "niet", "met", "voor", "op", "van", "mijn",
            "dank", "bedankt", "hallo", "maar", "zijn", "wij", "geen", "nog", "heb",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::lexicon;
    use crate::text::tokenize;

    fn lang(text: &str) -> &'static str {
        detect(text, &tokenize(text, lexicon()))
    }

    #[test]
    fn guesses() {
        assert_eq!(lang("Where is my parcel? I ordered it a week ago."), "en");
        assert_eq!(
            lang("Bonjour, mon colis n'est pas arrivé et je suis très déçu, this is unacceptable"),
            "fr"
        );
        assert_eq!(
            lang("Ich habe die Bestellung nicht bekommen, bitte helfen Sie mir"),
            "de"
        );
        assert_eq!(lang("Мой заказ не пришёл"), "ru");
        assert_eq!(lang("注文した商品がまだ届いていません"), "ja");
        assert_eq!(lang("ok"), "und");
    }
}
