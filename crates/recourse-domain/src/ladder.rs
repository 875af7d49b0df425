//! The escalation ladder (DESIGN.md §1, P3–P6, P10): ordered rungs, who may work each,
//! and the pure rules for moving a case up or down and for choosing who takes it.

use crate::{
    AgentId, Demeanor, EscalationReason, Experience, Millis, RungName, Status, Ticket,
    ValidationError,
};
use crate::{Role, Tag};

/// One step of the ladder. `title` is how the customer hears about whoever works it
/// ("one of our most experienced colleagues"), so a handoff never names a bare slug.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rung {
    pub name: String,
    /// The least role that may work this rung.
    pub role: Role,
    /// The least experience that may work this rung.
    pub min_experience: Experience,
    pub title: String,
}

impl Rung {
    /// Whether an agent with this role and experience may work the rung.
    pub fn admits(&self, role: Role, experience: Experience) -> bool {
        role.at_least(self.role) && experience >= self.min_experience
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LadderError {
    #[error("A ladder needs at least one rung.")]
    Empty,
    #[error("A ladder has at most {max} rungs.", max = Ladder::MAX_RUNGS)]
    TooManyRungs,
    #[error("The rung `{0}` appears twice.")]
    DuplicateRung(String),
    #[error("{0}")]
    InvalidRung(ValidationError),
    #[error(
        "The rung `{0}` asks for less (role or experience) than the rung below it; each step up must ask at least as much."
    )]
    WeakerThanBelow(String),
    #[error("The rung `{0}` is not on the ladder.")]
    UnknownRung(String),
    #[error("The ticket is already on the top rung; there is no one further up to hand it to.")]
    AtTop,
    #[error("The ticket is already on the first rung.")]
    AtBottom,
    #[error("Only an active ticket can move on the ladder; this one is {0}.")]
    NotActive(Status),
    #[error(
        "An escalation must tell the customer what was tried and who has the case now: the handoff message is empty."
    )]
    HandoffRequired,
    #[error("Moving a case back down needs a note saying why.")]
    NoteRequired,
    #[error(
        "That agent cannot take a case on the `{0}` rung (away, or not experienced enough for it)."
    )]
    NotEligible(String),
}

impl LadderError {
    pub fn code(&self) -> &'static str {
        match self {
            LadderError::Empty => "ladder_empty",
            LadderError::TooManyRungs => "ladder_too_long",
            LadderError::DuplicateRung(_) => "duplicate_rung",
            LadderError::InvalidRung(_) => "invalid_rung",
            LadderError::WeakerThanBelow(_) => "rung_weaker_than_below",
            LadderError::UnknownRung(_) => "unknown_rung",
            LadderError::AtTop => "already_at_top_rung",
            LadderError::AtBottom => "already_at_first_rung",
            LadderError::NotActive(_) => "ticket_not_active",
            LadderError::HandoffRequired => "handoff_message_required",
            LadderError::NoteRequired => "note_required",
            LadderError::NotEligible(_) => "assignee_not_eligible",
        }
    }
}

/// The ordered rungs, first (where tickets start) to top.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ladder {
    rungs: Vec<Rung>,
}

impl<'de> serde::Deserialize<'de> for Ladder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            rungs: Vec<Rung>,
        }
        let raw = Raw::deserialize(d)?;
        Ladder::new(raw.rungs).map_err(serde::de::Error::custom)
    }
}

impl Default for Ladder {
    fn default() -> Self {
        let [frontline, experienced, manager] = crate::DEFAULT_RUNGS;
        Ladder {
            rungs: vec![
                Rung {
                    name: frontline.into(),
                    role: Role::Agent,
                    min_experience: Experience::Junior,
                    title: "a member of our support team".into(),
                },
                Rung {
                    name: experienced.into(),
                    role: Role::Agent,
                    min_experience: Experience::Experienced,
                    title: "one of our most experienced support colleagues".into(),
                },
                Rung {
                    name: manager.into(),
                    role: Role::Manager,
                    min_experience: Experience::Experienced,
                    title: "a support manager".into(),
                },
            ],
        }
    }
}

impl Ladder {
    pub const MAX_RUNGS: usize = 8;

