//! The practice desk: agents rehearse replies to made-up upset customers and the reply
//! coach scores them. A scenario library written for Recourse ships with the desk
//! (`practice/scenarios.json`) and is copied into the database the first time anyone
//! practises, so admins can add and edit scenarios as ordinary rows.
//!
//! Practice touches no ticket, customer, outbox or report: its rows are the scenarios
//! and the attempts. Each agent sees their own progress; managers see the team's
//! together, never split into people (DESIGN P3: no league tables).

use recourse_domain::{Agent, AgentId, Millis, Role};
use recourse_judge::{CoachFlag, CoachInput, FlagKind};
use recourse_store::{
    NewPracticeAttempt, NewPracticeScenario, PracticeAttempt, PracticeScenario, PracticeTally,
};
use serde::Deserialize;

use crate::{Desk, DeskError, Result};

/// The kinds of scenario, in the order the console lists them.
pub const KINDS: [&str; 6] = [
    "frontline_recovery",
    "repeated_contact",
    "cant_help",
    "abuse",
    "referral",
    "inconsolable",
];

/// A kind for people to read.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "frontline_recovery" => "Putting it right",
        "repeated_contact" => "Repeated contact",
        "cant_help" => "When we can't help",
        "abuse" => "Abuse",
        "referral" => "Referring elsewhere",
        "inconsolable" => "Inconsolable",
        _ => "Other",
    }
}

/// The longest practice reply taken, in bytes (a reply to a customer is a few
/// paragraphs; anything far longer is a paste gone wrong).
pub const MAX_REPLY_BYTES: usize = 10_000;
/// The longest customer message, good answer or example answer in a scenario.
pub const MAX_SCENARIO_TEXT: usize = 4_000;

/// What the score is made of: each thing a good answer does, with its weight (they
/// add up to 100) and the coach flag that says it is missing.
pub const CHECKS: [(FlagKind, &str, i64); 8] = [
    (
        FlagKind::NoAcknowledgement,
        "Acknowledges how they feel",
        20,
    ),
    (FlagKind::NoOption, "Offers something concrete", 20),
    (FlagKind::NeedNotAddressed, "Answers what they need", 20),
    (FlagKind::BlamesCustomer, "No blame", 10),
    (FlagKind::FobOff, "No fob-off", 10),
    (FlagKind::RespondsInKind, "Calm, not defensive", 10),
    (FlagKind::RefusalWithoutReason, "Says why, when refusing", 5),
    (FlagKind::PromiseWithoutTime, "Says when", 5),
];

/// The score for a reply the coach flagged so: 100 less the weight of each check missed.
pub fn score(flags: &[CoachFlag]) -> i64 {
    CHECKS
        .iter()
        .filter(|(kind, _, _)| flags.iter().any(|f| f.kind == *kind))
        .fold(100, |s, (_, _, w)| s - w)
}

/// The verdict shown with a score.
pub fn verdict(score: i64) -> &'static str {
    match score {
        85.. => "Ready to send",
        60..=84 => "Nearly there",
        _ => "Try again",
    }
}

/// One check on a reply, passed or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub label: &'static str,
    pub passed: bool,
    pub weight: i64,
}

/// What a rehearsal comes back with: the stored attempt, the coach's advice, the
/// checks behind the score, and the scenario (for its example answer).
#[derive(Debug, Clone)]
pub struct Rehearsal {
    pub attempt: PracticeAttempt,
    pub scenario: PracticeScenario,
    pub flags: Vec<CoachFlag>,
    pub checks: Vec<Check>,
    pub verdict: &'static str,
}

/// An agent's own progress.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Newest first.
    pub recent: Vec<PracticeAttempt>,
    pub by_kind: Vec<PracticeTally>,
    /// The last [`PROGRESS_DAYS`] days with attempts, oldest first.
    pub by_day: Vec<PracticeTally>,
}

/// The team's practice, all agents together.
#[derive(Debug, Clone)]
pub struct TeamPractice {
    pub by_kind: Vec<PracticeTally>,
    pub by_day: Vec<PracticeTally>,
}

/// How far back progress over time looks.
pub const PROGRESS_DAYS: i64 = 90;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryEntry {
    slug: String,
    kind: String,
    subject: String,
    topic: String,
    message: String,
    need: String,
    good_answer: String,
    example: String,
}

/// The scenario library shipped with the desk.
pub fn library() -> Vec<NewPracticeScenario> {
    let entries: Vec<LibraryEntry> =
        serde_json::from_str(include_str!("../practice/scenarios.json"))
            .expect("practice/scenarios.json is checked by the tests");
    entries
        .into_iter()
        .map(|e| NewPracticeScenario {
            slug: Some(e.slug),
            kind: e.kind,
            subject: e.subject,
            topic: e.topic,
            customer_message: e.message,
            need: e.need,
            good_answer: e.good_answer,
            example_answer: e.example,
        })
        .collect()
}

