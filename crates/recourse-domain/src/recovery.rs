//! When the desk cannot give the customer what they asked for (P6–P11): an honest
//! explanation with at least a partial solution, transfers that always tell the
//! customer who has the case, referrals to someone who can serve them, and the
//! satisfaction survey that measures product and service apart.

use crate::enums::word_enum;
use crate::{UnknownVariant, ValidationError};
use std::fmt;

word_enum!(
    /// Why the desk cannot do what the customer asks.
    CantHelpReason: "can't-help reason" {
        LawOrRegulation = "law_or_regulation",
        CompanyPolicy = "company_policy",
        CustomerAction = "customer_action",
        TechnologyLimit = "technology_limit",
        ThirdParty = "third_party",
        Other = "other",
    }
);

/// Who can help instead, when the matter is someone else's to handle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThirdParty {
    pub who: String,
    pub why_theirs: String,
    pub how_to_reach: String,
}

/// A can't-help as an agent submits it, before checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CantHelpDraft {
    pub reason: CantHelpReason,
    pub explanation: String,
    pub partial_solution: Option<String>,
    pub no_partial_justification: Option<String>,
    pub third_party: Option<ThirdParty>,
    pub handoff_summary: Option<String>,
}

/// A checked can't-help. Either it offers something (`partial_solution`) and goes to the
/// customer now, or it argues that nothing can be offered and waits for a manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CantHelp {
    pub reason: CantHelpReason,
    pub explanation: String,
    pub partial_solution: Option<String>,
    pub no_partial_justification: Option<String>,
    pub third_party: Option<ThirdParty>,
    pub handoff_summary: Option<String>,
}

impl CantHelp {
    /// Whether a manager must look before the customer hears it.
    pub fn needs_review(&self) -> bool {
        self.partial_solution.is_none()
    }
}

const MAX_PART: usize = 20_000;