    /// Checks a ladder an admin proposes: named rungs, no repeats, and each step up asks
    /// at least as much as the one below, so escalating never lands on less experience.
    pub fn new(rungs: Vec<Rung>) -> Result<Self, LadderError> {
        if rungs.is_empty() {
            return Err(LadderError::Empty);
        }
        if rungs.len() > Self::MAX_RUNGS {
            return Err(LadderError::TooManyRungs);
        }
        let mut rungs = rungs;
        for r in rungs.iter_mut() {
            r.name = RungName::parse(&r.name)
                .map_err(LadderError::InvalidRung)?
                .as_str()
                .to_owned();
            r.title = r.title.trim().to_owned();
            if r.title.is_empty() || r.title.chars().count() > 200 || r.title.contains('\n') {
                return Err(LadderError::InvalidRung(ValidationError::new(
                    "title",
                    "invalid_rung_title",
                    format!(
                        "Rung `{}` needs a title of one line (at most 200 characters) saying who works it.",
                        r.name
                    ),
                )));
            }
        }
        for i in 0..rungs.len() {
            if rungs[..i].iter().any(|r| r.name == rungs[i].name) {
                return Err(LadderError::DuplicateRung(rungs[i].name.clone()));
            }
            if i > 0 {
                let (lo, hi) = (&rungs[i - 1], &rungs[i]);
                if !hi.role.at_least(lo.role) || hi.min_experience < lo.min_experience {
                    return Err(LadderError::WeakerThanBelow(hi.name.clone()));
                }
            }
        }
        Ok(Ladder { rungs })
    }

    pub fn rungs(&self) -> &[Rung] {
        &self.rungs
    }

    /// Where new tickets start.
    pub fn first(&self) -> &Rung {
        &self.rungs[0]
    }

    pub fn top(&self) -> &Rung {
        &self.rungs[self.rungs.len() - 1]
    }

    pub fn get(&self, name: &str) -> Option<&Rung> {
        self.rungs.iter().find(|r| r.name == name)
    }

    /// A rung removed from the ladder after tickets reached it counts as the first, so
    /// those tickets can still move.
    pub fn position(&self, name: &str) -> usize {
        self.rungs.iter().position(|r| r.name == name).unwrap_or(0)
    }
}

/// A move up the ladder, decided but not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub from: String,
    pub to: String,
    pub reason: EscalationReason,
}

/// Decides where an escalation goes. One rung up, except abuse, which goes straight to
/// the top so no agent has to keep taking it (P8). The customer must be told
/// (`handoff` is the message they will receive), so an empty one is refused.
pub fn plan_escalation(
    ladder: &Ladder,
    ticket: &Ticket,
    reason: EscalationReason,
    handoff: &str,
) -> Result<Escalation, LadderError> {
    let to = escalation_target(ladder, ticket, reason)?;
    if handoff.trim().is_empty() {
        return Err(LadderError::HandoffRequired);
    }
    Ok(Escalation {
        from: ticket.rung.clone(),
        to: to.name.clone(),
        reason,
    })
}

/// The rung an escalation would reach, before any message is written (for drafts).
pub fn escalation_target<'l>(
    ladder: &'l Ladder,
    ticket: &Ticket,
    reason: EscalationReason,
) -> Result<&'l Rung, LadderError> {
    if !ticket.status.is_active() {
        return Err(LadderError::NotActive(ticket.status));
    }
    let here = ladder.position(&ticket.rung);
    let top = ladder.rungs.len() - 1;
    if here >= top {
        return Err(LadderError::AtTop);
    }
    let to = if reason == EscalationReason::Abuse {
        top
    } else {
        here + 1
    };
    Ok(&ladder.rungs[to])
}

/// Whether an agent may work a ticket (reply on its behalf, move it up or hand it on):
/// its assignee, a manager or admin, or anyone the ticket's rung admits. Switched-off
/// agents work nothing. Callers check this on the ticket as locked for the change, so a
/// right lost a moment ago is already lost.
pub fn may_work(ladder: &Ladder, agent: &crate::Agent, ticket: &Ticket) -> bool {
    agent.active
        && (ticket.assignee_id == Some(agent.id)
            || agent.role.at_least(Role::Manager)
            || ladder
                .get(&ticket.rung)
                .is_some_and(|r| r.admits(agent.role, agent.experience)))
}