fn invalid(code: &'static str, message: impl Into<String>) -> DeskError {
    DeskError::Invalid {
        code,
        message: message.into(),
    }
}

/// Checks a practice reply: not blank, not longer than [`MAX_REPLY_BYTES`].
pub fn check_reply(reply: &str) -> Result<()> {
    if reply.trim().is_empty() {
        return Err(invalid(
            "empty_reply",
            "Write a reply to the customer before asking for a score.",
        ));
    }
    if reply.len() > MAX_REPLY_BYTES {
        return Err(invalid(
            "reply_too_long",
            format!(
                "A practice reply may be at most {MAX_REPLY_BYTES} bytes; this one is {}.",
                reply.len()
            ),
        ));
    }
    if reply.contains('\0') {
        return Err(invalid(
            "invalid_reply",
            "The reply may not contain NUL characters.",
        ));
    }
    Ok(())
}

/// Checks a scenario written by an admin (and trims its fields).
pub fn check_scenario(mut s: NewPracticeScenario) -> Result<NewPracticeScenario> {
    if !KINDS.contains(&s.kind.as_str()) {
        return Err(invalid(
            "invalid_kind",
            format!("The kind must be one of: {}.", KINDS.join(", ")),
        ));
    }
    let one_line = |v: &str| !v.is_empty() && !v.contains(['\n', '\r', '\0']);
    s.subject = s.subject.trim().to_owned();
    if !one_line(&s.subject) || s.subject.chars().count() > 200 {
        return Err(invalid(
            "invalid_subject",
            "A scenario needs a one-line subject of at most 200 characters.",
        ));
    }
    s.topic = s.topic.trim().to_owned();
    if !one_line(&s.topic) || s.topic.chars().count() > 40 {
        return Err(invalid(
            "invalid_topic",
            "A scenario needs a one-line topic of at most 40 characters (delivery, refund, billing…).",
        ));
    }
    s.need = s.need.trim().to_owned();
    if !one_line(&s.need) || s.need.chars().count() > 300 {
        return Err(invalid(
            "invalid_need",
            "A scenario needs the customer's need on one line, at most 300 characters.",
        ));
    }
    for (field, value) in [
        ("customer message", &mut s.customer_message),
        ("good answer", &mut s.good_answer),
        ("example answer", &mut s.example_answer),
    ] {
        *value = value.trim().to_owned();
        if value.is_empty() || value.len() > MAX_SCENARIO_TEXT || value.contains('\0') {
            return Err(invalid(
                "invalid_text",
                format!("The {field} must be between 1 and {MAX_SCENARIO_TEXT} bytes of text."),
            ));
        }
    }
    Ok(s)
}

/// The coach's advice and score for a reply to a scenario (pure: nothing is stored).
pub fn assess(scenario: &PracticeScenario, reply: &str) -> (Vec<CoachFlag>, Vec<Check>, i64) {
    let customer = recourse_judge::read(&scenario.customer_message);
    let flags = recourse_judge::coach(&CoachInput {
        draft: reply,
        customer: Some(&customer),
        need: Some(&scenario.need),
    });
    let checks = CHECKS
        .iter()
        .map(|(kind, label, weight)| Check {
            label,
            passed: !flags.iter().any(|f| f.kind == *kind),
            weight: *weight,
        })
        .collect();
    let s = score(&flags);
    (flags, checks, s)
}

impl Desk {
    /// Copies the shipped library in when no scenario is stored yet.
    async fn ensure_practice_library(&self, now: Millis) -> Result<()> {
        if self.store.count_practice_scenarios().await? == 0 {
            self.store.seed_practice_scenarios(&library(), now).await?;
        }
        Ok(())
    }

    /// Every scenario (the library is stored on first use).
    pub async fn practice_scenarios(&self, now: Millis) -> Result<Vec<PracticeScenario>> {
        self.ensure_practice_library(now).await?;
        Ok(self.store.practice_scenarios().await?)
    }

    pub async fn practice_scenario(&self, id: i64, now: Millis) -> Result<PracticeScenario> {
        self.ensure_practice_library(now).await?;
        Ok(self.store.practice_scenario(id).await?)
    }

    /// An admin adds (`id: None`) or edits a scenario.
    pub async fn save_practice_scenario(
        &self,
        admin: &Agent,
        id: Option<i64>,
        s: NewPracticeScenario,
        now: Millis,
    ) -> Result<PracticeScenario> {
        if !admin.role.at_least(Role::Admin) {
            return Err(DeskError::Forbidden(
                "Only admins may edit practice scenarios.",
            ));
        }
        self.ensure_practice_library(now).await?;
        let s = check_scenario(NewPracticeScenario { slug: None, ..s })?;
        Ok(self.store.save_practice_scenario(id, s, now).await?)
    }

