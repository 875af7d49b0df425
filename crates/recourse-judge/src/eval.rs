//! Training and evaluation on the labelled sets under `../shared/data/text` (the only
//! part of the crate that reads files; used by `recourse judge train|eval`).
//!
//! How each set's labels map to ours is written down in `EVAL.md` and in
//! [`GOEMOTIONS_NEGATIVE`] and friends below.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::model::{self, Example, HEADS, Head, Model, TrainConfig};
use crate::{CoachInput, Label, Reading};

/// Why the data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// GoEmotions labels grouped as negative (the dataset paper's sentiment grouping).
pub const GOEMOTIONS_NEGATIVE: &[&str] = &[
    "anger",
    "annoyance",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "fear",
    "grief",
    "nervousness",
    "remorse",
    "sadness",
];
/// GoEmotions labels grouped as positive (same grouping).
pub const GOEMOTIONS_POSITIVE: &[&str] = &[
    "admiration",
    "amusement",
    "approval",
    "caring",
    "desire",
    "excitement",
    "gratitude",
    "joy",
    "love",
    "optimism",
    "pride",
    "relief",
];
/// Negative GoEmotions labels that are anger rather than sadness or worry.
pub const GOEMOTIONS_ANGER: &[&str] = &["anger", "annoyance", "disgust"];

fn read_file(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })
}

/// One GoEmotions comment with its label names.
pub struct Comment {
    pub text: String,
    pub labels: Vec<&'static str>,
}

impl Comment {
    fn any(&self, group: &[&str]) -> bool {
        self.labels.iter().any(|l| group.contains(l))
    }
    pub fn negative(&self) -> bool {
        self.any(GOEMOTIONS_NEGATIVE)
    }
    pub fn positive(&self) -> bool {
        !self.negative() && self.any(GOEMOTIONS_POSITIVE)
    }
}

pub fn goemotions(dir: &Path, split: &str) -> Result<Vec<Comment>, DataError> {
    let names_path = dir.join("goemotions/labels.txt");
    let names: Vec<&'static str> = read_file(&names_path)?
        .lines()
        .map(|l| &*String::leak(l.trim().to_owned()))
        .collect();
    let path = dir.join(format!("goemotions/{split}.tsv"));
    let mut out = Vec::new();
    for (n, line) in read_file(&path)?.lines().enumerate() {
        let mut parts = line.split('\t');
        let (Some(text), Some(ids)) = (parts.next(), parts.next()) else {
            return Err(DataError::Format {
                path,
                line: n + 1,
                message: "expected text<TAB>label ids".into(),
            });
        };
        let mut labels = Vec::new();
        for id in ids.split(',') {
            let label = id.trim().parse::<usize>().ok().and_then(|i| names.get(i));
            let Some(label) = label else {
                return Err(DataError::Format {
                    path,
                    line: n + 1,
                    message: format!("unknown label id {id:?}"),
                });
            };
            labels.push(*label);
        }
        out.push(Comment {
            text: text.to_owned(),
            labels,
        });
    }
    Ok(out)
}

/// A TweetEval task split: texts with their integer labels.
pub fn tweeteval(dir: &Path, task: &str, split: &str) -> Result<Vec<(String, u8)>, DataError> {
    let text_path = dir.join(format!("tweeteval/{task}/{split}_text.txt"));
    let label_path = dir.join(format!("tweeteval/{task}/{split}_labels.txt"));
    let texts = read_file(&text_path)?;
    let labels = read_file(&label_path)?;
    let texts: Vec<&str> = texts.lines().collect();
    let labels: Vec<&str> = labels.lines().collect();
    if texts.len() != labels.len() {
        return Err(DataError::Format {
            path: label_path,
            line: labels.len(),
            message: format!("{} labels for {} texts", labels.len(), texts.len()),
        });
    }
    texts
        .iter()
        .zip(&labels)
        .enumerate()
        .map(|(n, (t, l))| match l.trim().parse::<u8>() {
            Ok(l) => Ok((t.trim_end().to_owned(), l)),
            Err(_) => Err(DataError::Format {
                path: label_path.clone(),
                line: n + 1,
                message: format!("label {l:?} is not a number"),
            }),
        })
        .collect()
}