/// A manager moving a case back down one rung, with a note for whoever gets it.
pub fn plan_descent(ladder: &Ladder, ticket: &Ticket, note: &str) -> Result<String, LadderError> {
    if !ticket.status.is_active() {
        return Err(LadderError::NotActive(ticket.status));
    }
    if note.trim().is_empty() {
        return Err(LadderError::NoteRequired);
    }
    let here = ladder.position(&ticket.rung);
    if here == 0 {
        return Err(LadderError::AtBottom);
    }
    Ok(ladder.rungs[here - 1].name.clone())
}

/// The automatic escalation rules (issue: ladder §6), on by default.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationRules {
    /// Escalate with `repeated_contact` when the customer has written this many times
    /// without an answer. 0 turns the rule off.
    pub repeated_contact_after: u32,
    /// Escalate with `demeanor` when the customer still reads angry after this many
    /// interventions. 0 turns the rule off.
    pub angry_after_interventions: u32,
    /// Move abusive cases straight to the top rung.
    pub abuse_to_top: bool,
    /// Flag a ticket for managers when it is transferred more than this many times
    /// without an answer to the customer.
    pub ping_pong_after: u32,
}

impl Default for EscalationRules {
    fn default() -> Self {
        EscalationRules {
            repeated_contact_after: 3,
            angry_after_interventions: 2,
            abuse_to_top: true,
            ping_pong_after: 2,
        }
    }
}

/// What the rules make of a new reading or message. `None`: nothing to do.
pub fn rule_verdict(
    rules: &EscalationRules,
    unanswered_customer_messages: u32,
    latest_reading: Option<Demeanor>,
    interventions: u32,
) -> Option<EscalationReason> {
    match latest_reading {
        Some(Demeanor::Abusive) if rules.abuse_to_top => return Some(EscalationReason::Abuse),
        Some(Demeanor::Angry)
            if rules.angry_after_interventions > 0
                && interventions >= rules.angry_after_interventions =>
        {
            return Some(EscalationReason::Demeanor);
        }
        _ => {}
    }
    (rules.repeated_contact_after > 0
        && unanswered_customer_messages >= rules.repeated_contact_after)
        .then_some(EscalationReason::RepeatedContact)
}

/// An agent as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: AgentId,
    pub role: Role,
    pub experience: Experience,
    pub skills: Vec<String>,
    /// Active account and not marked away.
    pub present: bool,
    /// Active tickets assigned now.
    pub load: i64,
    pub capacity: i32,
    pub last_assigned_at: Option<Millis>,
}

/// Picks who takes a ticket on `rung`: eligible for the rung (and never a junior when
/// the case needs experience), present, under capacity; among those, people whose
/// skills match the ticket's tags if any do; then the least loaded, and among equals
/// whoever was given a ticket longest ago (round-robin). `None` leaves the ticket in
/// the rung's queue.
pub fn choose_assignee(
    rung: &Rung,
    tags: &[String],
    needs_experience: bool,
    exclude: Option<AgentId>,
    candidates: &[Candidate],
) -> Option<AgentId> {
    let eligible: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.present && c.load < i64::from(c.capacity))
        .filter(|c| rung.admits(c.role, c.experience))
        .filter(|c| !(needs_experience && c.experience == Experience::Junior))
        .filter(|c| Some(c.id) != exclude)
        .collect();
    let skilled: Vec<&Candidate> = eligible
        .iter()
        .copied()
        .filter(|c| tags.iter().any(|t| c.skills.contains(t)))
        .collect();
    let pool = if skilled.is_empty() {
        eligible
    } else {
        skilled
    };
    pool.into_iter()
        .min_by_key(|c| (c.load, c.last_assigned_at.map_or(i64::MIN, |m| m.0), c.id.0))
        .map(|c| c.id)
}

/// Whether an agent named by hand may take a ticket on `rung`.
pub fn may_take(rung: &Rung, needs_experience: bool, candidate: &Candidate) -> bool {
    candidate.present
        && rung.admits(candidate.role, candidate.experience)
        && !(needs_experience && candidate.experience == Experience::Junior)
}