fn part(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn missing(field: &'static str, code: &'static str, message: &str) -> ValidationError {
    ValidationError::new(field, code, message.to_owned())
}

/// Checks each part and names the first one missing with its own code, in the order a
/// form shows them.
pub fn check_cant_help(d: &CantHelpDraft) -> Result<CantHelp, ValidationError> {
    let explanation = d.explanation.trim().to_owned();
    if explanation.is_empty() {
        return Err(missing(
            "explanation",
            "explanation_required",
            "Say why we cannot do this, in words the customer will read.",
        ));
    }
    let partial = part(&d.partial_solution);
    let justification = part(&d.no_partial_justification);
    if partial.is_none() && justification.is_none() {
        return Err(missing(
            "partial_solution",
            "partial_solution_required",
            "Offer what we can still do, or explain (for a manager) why there is nothing at all.",
        ));
    }
    let third_party = match d.reason {
        CantHelpReason::ThirdParty => {
            let tp = d.third_party.clone().unwrap_or_default();
            let (who, why, how) = (
                tp.who.trim().to_owned(),
                tp.why_theirs.trim().to_owned(),
                tp.how_to_reach.trim().to_owned(),
            );
            if who.is_empty() {
                return Err(missing(
                    "third_party.who",
                    "third_party_who_required",
                    "Name who can help the customer.",
                ));
            }
            if why.is_empty() {
                return Err(missing(
                    "third_party.why_theirs",
                    "third_party_why_required",
                    "Say why this is theirs to handle rather than ours.",
                ));
            }
            if how.is_empty() {
                return Err(missing(
                    "third_party.how_to_reach",
                    "third_party_contact_required",
                    "Say how the customer can reach them.",
                ));
            }
            Some(ThirdParty {
                who,
                why_theirs: why,
                how_to_reach: how,
            })
        }
        _ => None,
    };
    let all = [
        Some(&explanation),
        partial.as_ref(),
        justification.as_ref(),
        d.handoff_summary.as_ref(),
    ];
    if all.iter().flatten().any(|s| s.len() > MAX_PART) {
        return Err(ValidationError::new(
            "explanation",
            "text_too_long",
            format!("Each part is at most {MAX_PART} bytes."),
        ));
    }
    Ok(CantHelp {
        reason: d.reason,
        explanation,
        partial_solution: partial,
        no_partial_justification: justification,
        third_party,
        handoff_summary: part(&d.handoff_summary),
    })
}

/// The message the customer receives: the why, who can help if it is someone else's
/// matter, and what we can still do. The justification and handoff summary stay inside.
pub fn cant_help_message(c: &CantHelp, customer_name: Option<&str>) -> String {
    let mut out = format!(
        "Hello {},\n\n{}",
        customer_name.unwrap_or("there"),
        c.explanation
    );
    if let Some(tp) = &c.third_party {
        out.push_str(&format!(
            "\n\nThe people who can sort this out are {}. {} You can reach them here: {}",
            tp.who,
            ensure_stop(&tp.why_theirs),
            tp.how_to_reach
        ));
    }
    if let Some(p) = &c.partial_solution {
        out.push_str(&format!("\n\nWhat we can still do for you: {p}"));
    }
    out.push_str(
        "\n\nIf anything here is unclear, or you see something we have missed, just reply and the same person will pick it up.",
    );
    out
}

fn ensure_stop(s: &str) -> String {
    let s = s.trim();
    if s.ends_with(['.', '!', '?']) {
        s.to_owned()
    } else {
        format!("{s}.")
    }
}

/// A transfer must tell the customer who has the case now and why.
pub fn check_transfer_line(line: Option<&str>) -> Result<String, ValidationError> {
    let line = line.map(str::trim).unwrap_or_default();
    if line.is_empty() {
        return Err(missing(
            "customer_message",
            "customer_message_required",
            "Tell the customer who has their case now and why; a transfer is never silent.",
        ));
    }
    Ok(line.to_owned())
}

/// Passed along more than `limit` times without anyone answering the customer.
pub fn is_ping_pong(transfers_since_reply: i64, limit: u32) -> bool {
    transfers_since_reply > i64::from(limit)
}

/// An alternative provider in the referral directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    pub id: i64,
    pub name: String,
    /// What they serve, as tags.
    pub serves: Vec<String>,
    pub contact: String,
    pub notes: String,
    pub active: bool,
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 3)
        .map(str::to_lowercase)
        .collect()
}

/// Ranks active alternatives for a ticket: each shared tag counts 3, each word of the
/// need found in what they serve, their name or notes counts 1. Ties keep the
/// directory's order. Alternatives with nothing in common are left out.
pub fn rank_alternatives<'a>(
    alternatives: &'a [Alternative],
    tags: &[String],
    need: Option<&str>,
) -> Vec<(&'a Alternative, i64)> {
    let need_words = need.map(words).unwrap_or_default();
    let mut ranked: Vec<(&Alternative, i64)> = alternatives
        .iter()
        .filter(|a| a.active)
        .map(|a| {
            let tag_hits = a.serves.iter().filter(|s| tags.contains(s)).count() as i64;
            let haystack = words(&format!("{} {} {}", a.serves.join(" "), a.name, a.notes));
            let word_hits = need_words.iter().filter(|w| haystack.contains(w)).count() as i64;
            (a, 3 * tag_hits + word_hits)
        })
        .filter(|(_, score)| *score > 0)
        .collect();
    ranked.sort_by_key(|(_, score)| std::cmp::Reverse(*score));
    ranked
}

/// One answer to the satisfaction survey: the product and the service are rated apart
/// (P11), because a customer can love the people and still hate what they bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurveyAnswer {
    pub product: u8,
    pub pleasantness: u8,
    pub competence: u8,
    pub recommend: u8,
}

impl SurveyAnswer {
    pub fn parse(
        product: i64,
        pleasantness: i64,
        competence: i64,
        recommend: i64,
    ) -> Result<Self, ValidationError> {
        let scale = |field: &'static str, v: i64, max: i64| {
            let min = if field == "recommend" { 0 } else { 1 };
            if (min..=max).contains(&v) {
                Ok(v as u8)
            } else {
                Err(ValidationError::new(
                    field,
                    "rating_out_of_range",
                    format!("`{field}` is a whole number from {min} to {max}."),
                ))
            }
        };
        Ok(SurveyAnswer {
            product: scale("product", product, 5)?,
            pleasantness: scale("pleasantness", pleasantness, 5)?,
            competence: scale("competence", competence, 5)?,
            recommend: scale("recommend", recommend, 10)?,
        })
    }
}

