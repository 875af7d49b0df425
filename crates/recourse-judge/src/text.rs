//! Tokenising: one lowercase copy of the text and word spans into it.
//!
//! Everything downstream (lexicon, signals, model features, coach phrases) works on
//! these spans, so a text is lowercased and split exactly once.

use crate::lexicon::{Lexicon, WordInfo};

/// One word: letters, digits, inner apostrophes and `*` (for masked swearing like
/// `f***ing`). Apostrophes are normalised to `'`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub start: u32,
    pub end: u32,
    /// Written in capitals in the original (at least two letters, none lowercase).
    pub caps: bool,
    /// Punctuation that ends a clause (`, ; : . ! ?`) follows the word.
    pub clause_end: bool,
    /// Punctuation that ends a sentence (`. ! ?`) or a line break follows the word.
    pub sentence_end: bool,
    /// The lexicon's entry for the word.
    pub info: WordInfo,
}

/// A tokenised text.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    pub lower: String,
    pub toks: Vec<Token>,
    /// Valences of emoji and emoticons (VADER scale), in order of appearance.
    pub symbols: Vec<f32>,
    /// Emoji characters seen (as model features).
    pub emoji: Vec<char>,
    pub exclamations: u32,
    pub questions: u32,
    /// Longest run of `!`/`?` characters.
    pub punct_run: u32,
    /// Words with at least one lowercase letter (to tell shouting from an all-caps text).
    pub lower_words: u32,
}

impl Tokens {
    pub fn word(&self, i: usize) -> &str {
        let t = self.toks[i];
        &self.lower[t.start as usize..t.end as usize]
    }

    pub fn len(&self) -> usize {
        self.toks.len()
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\'' || c == '’' || c == '*'
}

/// Emoticons are written with these characters; only chunks containing one are
/// looked up whole in the lexicon.
fn may_be_emoticon(chunk: &str) -> bool {
    chunk.len() <= 8 && chunk.bytes().any(|b| b":;=()<>[]{}^|\\/".contains(&b))
}

/// Emoji and pictographs (the main Unicode blocks), whether or not the lexicon rates them.
fn is_pictograph(c: char) -> bool {
    matches!(c as u32, 0x1F300..=0x1FAFF | 0x2600..=0x27BF)
}

pub(crate) fn tokenize(text: &str, lex: &Lexicon) -> Tokens {
    let mut out = Tokens {
        lower: String::with_capacity(text.len()),
        toks: Vec::with_capacity(text.len() / 5 + 1),
        ..Tokens::default()
    };
    let mut run = 0u32;
    for piece in text.split_inclusive(char::is_whitespace) {
        let newline = piece.ends_with('\n');
        let chunk = piece.trim_end_matches(char::is_whitespace);
        if !chunk.is_empty() {
            read_chunk(&mut out, chunk, lex, &mut run);
        }
        if newline {
            // A line break ends the sentence for negation and coach purposes.
            mark_end(&mut out, true);
        }
    }
    out
}

fn read_chunk(out: &mut Tokens, chunk: &str, lex: &Lexicon, run: &mut u32) {
    {
        if may_be_emoticon(chunk) {
            let lowered = chunk.to_lowercase();
            if let Some(v) = lex.emoticon(&lowered) {
                out.symbols.push(v);
                return;
            }
        }
        let mut word_start: Option<usize> = None;
        let mut has_lower = false;
        let mut has_upper = 0u32;
        for (i, c) in chunk.char_indices() {
            if is_word_char(c) {
                if word_start.is_none() {
                    word_start = Some(i);
                    has_lower = false;
                    has_upper = 0;
                }
                if c.is_lowercase() {
                    has_lower = true;
                } else if c.is_uppercase() {
                    has_upper += 1;
                }
                *run = 0;
                continue;
            }
            if let Some(s) = word_start.take() {
                push_word(out, lex, &chunk[s..i], has_lower, has_upper);
            }
            match c {
                '!' | '?' => {
                    if c == '!' {
                        out.exclamations += 1;
                    } else {
                        out.questions += 1;
                    }
                    *run += 1;
                    out.punct_run = out.punct_run.max(*run);
                    mark_end(out, true);
                }
                '.' | ',' | ';' | ':' => {
                    *run = 0;
                    mark_end(out, c == '.');
                }
                _ => {
                    *run = 0;
                    if !c.is_ascii() {
                        // Emoji with a valence count towards the lexicon's reading; every
                        // pictograph is a model feature and may be a signal (anger emoji).
                        let valence = lex.emoji(c);
                        if let Some(v) = valence {
                            out.symbols.push(v);
                        }
                        if valence.is_some() || is_pictograph(c) {
                            out.emoji.push(c);
                        }
                    }
                }
            }
        }
        if let Some(s) = word_start.take() {
            push_word(out, lex, &chunk[s..], has_lower, has_upper);
        }
    }
}

fn mark_end(out: &mut Tokens, sentence: bool) {
    if let Some(t) = out.toks.last_mut() {
        t.clause_end = true;
        t.sentence_end |= sentence;
    }
}

fn push_word(out: &mut Tokens, lex: &Lexicon, word: &str, has_lower: bool, upper: u32) {
    let word = word.trim_matches(|c| c == '\'' || c == '’');
    if word.is_empty() {
        return;
    }
    let start = out.lower.len() as u32;
    for c in word.chars() {
        match c {
            'A'..='Z' => out.lower.push(c.to_ascii_lowercase()),
            '’' => out.lower.push('\''),
            c if c.is_ascii() => out.lower.push(c),
            c => out.lower.extend(c.to_lowercase()),
        }
    }
    let end = out.lower.len() as u32;
    out.lower.push(' ');
    if has_lower {
        out.lower_words += 1;
    }
    out.toks.push(Token {
        start,
        end,
        caps: !has_lower && upper >= 2,
        clause_end: false,
        sentence_end: false,
        info: lex.info(&out.lower[start as usize..end as usize]),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::lexicon;

    #[test]
    fn words_are_lowercased_and_split_on_punctuation() {
        let t = tokenize("Hello, WORLD! Don’t #panic @user f***ing", lexicon());
        let words: Vec<&str> = (0..t.len()).map(|i| t.word(i)).collect();
        assert_eq!(
            words,
            ["hello", "world", "don't", "panic", "user", "f***ing"]
        );
        assert!(t.toks[1].caps && !t.toks[0].caps);
        assert!(t.toks[0].clause_end && !t.toks[0].sentence_end);
        assert!(t.toks[1].sentence_end);
        assert_eq!(t.exclamations, 1);
    }

    #[test]
    fn emoji_and_emoticons_carry_valence() {
        let t = tokenize("thanks :) 😀 great", lexicon());
        assert_eq!(t.symbols.len(), 2);
        assert!(t.symbols.iter().all(|v| *v > 0.0));
        assert_eq!(t.len(), 2);
    }
}