    /// An agent rehearses: the coach scores their reply to the scenario and the attempt
    /// is stored (the scenario must exist; the reply must be usable).
    pub async fn practise(
        &self,
        agent: AgentId,
        scenario_id: i64,
        reply: &str,
        now: Millis,
    ) -> Result<Rehearsal> {
        let scenario = self.practice_scenario(scenario_id, now).await?;
        check_reply(reply)?;
        let (flags, checks, score) = assess(&scenario, reply);
        let attempt = self
            .store
            .insert_practice_attempt(
                NewPracticeAttempt {
                    agent_id: agent,
                    scenario_id,
                    reply: reply.to_owned(),
                    score,
                    flags: flags.iter().map(|f| f.kind.as_str().to_owned()).collect(),
                },
                now,
            )
            .await?;
        Ok(Rehearsal {
            attempt,
            scenario,
            flags,
            checks,
            verdict: verdict(score),
        })
    }

    /// One agent's own progress: recent attempts, by kind, and by day.
    pub async fn practice_progress(&self, agent: AgentId, now: Millis) -> Result<Progress> {
        let since = Millis(now.0 - PROGRESS_DAYS * 86_400_000);
        Ok(Progress {
            recent: self.store.practice_attempts_of(agent, 50).await?,
            by_kind: self.store.practice_by_kind(Some(agent)).await?,
            by_day: self.store.practice_by_day(Some(agent), since).await?,
        })
    }

    /// The team's practice for a manager: every agent's attempts together, by kind and
    /// by day. There is deliberately no per-agent figure.
    pub async fn practice_team(&self, manager: &Agent, now: Millis) -> Result<TeamPractice> {
        if !manager.role.at_least(Role::Manager) {
            return Err(DeskError::Forbidden(
                "Only managers see the team's practice.",
            ));
        }
        let since = Millis(now.0 - PROGRESS_DAYS * 86_400_000);
        Ok(TeamPractice {
            by_kind: self.store.practice_by_kind(None).await?,
            by_day: self.store.practice_by_day(None, since).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_has_forty_scenarios_across_every_kind() {
        let lib = library();
        assert!(lib.len() >= 40, "{} scenarios", lib.len());
        for kind in KINDS {
            assert!(
                lib.iter().filter(|s| s.kind == kind).count() >= 6,
                "too few {kind} scenarios"
            );
        }
        let mut slugs: Vec<_> = lib.iter().map(|s| s.slug.clone().unwrap()).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), lib.len(), "slugs are unique");
        for s in lib {
            let slug = s.slug.clone().unwrap();
            assert_eq!(
                check_scenario(s.clone()).unwrap(),
                s,
                "{slug} is well formed"
            );
        }
    }

    #[test]
    fn every_example_answer_scores_well() {
        let mut weak = Vec::new();
        for (i, s) in library().into_iter().enumerate() {
            let scenario = PracticeScenario {
                id: i as i64,
                slug: s.slug.clone(),
                kind: s.kind,
                subject: s.subject,
                topic: s.topic,
                customer_message: s.customer_message,
                need: s.need,
                good_answer: s.good_answer,
                example_answer: s.example_answer.clone(),
                created_at: Millis(0),
                updated_at: Millis(0),
            };
            let (flags, _, score) = assess(&scenario, &s.example_answer);
            let kinds: Vec<_> = flags.iter().map(|f| f.kind.as_str()).collect();
            if score < 80 {
                weak.push(format!("{:?} scores {score}: {kinds:?}", s.slug));
            }
        }
        assert!(weak.is_empty(), "{weak:#?}");
    }

    #[test]
    fn a_curt_reply_scores_low_and_the_weights_add_up() {
        assert_eq!(CHECKS.iter().map(|c| c.2).sum::<i64>(), 100);
        let s = &library()[0];
        let scenario = PracticeScenario {
            id: 1,
            slug: s.slug.clone(),
            kind: s.kind.clone(),
            subject: s.subject.clone(),
            topic: s.topic.clone(),
            customer_message: s.customer_message.clone(),
            need: s.need.clone(),
            good_answer: s.good_answer.clone(),
            example_answer: s.example_answer.clone(),
            created_at: Millis(0),
            updated_at: Millis(0),
        };
        let (flags, checks, score) = assess(
            &scenario,
            "That is not our problem, you should have been home.",
        );
        assert!(score < 60, "{score} {flags:?}");
        assert_eq!(verdict(score), "Try again");
        assert!(checks.iter().any(|c| !c.passed));
        assert_eq!(verdict(100), "Ready to send");
        assert_eq!(verdict(70), "Nearly there");
    }

    #[test]
    fn bad_replies_are_refused_with_a_code() {
        let code = |r: &str| match check_reply(r) {
            Err(DeskError::Invalid { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code("   \n "), "empty_reply");
        assert_eq!(code(&"a".repeat(50 * 1024)), "reply_too_long");
        assert!(check_reply("I'm sorry, I can fix this today.").is_ok());
    }
}
