//! `recourse judge …`: train and evaluate the demeanor judge, and try it on text.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use recourse_judge::eval;
use recourse_judge::model::{Model, TrainConfig};
use recourse_judge::{CoachInput, coach, new_text, read};

#[derive(Args)]
pub struct JudgeArgs {
    #[command(subcommand)]
    command: JudgeCommand,
}

#[derive(Subcommand)]
enum JudgeCommand {
    /// Train the model on the train splits under --data and write the weights file.
    Train {
        /// The labelled text folder (`../shared/data/text`).
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "crates/recourse-judge/model/weights.bin")]
        out: PathBuf,
    },
    /// Regenerate the embedded lexicon file from the raw word lists.
    Lexicon {
        /// The lexicon folder (`../shared/data/lexicons`).
        #[arg(long)]
        lexicons: PathBuf,
        #[arg(long, default_value = "crates/recourse-judge/model/lexicon.tsv")]
        out: PathBuf,
    },
    /// Print accuracy, macro-F1 and per-class figures on the dev/val splits, next to the
    /// lexicon-only baseline, and throughput.
    Eval {
        #[arg(long)]
        data: PathBuf,
        /// Evaluate this weights file instead of the compiled-in one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Read one message (argument or standard input) and print the reading as JSON.
    Read {
        text: Option<String>,
        /// Strip quoted history and signature first, as for an inbound email.
        #[arg(long)]
        email: bool,
    },
    /// Coach a draft reply (argument or standard input) and print the flags as JSON.
    Coach {
        draft: Option<String>,
        /// The customer's latest message.
        #[arg(long)]
        customer: Option<String>,
        /// The ticket's need.
        #[arg(long)]
        need: Option<String>,
    },
}

fn text_or_stdin(text: Option<String>) -> anyhow::Result<String> {
    match text {
        Some(t) => Ok(t),
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading standard input")?;
            Ok(s)
        }
    }
}

fn check_data(dir: &Path) -> anyhow::Result<()> {
    if !dir.join("goemotions").is_dir() || !dir.join("tweeteval").is_dir() {
        bail!(
            "{} does not look like the labelled text folder (expected goemotions/ and tweeteval/)",
            dir.display()
        );
    }
    Ok(())
}

pub fn run(args: JudgeArgs) -> anyhow::Result<()> {
    match args.command {
        JudgeCommand::Train { data, out } => {
            check_data(&data)?;
            let start = Instant::now();
            let model = eval::train(&data, TrainConfig::default())?;
            let bytes = model.to_bytes();
            std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "trained in {:.1} s; wrote {} ({} bytes)",
                start.elapsed().as_secs_f64(),
                out.display(),
                bytes.len()
            );
            print!("{}", eval::render(&eval::evaluate(&data, &model)?));
        }
        JudgeCommand::Lexicon { lexicons, out } => {
            let load = |name: &str| {
                let path = lexicons.join(name);
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))
            };
            let file = recourse_judge::build_lexicon_file(
                &load("vader_lexicon.txt")?,
                &load("emoji_utf8_lexicon.txt")?,
                &load("better-profanity_wordlist.txt")?,
            );
            std::fs::write(&out, file).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {}", out.display());
        }
        JudgeCommand::Eval { data, model } => {
            check_data(&data)?;
            let loaded;
            let model: &Model = match model {
                Some(path) => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    loaded = Model::from_bytes(&bytes)?;
                    &loaded
                }
                None => recourse_judge::model::embedded(),
            };
            let start = Instant::now();
            let reports = eval::evaluate(&data, model)?;
            print!("{}", eval::render(&reports));
            println!();
            println!("(evaluated in {:.1} s)", start.elapsed().as_secs_f64());
            let texts = eval::eval_texts(&data)?;
            let t = eval::throughput(&texts, model);
            println!(
                "throughput, one thread: read() {:.1} MB/s on short texts ({} texts), {:.1} MB/s on ~2 KB emails; coach() {:.0} µs per 2 KB draft",
                t.read_short_mb_s,
                texts.len(),
                t.read_email_mb_s,
                t.coach_us
            );
        }
        JudgeCommand::Read { text, email } => {
            let text = text_or_stdin(text)?;
            let text = if email { new_text(&text) } else { text };
            println!("{}", serde_json::to_string_pretty(&read(&text))?);
        }
        JudgeCommand::Coach {
            draft,
            customer,
            need,
        } => {
            let draft = text_or_stdin(draft)?;
            let customer = customer.map(|c| read(&c));
            let flags = coach(&CoachInput {
                draft: &draft,
                customer: customer.as_ref(),
                need: need.as_deref(),
            });
            println!("{}", serde_json::to_string_pretty(&flags)?);
        }
    }
    Ok(())
}