/// Net promoter score from counts: % promoters (9–10) minus % detractors (0–6).
pub fn nps(promoters: i64, detractors: i64, answers: i64) -> Option<f64> {
    (answers > 0).then(|| 100.0 * (promoters - detractors) as f64 / answers as f64)
}

/// The recovery report's raw counts over a population of ended tickets, as the store
/// computes them in the database. Every ratio the report shows is derived here, so the
/// arithmetic is tested once, away from any database.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ReportCounts {
    pub ended: i64,
    pub outcomes: Vec<(String, i64)>,
    pub inconsolable: i64,
    /// Tickets whose first reading was negative (frustrated, angry, abusive).
    pub started_negative: i64,
    /// Of those, the ones whose latest reading is neutral or pleased.
    pub recovered: i64,
    /// `(to_rung, reason, count)`; never per agent.
    pub escalations: Vec<(String, String, i64)>,
    pub transfers: i64,
    pub ping_pong: i64,
    pub referrals: i64,
    /// Referred customers who opened a new ticket after the referral.
    pub returned_after_referral: i64,
    pub survey_answers: i64,
    /// Sums, so callers can average without rounding twice.
    pub product_sum: i64,
    pub pleasantness_sum: i64,
    pub competence_sum: i64,
    pub promoters: i64,
    pub detractors: i64,
    pub first_responses: i64,
    pub first_response_ms_sum: i64,
    pub resolution_ms_sum: i64,
    /// Ended tickets whose SLA clocks never breached.
    pub sla_met: i64,
}

impl ReportCounts {
    /// The share of customers a desk should expect it cannot satisfy: about 2%.
    pub const INCONSOLABLE_REFERENCE: f64 = 0.02;

    pub fn inconsolable_share(&self) -> Option<f64> {
        ratio(self.inconsolable, self.ended)
    }

    /// Of the customers who started negative, the share who ended neutral or pleased.
    pub fn recovery_rate(&self) -> Option<f64> {
        ratio(self.recovered, self.started_negative)
    }

    pub fn transfers_per_ticket(&self) -> Option<f64> {
        ratio(self.transfers, self.ended)
    }

    fn mean_rating(&self, sum: i64) -> Option<f64> {
        ratio(sum, self.survey_answers)
    }

    pub fn product_satisfaction(&self) -> Option<f64> {
        self.mean_rating(self.product_sum)
    }

    pub fn pleasantness(&self) -> Option<f64> {
        self.mean_rating(self.pleasantness_sum)
    }

    pub fn competence(&self) -> Option<f64> {
        self.mean_rating(self.competence_sum)
    }

    /// The service, as the customer rated it: the mean of pleasantness and competence.
    pub fn service_satisfaction(&self) -> Option<f64> {
        self.mean_rating(self.pleasantness_sum + self.competence_sum)
            .map(|m| m / 2.0)
    }

    pub fn nps(&self) -> Option<f64> {
        nps(self.promoters, self.detractors, self.survey_answers)
    }

    pub fn first_response_minutes(&self) -> Option<f64> {
        ratio(self.first_response_ms_sum, self.first_responses).map(|ms| ms / 60_000.0)
    }

    pub fn resolution_minutes(&self) -> Option<f64> {
        ratio(self.resolution_ms_sum, self.ended).map(|ms| ms / 60_000.0)
    }