/// One figure of the escalation report. Deliberately keyed by rung and reason only:
/// the ladder is blameless, so no report can rank agents by how often they escalate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EscalationCount {
    pub to_rung: String,
    pub reason: EscalationReason,
    pub count: i64,
}

/// Skills are tags; this keeps the two spelled the same way.
pub fn skills_from_tags(tags: &[Tag]) -> Vec<String> {
    tags.iter().map(|t| t.as_str().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CustomerId, Priority, TicketId};
    use proptest::prelude::*;

    fn ticket(rung: &str, status: Status) -> Ticket {
        Ticket {
            id: TicketId(1),
            number: 1001,
            subject: "Order never arrived".into(),
            need: None,
            status,
            priority: Priority::Normal,
            rung: rung.into(),
            customer_id: CustomerId(1),
            assignee_id: None,
            team_id: None,
            tags: vec![],
            outcome: None,
            needs_experience: false,
            sla: Default::default(),
            first_response_at: None,
            ended_at: None,
            ping_pong: false,
            review_pending: false,
            created_at: Millis(0),
            updated_at: Millis(0),
        }
    }

    fn cand(id: i64, exp: Experience, load: i64, last: Option<i64>) -> Candidate {
        Candidate {
            id: AgentId(id),
            role: Role::Agent,
            experience: exp,
            skills: vec![],
            present: true,
            load,
            capacity: 10,
            last_assigned_at: last.map(Millis),
        }
    }

    #[test]
    fn default_ladder_climbs_one_rung_and_abuse_goes_to_the_top() {
        let l = Ladder::default();
        let t = ticket("frontline", Status::Open);
        let up = plan_escalation(&l, &t, EscalationReason::AgentRequest, "hello").unwrap();
        assert_eq!(up.to, "experienced");
        let up = plan_escalation(&l, &t, EscalationReason::Abuse, "hello").unwrap();
        assert_eq!(up.to, "manager");
        assert_eq!(
            plan_escalation(
                &l,
                &ticket("manager", Status::Open),
                EscalationReason::AgentRequest,
                "x"
            ),
            Err(LadderError::AtTop)
        );
        assert_eq!(
            plan_escalation(&l, &t, EscalationReason::AgentRequest, "  \n"),
            Err(LadderError::HandoffRequired)
        );
        assert_eq!(
            plan_descent(&l, &ticket("experienced", Status::Open), "back to you").unwrap(),
            "frontline"
        );
        assert_eq!(plan_descent(&l, &t, "x"), Err(LadderError::AtBottom));
        assert_eq!(
            plan_descent(&l, &ticket("manager", Status::Open), " "),
            Err(LadderError::NoteRequired)
        );
    }

    #[test]
    fn ladders_are_checked() {
        let mut rungs = Ladder::default().rungs().to_vec();
        rungs.swap(0, 2);
        assert_eq!(
            Ladder::new(rungs).unwrap_err().code(),
            "rung_weaker_than_below"
        );
        let mut rungs = Ladder::default().rungs().to_vec();
        rungs[1].name = "frontline".into();
        assert_eq!(Ladder::new(rungs).unwrap_err().code(), "duplicate_rung");
        assert_eq!(Ladder::new(vec![]).unwrap_err().code(), "ladder_empty");
        let json = serde_json::to_value(Ladder::default()).unwrap();
        let back: Ladder = serde_json::from_value(json).unwrap();
        assert_eq!(back, Ladder::default());
    }

    #[test]
    fn routing_prefers_skills_then_load_then_longest_idle_and_spares_juniors() {
        let ladder = Ladder::default();
        let rung = &ladder.rungs()[0];
        let mut a = cand(1, Experience::Junior, 2, Some(50));
        let b = cand(2, Experience::Senior, 2, Some(10));
        let c = cand(3, Experience::Experienced, 5, None);
        let all = vec![a.clone(), b.clone(), c.clone()];
        assert_eq!(
            choose_assignee(rung, &[], false, None, &all),
            Some(AgentId(2))
        );
        assert_eq!(
            choose_assignee(rung, &[], false, Some(AgentId(2)), &all),
            Some(AgentId(1))
        );
        a.skills = vec!["billing".into()];
        let all = vec![a.clone(), b.clone(), c.clone()];
        assert_eq!(
            choose_assignee(rung, &["billing".into()], false, None, &all),
            Some(AgentId(1))
        );
        // Needs experience: the junior with the skill is passed over.
        assert_eq!(
            choose_assignee(rung, &["billing".into()], true, None, &all),
            Some(AgentId(2))
        );
        let experienced = &ladder.rungs()[1];
        let away = Candidate {
            present: false,
            ..b.clone()
        };
        let full = Candidate {
            load: 10,
            ..c.clone()
        };
        assert_eq!(
            choose_assignee(experienced, &[], false, None, &[a, away, full]),
            None
        );
    }

    #[test]
    fn rules_fire_on_their_thresholds() {
        let r = EscalationRules::default();
        assert_eq!(rule_verdict(&r, 2, None, 0), None);
        assert_eq!(
            rule_verdict(&r, 3, None, 0),
            Some(EscalationReason::RepeatedContact)
        );
        assert_eq!(rule_verdict(&r, 0, Some(Demeanor::Angry), 1), None);
        assert_eq!(
            rule_verdict(&r, 0, Some(Demeanor::Angry), 2),
            Some(EscalationReason::Demeanor)
        );
        assert_eq!(
            rule_verdict(&r, 0, Some(Demeanor::Abusive), 0),
            Some(EscalationReason::Abuse)
        );
        let off = EscalationRules {
            repeated_contact_after: 0,
            angry_after_interventions: 0,
            abuse_to_top: false,
            ..EscalationRules::default()
        };
        assert_eq!(rule_verdict(&off, 9, Some(Demeanor::Abusive), 9), None);
    }

    #[test]
    fn the_escalation_report_has_no_agent_in_it() {
        let row = EscalationCount {
            to_rung: "manager".into(),
            reason: EscalationReason::Abuse,
            count: 3,
        };
        let json = serde_json::to_value(row).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| !k.contains("agent") && !k.contains("assignee")),
            "{keys:?}"
        );
    }

    fn any_reason() -> impl Strategy<Value = EscalationReason> {
        prop::sample::select(EscalationReason::ALL.to_vec())
    }

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        /// Any sequence of escalations and descents on any ladder keeps the ticket on the
        /// ladder, never past the top, and every accepted escalation carried a message.
        #[test]
        fn a_rung_never_exceeds_the_top(
            len in 1usize..=Ladder::MAX_RUNGS,
            steps in prop::collection::vec((any::<bool>(), any_reason(), any::<bool>(), any_status()), 0..40),
        ) {
            let rungs: Vec<Rung> = (0..len).map(|i| Rung {
                name: format!("r{i}"),
                role: if i + 1 == len && len > 1 { Role::Manager } else { Role::Agent },
                min_experience: Experience::Junior,
                title: format!("rung {i}"),
            }).collect();
            let ladder = Ladder::new(rungs).unwrap();
            let mut t = ticket("r0", Status::Open);
            for (up, reason, with_message, status) in steps {
                t.status = status;
                let before = ladder.position(&t.rung);
                if up {
                    let msg = if with_message { "We tried two things; a colleague takes over." } else { "" };
                    match plan_escalation(&ladder, &t, reason, msg) {
                        Ok(e) => {
                            prop_assert!(with_message);
                            prop_assert!(status.is_active());
                            let after = ladder.position(&e.to);
                            prop_assert!(after > before);
                            prop_assert!(after < len);
                            if reason != EscalationReason::Abuse { prop_assert_eq!(after, before + 1); }
                            t.rung = e.to;
                        }
                        Err(LadderError::AtTop) => prop_assert_eq!(before, len - 1),
                        Err(LadderError::HandoffRequired) => prop_assert!(!with_message),
                        Err(LadderError::NotActive(_)) => prop_assert!(!status.is_active()),
                        Err(e) => prop_assert!(false, "unexpected {e:?}"),
                    }
                } else if let Ok(to) = plan_descent(&ladder, &t, "handing back with context") {
                    prop_assert_eq!(ladder.position(&to) + 1, before);
                    t.rung = to;
                }
                prop_assert!(ladder.get(&t.rung).is_some());
            }
        }
    }
}