/// TweetEval emotion ids.
const ANGER: u8 = 0;
const JOY: u8 = 1;
const OPTIMISM: u8 = 2;
const SADNESS: u8 = 3;

/// TweetEval sentiment ids (0 negative, 1 neutral, 2 positive).
const SENTIMENT_NEGATIVE: u8 = 0;
const SENTIMENT_POSITIVE: u8 = 2;

/// Trains the model on the train splits only.
pub fn train(dir: &Path, cfg: TrainConfig) -> Result<Model, DataError> {
    let mut examples: Vec<Example> = Vec::new();
    let mut data: [Vec<(usize, bool, f32)>; HEADS] = Default::default();
    let neg = Head::Negative as usize;
    let pos = Head::Positive as usize;
    let off = Head::Offensive as usize;
    let anger = Head::Anger as usize;
    for c in goemotions(dir, "train")? {
        let i = examples.len();
        examples.push(model::example(&c.text, cfg.log2_buckets));
        data[neg].push((i, c.negative(), 1.0));
        data[pos].push((i, c.positive(), 1.0));
        if c.negative() {
            data[anger].push((i, c.any(GOEMOTIONS_ANGER), 1.0));
        }
    }
    for (text, label) in tweeteval(dir, "emotion", "train")? {
        let i = examples.len();
        examples.push(model::example(&text, cfg.log2_buckets));
        let w = cfg.tweet_weight;
        data[neg].push((i, label == ANGER || label == SADNESS, w));
        data[pos].push((i, label == JOY || label == OPTIMISM, w));
        if label == ANGER || label == SADNESS {
            data[anger].push((i, label == ANGER, w));
        }
    }
    for (text, label) in tweeteval(dir, "sentiment", "train")? {
        let i = examples.len();
        examples.push(model::example(&text, cfg.log2_buckets));
        let w = cfg.sentiment_weight;
        data[neg].push((i, label == SENTIMENT_NEGATIVE, w));
        data[pos].push((i, label == SENTIMENT_POSITIVE, w));
    }
    for (text, label) in tweeteval(dir, "offensive", "train")? {
        let i = examples.len();
        examples.push(model::example(&text, cfg.log2_buckets));
        data[off].push((i, label == 1, 1.0));
    }
    if cfg.hate_weight > 0.0 {
        for (text, label) in tweeteval(dir, "hate", "train")? {
            let i = examples.len();
            examples.push(model::example(&text, cfg.log2_buckets));
            data[off].push((i, label == 1, cfg.hate_weight));
        }
    }
    Ok(model::train(&examples, &data, cfg))
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassScore {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Scores of one predictor on one set.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    /// `matrix[gold][predicted]` counts.
    pub matrix: Vec<Vec<usize>>,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub classes: Vec<ClassScore>,
}

/// Scores from gold and predicted class indices.
pub fn score(gold: &[usize], predicted: &[usize], classes: usize) -> Scores {
    let mut matrix = vec![vec![0usize; classes]; classes];
    for (g, p) in gold.iter().zip(predicted) {
        matrix[*g][*p] += 1;
    }
    let correct: usize = (0..classes).map(|c| matrix[c][c]).sum();
    let per: Vec<ClassScore> = (0..classes)
        .map(|c| {
            let tp = matrix[c][c] as f64;
            let predicted: usize = (0..classes).map(|g| matrix[g][c]).sum();
            let support: usize = matrix[c].iter().sum();
            let precision = if predicted == 0 {
                0.0
            } else {
                tp / predicted as f64
            };
            let recall = if support == 0 {
                0.0
            } else {
                tp / support as f64
            };
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassScore {
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    Scores {
        accuracy: correct as f64 / gold.len().max(1) as f64,
        macro_f1: per.iter().map(|c| c.f1).sum::<f64>() / classes as f64,
        classes: per,
        matrix,
    }
}

/// One evaluated task.
pub struct Report {
    pub set: &'static str,
    pub task: &'static str,
    pub classes: &'static [&'static str],
    pub size: usize,
    pub model: Scores,
    pub baseline: Scores,
}

/// The offensive-vs-not decision from a reading.
pub fn predicts_offensive(r: &Reading) -> bool {
    r.label == Label::Abusive || r.offensive >= 0.5
}

/// Polarity class of a reading: 0 not negative … for binary tasks.
fn negative_class(r: &Reading) -> usize {
    usize::from(r.label.is_negative())
}

fn polarity3(r: &Reading) -> usize {
    match r.label {
        Label::Pleased => 0,
        Label::Neutral => 1,
        _ => 2,
    }
}

fn emotion3(r: &Reading) -> usize {
    match r.label {
        Label::Angry | Label::Abusive => 2,
        Label::Frustrated => 1,
        _ => 0,
    }
}

#[allow(clippy::too_many_arguments)] // one call site per set; a struct would only rename the list
fn task(
    set: &'static str,
    task: &'static str,
    classes: &'static [&'static str],
    texts: &[String],
    gold: Vec<usize>,
    model_readings: &[Reading],
    base_readings: &[Reading],
    predict: fn(&Reading) -> usize,
) -> Report {
    let pm: Vec<usize> = model_readings.iter().map(predict).collect();
    let pb: Vec<usize> = base_readings.iter().map(predict).collect();
    Report {
        set,
        task,
        classes,
        size: texts.len(),
        model: score(&gold, &pm, classes.len()),
        baseline: score(&gold, &pb, classes.len()),
    }
}

/// Evaluates `model` (and the lexicon-only baseline) on the dev/val splits.
pub fn evaluate(dir: &Path, model: &Model) -> Result<Vec<Report>, DataError> {
    let mut reports = Vec::new();
    let read_all = |texts: &[String]| -> (Vec<Reading>, Vec<Reading>) {
        (
            texts.iter().map(|t| crate::read_with(t, model)).collect(),
            texts.iter().map(|t| crate::read_baseline(t)).collect(),
        )
    };

    let dev = goemotions(dir, "dev")?;
    let texts: Vec<String> = dev.iter().map(|c| c.text.clone()).collect();
    let (m, b) = read_all(&texts);
    let gold: Vec<usize> = dev.iter().map(|c| usize::from(c.negative())).collect();
    reports.push(task(
        "GoEmotions dev",
        "negative vs not",
        &["not", "negative"],
        &texts,
        gold,
        &m,
        &b,
        negative_class,
    ));
    let gold: Vec<usize> = dev
        .iter()
        .map(|c| {
            if c.negative() {
                2
            } else if c.positive() {
                0
            } else {
                1
            }
        })
        .collect();
    reports.push(task(
        "GoEmotions dev",
        "pleased / neutral / negative",
        &["pleased", "neutral", "negative"],
        &texts,
        gold,
        &m,
        &b,
        polarity3,
    ));

    let val = tweeteval(dir, "sentiment", "val")?;
    let texts: Vec<String> = val.iter().map(|(t, _)| t.clone()).collect();
    let (m, b) = read_all(&texts);
    let gold: Vec<usize> = val
        .iter()
        .map(|(_, l)| usize::from(*l == SENTIMENT_NEGATIVE))
        .collect();
    reports.push(task(
        "TweetEval sentiment val",
        "negative vs not",
        &["not", "negative"],
        &texts,
        gold,
        &m,
        &b,
        negative_class,
    ));
    let gold: Vec<usize> = val
        .iter()
        .map(|(_, l)| match *l {
            SENTIMENT_POSITIVE => 0,
            SENTIMENT_NEGATIVE => 2,
            _ => 1,
        })
        .collect();
    reports.push(task(
        "TweetEval sentiment val",
        "pleased / neutral / negative",
        &["pleased", "neutral", "negative"],
        &texts,
        gold,
        &m,
        &b,
        polarity3,
    ));

    let val = tweeteval(dir, "emotion", "val")?;
    let texts: Vec<String> = val.iter().map(|(t, _)| t.clone()).collect();
    let (m, b) = read_all(&texts);
    let gold: Vec<usize> = val
        .iter()
        .map(|(_, l)| usize::from(*l == ANGER || *l == SADNESS))
        .collect();
    reports.push(task(
        "TweetEval emotion val",
        "negative vs not",
        &["not", "negative"],
        &texts,
        gold,
        &m,
        &b,
        negative_class,
    ));
    let gold: Vec<usize> = val
        .iter()
        .map(|(_, l)| match *l {
            ANGER => 2,
            SADNESS => 1,
            _ => 0,
        })
        .collect();
    reports.push(task(
        "TweetEval emotion val",
        "angry / frustrated (sadness) / not negative",
        &["not negative", "frustrated", "angry"],
        &texts,
        gold,
        &m,
        &b,
        emotion3,
    ));

    for (name, set, classes) in [
        (
            "offensive",
            "TweetEval offensive val",
            &["not", "offensive"],
        ),
        ("hate", "TweetEval hate val", &["not", "hateful"]),
    ] {
        let val = tweeteval(dir, name, "val")?;
        let texts: Vec<String> = val.iter().map(|(t, _)| t.clone()).collect();
        let (m, b) = read_all(&texts);
        let gold: Vec<usize> = val.iter().map(|(_, l)| usize::from(*l == 1)).collect();
        let task_name = if name == "offensive" {
            "offensive vs not"
        } else {
            "hateful vs not (offensive decision)"
        };
        reports.push(task(set, task_name, classes, &texts, gold, &m, &b, |r| {
            usize::from(predicts_offensive(r))
        }));
    }
    Ok(reports)
}

/// The reports as Markdown tables.
pub fn render(reports: &[Report]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| set | task | n | model acc | model macro-F1 | baseline acc | baseline macro-F1 |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for r in reports {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.3} | **{:.3}** | {:.3} | {:.3} |",
            r.set,
            r.task,
            r.size,
            r.model.accuracy,
            r.model.macro_f1,
            r.baseline.accuracy,
            r.baseline.macro_f1
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Per class (precision / recall, support):");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| set | task | class | n | model P | model R | baseline P | baseline R |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for r in reports {
        for (k, class) in r.classes.iter().enumerate() {
            let (m, b) = (&r.model.classes[k], &r.baseline.classes[k]);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
                r.set, r.task, class, m.support, m.precision, m.recall, b.precision, b.recall
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Confusion matrices (rows: gold, columns: predicted; judge | baseline):"
    );
    for r in reports {
        let _ = writeln!(out);
        let _ = writeln!(out, "{} — {}", r.set, r.task);
        let _ = writeln!(out);
        let mut head = String::from("| gold \\ predicted |");
        let mut rule = String::from("|---|");
        for who in ["judge", "baseline"] {
            for c in r.classes {
                let _ = write!(head, " {who}: {c} |");
                rule.push_str("---|");
            }
        }
        let _ = writeln!(out, "{head}");
        let _ = writeln!(out, "{rule}");
        for (g, class) in r.classes.iter().enumerate() {
            let mut row = format!("| {class} |");
            for s in [&r.model, &r.baseline] {
                for n in &s.matrix[g] {
                    let _ = write!(row, " {n} |");
                }
            }
            let _ = writeln!(out, "{row}");
        }
    }
    out
}

/// Throughput figures.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// MB (10^6 bytes) of text per second through [`crate::read`], one thread, short texts.
    pub read_short_mb_s: f64,
    /// The same on ~2 KB emails made by joining texts.
    pub read_email_mb_s: f64,
    /// Microseconds per [`crate::coach`] verdict on a ~2 KB draft.
    pub coach_us: f64,
}

/// A reply draft of about 2 KB, mixing the phrases the coach looks for.
pub fn sample_draft() -> String {
    let parts = [
        "Hi Sam, thank you for writing back, and I'm sorry the replacement kettle still has not arrived.",
        "I can see from the tracking that the courier tried to deliver it on Tuesday while nobody was home.",
        "I can arrange a new delivery for Friday morning, or I can refund the full amount today, whichever you prefer.",
        "We can't refund the delivery charge because it was paid to the courier directly, but I will credit it to your account by Monday.",
        "If you would rather collect it, the depot on Mill Lane is open from 8 am to 6 pm on weekdays.",
    ];
    let mut draft = String::new();
    while draft.len() < 2048 {
        for p in parts {
            draft.push_str(p);
            draft.push(' ');
        }
    }
    draft.truncate(2048);
    draft
}

/// Measures throughput on `texts` (single thread, after one warm-up pass).
pub fn throughput(texts: &[String], model: &Model) -> Throughput {
    let bytes: usize = texts.iter().map(String::len).sum();
    let time = |f: &mut dyn FnMut() -> usize| -> f64 {
        f();
        let mut done = 0usize;
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < 1.0 {
            done += f();
        }
        done as f64 / start.elapsed().as_secs_f64() / 1e6
    };
    let read_short_mb_s = time(&mut || {
        let mut sink = 0usize;
        for t in texts {
            sink += crate::read_with(t, model).signals.len();
        }
        std::hint::black_box(sink);
        bytes
    });
    let mut emails = Vec::new();
    let mut email = String::new();
    for t in texts {
        email.push_str(t);
        email.push_str(if email.len().is_multiple_of(3) {
            "\n\n"
        } else {
            " "
        });
        if email.len() >= 2000 {
            emails.push(std::mem::take(&mut email));
        }
    }
    let email_bytes: usize = emails.iter().map(String::len).sum();
    let read_email_mb_s = time(&mut || {
        for e in &emails {
            std::hint::black_box(crate::read_with(e, model));
        }
        email_bytes
    });
    let draft = sample_draft();
    let customer = crate::read("This is the third time I've asked. Where is my kettle?!");
    let input = CoachInput {
        draft: &draft,
        customer: Some(&customer),
        need: Some("replacement kettle delivered"),
    };
    let runs = 2000;
    std::hint::black_box(crate::coach(&input));
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(crate::coach(&input));
    }
    let coach_us = start.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    Throughput {
        read_short_mb_s,
        read_email_mb_s,
        coach_us,
    }
}

