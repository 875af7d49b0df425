//! A tiny phrase matcher over tokens, shared by the signals and the coach.
//!
//! Pattern syntax, one pattern per string: words separated by spaces; `a|b` for
//! alternatives; a trailing `*` matches any word with that prefix (`apologi*`; but `f***`
//! is a word, as written); a lone
//! `*` matches any one word; `~` lets up to four filler words ("a", "really", "fucking",
//! "are") sit before the next word, so "you ~ idiot" matches "you are a complete idiot".
//! Matches never cross the end of a sentence.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

use crate::hash::{hash_bytes, mix};
use crate::text::Tokens;

/// Words are looked up by a 64-bit hash computed once per token, not re-hashed for every
/// pattern that tries them; the sets below hash those hashes by passing them through.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(self.0, bytes);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type WordMap<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;
type WordSet = HashSet<u64, BuildHasherDefault<PassThrough>>;

/// A word's hash for the phrase tables (mixed, so that every bit depends on every byte).
#[inline]
fn word_hash(word: &str) -> u64 {
    mix(hash_bytes(0x7068_7261_7365_7321, word.as_bytes()))
}

#[derive(Debug)]
struct Step {
    /// Exact alternatives, by [`word_hash`] (a set: insult lists run to a hundred words).
    words: WordSet,
    /// Prefix alternatives (`apologi*`); an empty prefix matches any word.
    prefixes: Vec<&'static str>,
    /// Filler words may come before this step.
    gap: bool,
}

impl Step {
    fn matches(&self, hash: u64, word: &str) -> bool {
        self.words.contains(&hash) || self.prefixes.iter().any(|p| word.starts_with(p))
    }
}

#[derive(Debug)]
struct Pattern<L> {
    label: L,
    steps: Vec<Step>,
}

pub(crate) struct Phrases<L> {
    patterns: Vec<Pattern<L>>,
    by_first: WordMap<Vec<usize>>,
    /// Patterns whose first word is a prefix or wildcard, tried at every token.
    unindexed: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Match<L> {
    pub label: L,
    pub start: usize,
    pub end: usize,
}

const MAX_GAP: usize = 4;

pub(crate) fn is_filler(word: &str) -> bool {
    matches!(
        word,
        "a" | "an"
            | "the"
            | "such"
            | "so"
            | "very"
            | "really"
            | "total"
            | "totally"
            | "complete"
            | "completely"
            | "absolute"
            | "absolutely"
            | "utter"
            | "utterly"
            | "bloody"
            | "fucking"
            | "f***ing"
            | "f**king"
            | "freaking"
            | "frigging"
            | "effing"
            | "damn"
            | "damned"
            | "just"
            | "bunch"
            | "of"
            | "lot"
            | "pack"
            | "all"
            | "guys"
            | "people"
            | "are"
            | "is"
            | "re"
            | "r"
            | "were"
            | "was"
            | "being"
            | "big"
            | "little"
            | "stupid"
            | "useless"
            | "incompetent"
            | "pathetic"
            | "lazy"
            | "dumb"
            | "worthless"
            | "clueless"
    )
}

impl<L: Copy> Phrases<L> {
    pub fn new(groups: &[(L, &[&'static str])]) -> Phrases<L> {
        let mut set = Phrases {
            patterns: Vec::new(),
            by_first: WordMap::default(),
            unindexed: Vec::new(),
        };
        for (label, patterns) in groups {
            for pattern in *patterns {
                let mut steps = Vec::new();
                let mut gap = false;
                for part in pattern.split(' ') {
                    if part == "~" {
                        gap = true;
                        continue;
                    }
                    let (prefixes, words): (Vec<&str>, Vec<&str>) = part
                        .split('|')
                        .partition(|a| a.ends_with('*') && !a.contains("**"));
                    steps.push(Step {
                        words: words.into_iter().map(word_hash).collect(),
                        prefixes: prefixes.iter().map(|p| &p[..p.len() - 1]).collect(),
                        gap,
                    });
                    gap = false;
                }
                let id = set.patterns.len();
                let first = &steps[0];
                if !first.prefixes.is_empty() {
                    set.unindexed.push(id);
                } else {
                    for alt in &first.words {
                        let ids = set.by_first.entry(*alt).or_default();
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                set.patterns.push(Pattern {
                    label: *label,
                    steps,
                });
            }
        }
        set
    }

    /// All matches, leftmost first; at each start the longest match of each label.
    pub fn find(&self, tokens: &Tokens, out: &mut Vec<Match<L>>) {
        let n = tokens.len();
        // Each word is hashed once, whatever the number of patterns that try it.
        let words: Vec<u64> = (0..n).map(|i| word_hash(tokens.word(i))).collect();
        for start in 0..n {
            let indexed = self
                .by_first
                .get(&words[start])
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for &id in indexed.iter().chain(&self.unindexed) {
                let pattern = &self.patterns[id];
                if let Some(end) = self.match_at(pattern, tokens, &words, start) {
                    out.push(Match {
                        label: pattern.label,
                        start,
                        end,
                    });
                }
            }
        }
    }

    fn match_at(
        &self,
        pattern: &Pattern<L>,
        tokens: &Tokens,
        words: &[u64],
        start: usize,
    ) -> Option<usize> {
        let n = tokens.len();
        let mut pos = start;
        for (k, step) in pattern.steps.iter().enumerate() {
            if k > 0 && tokens.toks[pos - 1].sentence_end {
                return None;
            }
            let mut skipped = 0;
            loop {
                if pos >= n {
                    return None;
                }
                let word = tokens.word(pos);
                if step.matches(words[pos], word) {
                    break;
                }
                if !step.gap
                    || skipped == MAX_GAP
                    || !is_filler(word)
                    || tokens.toks[pos].sentence_end
                {
                    return None;
                }
                skipped += 1;
                pos += 1;
            }
            pos += 1;
        }
        Some(pos)
    }
}

/// The words of a match, joined by spaces (evidence for people to read).
pub(crate) fn words_of(tokens: &Tokens, start: usize, end: usize) -> String {
    let first = tokens.toks[start].start as usize;
    let last = tokens.toks[end - 1].end as usize;
    tokens.lower[first..last].to_owned()
}
