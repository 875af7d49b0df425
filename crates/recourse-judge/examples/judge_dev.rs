//! Development loop for the judge without building the whole CLI:
//! `cargo run -p recourse-judge --example judge_dev -- ../shared/data/text [--train OUT] [--model FILE]`.
//! Trains (when `--train` is given; `TrainConfig` fields may be overridden through
//! environment variables, see below) and prints the same tables as `recourse judge eval`,
//! or with `--summary` one line per configuration: each set's judge and baseline
//! macro-F1 and the worst margin over the baseline.

use std::path::PathBuf;

use recourse_judge::eval;
use recourse_judge::model::{Model, TrainConfig};

fn env(name: &str) -> Option<f32> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data = PathBuf::from(args.next().unwrap_or_else(|| "../shared/data/text".into()));
    let mut trained = None;
    let mut summary = false;
    let mut bench = false;
    let mut cfg = TrainConfig::default();
    if let Some(v) = env("BALANCE") {
        cfg.balance = v;
    }
    if let Some(v) = env("TWEET_W") {
        cfg.tweet_weight = v;
    }
    if let Some(v) = env("SENT_W") {
        cfg.sentiment_weight = v;
    }
    if let Some(v) = env("EPOCHS") {
        cfg.epochs = v as u32;
    }
    if let Some(v) = env("HATE_W") {
        cfg.hate_weight = v;
    }
    if let Some(v) = env("LOG2") {
        cfg.log2_buckets = v as u32;
    }
    if let Some(v) = env("LR") {
        cfg.learning_rate = v;
    }
    if let Some(v) = env("NB_MIX") {
        cfg.nb_mix = v;
    }
    for (h, name) in ["CUT_NEG", "CUT_POS", "CUT_OFF", "CUT_ANGER"]
        .iter()
        .enumerate()
    {
        if let Some(v) = env(name) {
            cfg.cuts[h] = v;
        }
    }
    while let Some(a) = args.next() {
        match a.as_str() {
            "--train" => {
                let out = PathBuf::from(args.next().ok_or("--train needs a file")?);
                let start = std::time::Instant::now();
                let model = eval::train(&data, cfg)?;
                std::fs::write(&out, model.to_bytes())?;
                eprintln!(
                    "trained in {:.1} s -> {}",
                    start.elapsed().as_secs_f64(),
                    out.display()
                );
                trained = Some(model);
            }
            "--model" => {
                let path = PathBuf::from(args.next().ok_or("--model needs a file")?);
                trained = Some(Model::from_bytes(&std::fs::read(path)?)?);
            }
            "--summary" => summary = true,
            "--bench" => bench = true,
            "--misses" => {
                // Sentiment val texts the judge gets wrong on negative vs not.
                for (text, label) in eval::tweeteval(&data, "sentiment", "val")? {
                    let r = recourse_judge::read(&text);
                    if (label == 0) != r.label.is_negative() {
                        println!("gold {label} got {} | {text}", r.label);
                    }
                }
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let model = trained
        .as_ref()
        .unwrap_or_else(|| recourse_judge::model::embedded());
    if bench {
        let texts = eval::eval_texts(&data)?;
        let t = eval::throughput(&texts, model);
        println!(
            "read() {:.1} MB/s on short texts, {:.1} MB/s on ~2 KB emails; coach() {:.0} µs per 2 KB draft",
            t.read_short_mb_s, t.read_email_mb_s, t.coach_us
        );
        return Ok(());
    }
    let reports = eval::evaluate(&data, model)?;
    if summary {
        let mut line = format!("{cfg:?}\n");
        let mut worst = f64::INFINITY;
        for r in &reports {
            let margin = r.model.macro_f1 - r.baseline.macro_f1;
            worst = worst.min(margin);
            line.push_str(&format!(
                "  {} / {}: {:.3} (baseline {:.3})\n",
                r.set, r.task, r.model.macro_f1, r.baseline.macro_f1
            ));
        }
        println!("{line}  worst margin {worst:+.3}");
    } else {
        print!("{}", eval::render(&reports));
    }
    Ok(())
}