    pub fn sla_attainment(&self) -> Option<f64> {
        ratio(self.sla_met, self.ended)
    }
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Days a survey answer may still be changed.
pub const SURVEY_EDIT_DAYS: i64 = 7;

impl SurveyAnswer {
    /// The service score: pleasantness and competence together, rounded up.
    pub fn service(&self) -> u8 {
        (self.pleasantness + self.competence).div_ceil(2)
    }
}

/// Whether a ticket that ended this way asks the customer for a survey: it was
/// resolved, explained or referred (not closed as inconsolable, not still open).
pub fn survey_wanted(outcome: Option<crate::Outcome>) -> bool {
    matches!(
        outcome,
        Some(crate::Outcome::Resolved | crate::Outcome::Explained | crate::Outcome::Referred)
    )
}

/// Until when a survey answer first given at `first_answered` may be changed.
pub fn survey_editable_until(first_answered: crate::Millis) -> crate::Millis {
    crate::Millis(first_answered.0 + SURVEY_EDIT_DAYS * 24 * 3_600_000)
}

/// Whether a survey may be answered (again) at `now`: always before the first
/// answer, and for a week after it.
pub fn survey_editable(first_answered: Option<crate::Millis>, now: crate::Millis) -> bool {
    first_answered.is_none_or(|first| now.0 <= survey_editable_until(first).0)
}

/// A referral is the desk's last stand, so it is made from the top rung only.
pub fn may_refer(ladder: &crate::ladder::Ladder, ticket: &crate::Ticket) -> bool {
    ladder.position(&ticket.rung) + 1 == ladder.rungs().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(reason: CantHelpReason) -> CantHelpDraft {
        CantHelpDraft {
            reason,
            explanation: "Card payments for this region are blocked by the bank's rules.".into(),
            partial_solution: Some(
                "We can hold your order for 14 days while you pay by transfer.".into(),
            ),
            no_partial_justification: None,
            third_party: None,
            handoff_summary: None,
        }
    }

    #[test]
    fn each_missing_part_has_its_own_code() {
        let mut d = draft(CantHelpReason::LawOrRegulation);
        d.explanation = "  ".into();
        assert_eq!(
            check_cant_help(&d).unwrap_err().code,
            "explanation_required"
        );
        let mut d = draft(CantHelpReason::CompanyPolicy);
        d.partial_solution = Some(" ".into());
        assert_eq!(
            check_cant_help(&d).unwrap_err().code,
            "partial_solution_required"
        );
        d.no_partial_justification =
            Some("The item was destroyed; nothing is left to offer.".into());
        assert!(check_cant_help(&d).unwrap().needs_review());
        let mut d = draft(CantHelpReason::ThirdParty);
        assert_eq!(
            check_cant_help(&d).unwrap_err().code,
            "third_party_who_required"
        );
        d.third_party = Some(ThirdParty {
            who: "Your bank".into(),
            ..Default::default()
        });
        assert_eq!(
            check_cant_help(&d).unwrap_err().code,
            "third_party_why_required"
        );
        d.third_party.as_mut().unwrap().why_theirs = "Only they can lift a card block".into();
        assert_eq!(
            check_cant_help(&d).unwrap_err().code,
            "third_party_contact_required"
        );
        d.third_party.as_mut().unwrap().how_to_reach = "the number on the back of your card".into();
        let ok = check_cant_help(&d).unwrap();
        assert!(!ok.needs_review());
        let text = cant_help_message(&ok, Some("Ada"));
        assert!(
            text.contains("Your bank. Only they can lift a card block."),
            "{text}"
        );
        assert!(text.contains("the number on the back of your card"));
        assert!(text.contains("What we can still do for you: We can hold your order"));
    }

    #[test]
    fn transfers_say_something_and_ping_pong_is_counted() {
        assert_eq!(
            check_transfer_line(None).unwrap_err().code,
            "customer_message_required"
        );
        assert_eq!(
            check_transfer_line(Some(" ")).unwrap_err().code,
            "customer_message_required"
        );
        assert!(check_transfer_line(Some("Billing has your case now.")).is_ok());
        assert!(!is_ping_pong(2, 2));
        assert!(is_ping_pong(3, 2));
    }

    #[test]
    fn referrals_rank_by_tags_then_need() {
        let alt = |id, name: &str, serves: &[&str], notes: &str| Alternative {
            id,
            name: name.into(),
            serves: serves.iter().map(|s| s.to_string()).collect(),
            contact: "x".into(),
            notes: notes.into(),
            active: true,
        };
        let dir = vec![
            alt(1, "Repair Co", &["repairs"], "fixes kettles and toasters"),
            alt(
                2,
                "Big Electric",
                &["refunds", "repairs"],
                "appliance returns",
            ),
            alt(3, "Garden World", &["garden"], "lawnmowers"),
        ];
        let ranked = rank_alternatives(
            &dir,
            &["repairs".into(), "refunds".into()],
            Some("kettle repair"),
        );
        let ids: Vec<i64> = ranked.iter().map(|(a, _)| a.id).collect();
        assert_eq!(ids, [2, 1]);
        let by_need = rank_alternatives(&dir, &[], Some("my toasters are broken"));
        assert_eq!(by_need.iter().map(|(a, _)| a.id).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn surveys_check_their_scales() {
        assert!(SurveyAnswer::parse(5, 1, 3, 0).is_ok());
        assert_eq!(
            SurveyAnswer::parse(0, 3, 3, 5).unwrap_err().code,
            "rating_out_of_range"
        );
        assert_eq!(
            SurveyAnswer::parse(3, 3, 3, 11).unwrap_err().field,
            "recommend"
        );
        assert_eq!(nps(5, 2, 10), Some(30.0));
        assert_eq!(nps(0, 0, 0), None);
    }

    #[test]
    fn report_figures_come_from_the_counts() {
        let c = ReportCounts {
            ended: 1000,
            inconsolable: 20,
            started_negative: 200,
            recovered: 50,
            transfers: 250,
            survey_answers: 4,
            product_sum: 10,
            pleasantness_sum: 20,
            competence_sum: 16,
            promoters: 2,
            detractors: 1,
            first_responses: 500,
            first_response_ms_sum: 500 * 600_000,
            resolution_ms_sum: 1000 * 3_600_000,
            sla_met: 960,
            ..ReportCounts::default()
        };
        assert_eq!(c.inconsolable_share(), Some(0.02));
        assert_eq!(c.recovery_rate(), Some(0.25));
        assert_eq!(c.transfers_per_ticket(), Some(0.25));
        assert_eq!(c.product_satisfaction(), Some(2.5));
        assert_eq!(c.service_satisfaction(), Some(4.5));
        assert_eq!(c.nps(), Some(25.0));
        assert_eq!(c.first_response_minutes(), Some(10.0));
        assert_eq!(c.resolution_minutes(), Some(60.0));
        assert_eq!(c.sla_attainment(), Some(0.96));
        let empty = ReportCounts::default();
        assert_eq!(
            (
                empty.inconsolable_share(),
                empty.nps(),
                empty.recovery_rate()
            ),
            (None, None, None)
        );
    }

    #[test]
    fn only_resolved_explained_or_referred_tickets_ask_for_a_survey() {
        use crate::Outcome;
        assert!(survey_wanted(Some(Outcome::Resolved)));
        assert!(survey_wanted(Some(Outcome::Explained)));
        assert!(survey_wanted(Some(Outcome::Referred)));
        assert!(!survey_wanted(Some(Outcome::Inconsolable)));
        assert!(!survey_wanted(None));
    }

    #[test]
    fn a_survey_answer_may_change_for_a_week_and_no_later() {
        use crate::Millis;
        let first = Millis(1_000);
        let week = SURVEY_EDIT_DAYS * 24 * 3_600_000;
        assert!(survey_editable(None, Millis(i64::MAX)));
        assert!(survey_editable(Some(first), Millis(first.0 + week)));
        assert!(!survey_editable(Some(first), Millis(first.0 + week + 1)));
        assert_eq!(survey_editable_until(first), Millis(first.0 + week));
    }

    #[test]
    fn the_service_score_rounds_pleasantness_and_competence_up() {
        let a = SurveyAnswer::parse(3, 4, 5, 9).unwrap();
        assert_eq!(a.service(), 5);
    }
}