/// All dev/val texts, for throughput runs.
pub fn eval_texts(dir: &Path) -> Result<Vec<String>, DataError> {
    let mut texts: Vec<String> = goemotions(dir, "dev")?
        .into_iter()
        .map(|c| c.text)
        .collect();
    for name in ["sentiment", "emotion", "offensive", "hate"] {
        texts.extend(tweeteval(dir, name, "val")?.into_iter().map(|(t, _)| t));
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_confusion_matrix() {
        // gold: 0 0 0 1 1; predicted: 0 1 0 1 0
        let s = score(&[0, 0, 0, 1, 1], &[0, 1, 0, 1, 0], 2);
        assert_eq!(s.matrix, vec![vec![2, 1], vec![1, 1]]);
        assert!((s.accuracy - 0.6).abs() < 1e-9);
        // class 0: P 2/3 R 2/3; class 1: P 1/2 R 1/2.
        assert!((s.classes[0].f1 - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.classes[1].f1 - 0.5).abs() < 1e-9);
        assert!((s.macro_f1 - (2.0 / 3.0 + 0.5) / 2.0).abs() < 1e-9);
        assert_eq!(s.classes[1].support, 2);
    }

    #[test]
    fn render_shows_both_readers_side_by_side() {
        let s = score(&[0, 1], &[0, 1], 2);
        let out = render(&[Report {
            set: "a set",
            task: "negative vs not",
            classes: &["not", "negative"],
            size: 2,
            model: s.clone(),
            baseline: s,
        }]);
        assert!(out.contains("| a set | negative vs not | 2 |"), "{out}");
        assert!(out.contains("judge: negative"), "{out}");
        assert!(out.contains("baseline: not"), "{out}");
    }
}
