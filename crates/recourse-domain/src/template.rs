//! Message templates with `{{variables}}`, and the handoff message an escalation sends
//! (P4): what was tried, an honest line that it has not been enough yet, who has the
//! case now, and when the customer will hear back. The default texts are our own.

use crate::{Intervention, InterventionKind, InterventionResult, ValidationError};

/// The templates the desk knows, with the variables each may use.
pub const TEMPLATE_KEYS: &[(&str, &[&str])] = &[
    (
        "handoff",
        &[
            "customer_name",
            "ticket_number",
            "subject",
            "tried",
            "next_owner",
            "reply_by",
            "agent_name",
        ],
    ),
    (
        "referral",
        &[
            "customer_name",
            "ticket_number",
            "subject",
            "alternative_name",
            "alternative_serves",
            "alternative_contact",
            "reason",
            "agent_name",
        ],
    ),
    (
        "survey_invite",
        &["customer_name", "ticket_number", "subject", "survey_link"],
    ),
];

const DEFAULT_HANDOFF: &str = "\
Hello {{customer_name}},

Thank you for your patience with \"{{subject}}\" (ticket #{{ticket_number}}). Here is what we have done for you so far:

{{tried}}

We can see this has not yet got you the result you need, so {{next_owner}} is taking over your case from here. Everything above travels with it, so there is no need to explain it all again.

You will hear from us by {{reply_by}} at the latest.

{{agent_name}}";

const DEFAULT_REFERRAL: &str = "\
Hello {{customer_name}},

About \"{{subject}}\" (ticket #{{ticket_number}}): {{reason}}

We would rather point you to someone who can really help than keep you waiting for something we cannot deliver. {{alternative_name}} looks after exactly this ({{alternative_serves}}). You can reach them at: {{alternative_contact}}

Nothing changes in your account with us, and you are welcome back any time, for this or anything else.

{{agent_name}}";

const DEFAULT_SURVEY_INVITE: &str = "\
Hello {{customer_name}},

Your case \"{{subject}}\" (ticket #{{ticket_number}}) has come to an end. Would you tell us how it went? Two minutes, three questions: how you feel about the product, how you felt we treated you, and whether you would recommend us.

{{survey_link}}

You can change your answers for a week.";

/// The variables a canned reply (a saved answer an agent drops into the composer) may
/// use. Canned replies are not desk templates, so they are not in [`TEMPLATE_KEYS`].
pub const CANNED_REPLY_VARIABLES: &[&str] = &[
    "customer_name",
    "ticket_number",
    "subject",
    "need",
    "agent_name",
];

pub fn default_template(key: &str) -> Option<&'static str> {
    match key {
        "handoff" => Some(DEFAULT_HANDOFF),
        "referral" => Some(DEFAULT_REFERRAL),
        "survey_invite" => Some(DEFAULT_SURVEY_INVITE),
        _ => None,
    }
}

/// A template checked against the variables its key allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    key: &'static str,
    body: String,
}

impl Template {
    pub fn parse(key: &str, body: &str) -> Result<Template, ValidationError> {
        let Some((key, vars)) = TEMPLATE_KEYS.iter().find(|(k, _)| *k == key) else {
            return Err(ValidationError::new(
                "key",
                "unknown_template",
                format!("There is no template called `{key}`."),
            ));
        };
        Template::checked(key, vars, body)
    }

    /// A canned reply's text, checked against [`CANNED_REPLY_VARIABLES`].
    pub fn canned_reply(body: &str) -> Result<Template, ValidationError> {
        Template::checked("canned_reply", CANNED_REPLY_VARIABLES, body)
    }

    fn checked(key: &'static str, vars: &[&str], body: &str) -> Result<Template, ValidationError> {
        if body.trim().is_empty() || body.len() > 20_000 {
            return Err(ValidationError::new(
                "body",
                "invalid_template",
                "A template needs some text, at most 20,000 bytes.",
            ));
        }
        let mut rest = body;
        while let Some(i) = rest.find("{{") {
            let after = &rest[i + 2..];
            let Some(j) = after.find("}}") else {
                return Err(ValidationError::new(
                    "body",
                    "unclosed_variable",
                    "A `{{` in the template has no matching `}}`.",
                ));
            };
            let name = after[..j].trim();
            if !vars.contains(&name) {
                return Err(ValidationError::new(
                    "body",
                    "unknown_variable",
                    format!(
                        "`{{{{{name}}}}}` is not a variable of the {key} template; it knows: {}.",
                        vars.join(", ")
                    ),
                ));
            }
            rest = &after[j + 2..];
        }
        Ok(Template {
            key,
            body: body.to_owned(),
        })
    }

    pub fn default_for(key: &str) -> Option<Template> {
        Template::parse(key, default_template(key)?).ok()
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    pub fn body(&self) -> &str {
        &self.body
    }

    /// Fills the variables; values are plain text and are never re-read as template.
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(self.body.len() + 256);
        let mut rest = self.body.as_str();
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let j = after.find("}}").unwrap_or(after.len());
            out.push_str(&value(after[..j].trim()));
            rest = after.get(j + 2..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }
}

/// One intervention in plain words for the customer.
pub fn describe_intervention(i: &Intervention) -> String {
    let what = match i.kind {
        InterventionKind::Apology => "We apologised",
        InterventionKind::Explanation => "We explained what happened",
        InterventionKind::Refund => "We offered a refund",
        InterventionKind::Replacement => "We offered a replacement",
        InterventionKind::Credit => "We offered a credit on your account",
        InterventionKind::Expedite => "We moved your case to the front of the line",
        InterventionKind::Workaround => "We suggested a way around the problem",
        InterventionKind::Callback => "We arranged to call you back",
        InterventionKind::Other => "We tried something else",
    };
    let how = match i.result {
        InterventionResult::Accepted => "you accepted this",
        InterventionResult::Declined => "this did not work for you",
        InterventionResult::Pending => "we are still waiting on this",
    };
    let detail = i.description.trim();
    if detail.is_empty() {
        format!("- {what} ({how}).")
    } else {
        format!("- {what}: {detail} ({how}).")
    }
}

/// What a handoff draft is made of.
#[derive(Debug, Clone)]
pub struct HandoffFacts<'a> {
    pub customer_name: Option<&'a str>,
    pub ticket_number: i64,
    pub subject: &'a str,
    pub interventions: &'a [Intervention],
    /// The named person taking over, if routing has chosen one.
    pub next_person: Option<&'a str>,
    /// The rung's customer-facing title, e.g. "a support manager".
    pub next_rung_title: &'a str,
    /// When the customer will hear back, already in words.
    pub reply_by: &'a str,
    pub agent_name: Option<&'a str>,
}

/// Drafts the customer-facing handoff from the template and the ticket's log.
pub fn draft_handoff(template: &Template, f: &HandoffFacts<'_>) -> String {
    let tried = if f.interventions.is_empty() {
        "- We have looked into what happened, but nothing we have offered so far has helped."
            .to_owned()
    } else {
        f.interventions
            .iter()
            .map(describe_intervention)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let next_owner = match f.next_person {
        Some(name) => format!("{name}, {}", f.next_rung_title),
        None => f.next_rung_title.to_owned(),
    };
    template.render(|var| match var {
        "customer_name" => f.customer_name.unwrap_or("there").to_owned(),
        "ticket_number" => f.ticket_number.to_string(),
        "subject" => f.subject.to_owned(),
        "tried" => tried.clone(),
        "next_owner" => next_owner.clone(),
        "reply_by" => f.reply_by.to_owned(),
        "agent_name" => f.agent_name.unwrap_or("The support team").to_owned(),
        _ => String::new(),
    })
}

/// What a referral letter is made of.
#[derive(Debug, Clone)]
pub struct ReferralFacts<'a> {
    pub customer_name: Option<&'a str>,
    pub ticket_number: i64,
    pub subject: &'a str,
    pub alternative: &'a crate::recovery::Alternative,
    /// Why we are not the right people, in the referring manager's words.
    pub reason: &'a str,
    pub agent_name: Option<&'a str>,
}

/// Writes the referral letter (P10) from the template: where the customer can go
/// instead, what they serve, how to reach them, and why.
pub fn draft_referral(template: &Template, f: &ReferralFacts<'_>) -> String {
    template.render(|var| match var {
        "customer_name" => f.customer_name.unwrap_or("there").to_owned(),
        "ticket_number" => f.ticket_number.to_string(),
        "subject" => f.subject.to_owned(),
        "alternative_name" => f.alternative.name.clone(),
        "alternative_serves" => f.alternative.serves.join(", "),
        "alternative_contact" => f.alternative.contact.clone(),
        "reason" => f.reason.trim().to_owned(),
        "agent_name" => f.agent_name.unwrap_or("The support team").to_owned(),
        _ => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InterventionId, Millis, TicketId};

    #[test]
    fn canned_replies_know_their_own_variables() {
        let t =
            Template::canned_reply("Hello {{customer_name}}, about #{{ticket_number}}: {{ need }}")
                .unwrap();
        assert_eq!(t.key(), "canned_reply");
        let out = t.render(|v| format!("<{v}>"));
        assert_eq!(out, "Hello <customer_name>, about #<ticket_number>: <need>");
        let e = Template::canned_reply("Hi {{survey_link}}").unwrap_err();
        assert_eq!(e.code, "unknown_variable");
        assert!(e.message.contains("agent_name"), "{}", e.message);
        assert_eq!(
            Template::canned_reply("  ").unwrap_err().code,
            "invalid_template"
        );
        // Desk templates are unchanged: a canned-reply variable is not a handoff one.
        assert!(Template::parse("handoff", "{{need}}").is_err());
    }

    fn intervention(
        kind: InterventionKind,
        desc: &str,
        result: InterventionResult,
    ) -> Intervention {
        Intervention {
            id: InterventionId(1),
            ticket_id: TicketId(1),
            kind,
            description: desc.into(),
            result,
            agent_id: None,
            created_at: Millis(0),
        }
    }

    #[test]
    fn the_draft_names_what_was_tried_who_takes_over_and_when() {
        let tried = [
            intervention(
                InterventionKind::Refund,
                "half the delivery charge",
                InterventionResult::Declined,
            ),
            intervention(
                InterventionKind::Replacement,
                "a new kettle by courier",
                InterventionResult::Pending,
            ),
        ];
        let t = Template::default_for("handoff").unwrap();
        let text = draft_handoff(
            &t,
            &HandoffFacts {
                customer_name: Some("Ada"),
                ticket_number: 1042,
                subject: "Kettle arrived broken",
                interventions: &tried,
                next_person: Some("Sam Okafor"),
                next_rung_title: "one of our most experienced support colleagues",
                reply_by: "Tuesday 24 November, 14:00 (UTC)",
                agent_name: Some("Lee"),
            },
        );
        assert!(text.starts_with("Hello Ada,"));
        assert!(text.contains(
            "- We offered a refund: half the delivery charge (this did not work for you)."
        ));
        assert!(text.contains(
            "- We offered a replacement: a new kettle by courier (we are still waiting on this)."
        ));
        assert!(text.contains("not yet got you the result"));
        assert!(
            text.contains(
                "Sam Okafor, one of our most experienced support colleagues is taking over"
            )
        );
        assert!(text.contains("by Tuesday 24 November, 14:00 (UTC)"));
        assert!(!text.contains("{{"));
    }

    #[test]
    fn templates_only_use_their_own_variables() {
        assert_eq!(
            Template::parse("handoff", "Hi {{ nope }}")
                .unwrap_err()
                .code,
            "unknown_variable"
        );
        assert_eq!(
            Template::parse("handoff", "Hi {{ customer_name")
                .unwrap_err()
                .code,
            "unclosed_variable"
        );
        assert_eq!(
            Template::parse("nothing", "Hi").unwrap_err().code,
            "unknown_template"
        );
        let t = Template::parse("handoff", "Hi {{customer_name}}").unwrap();
        // A value that looks like a variable stays text.
        assert_eq!(t.render(|_| "{{tried}}".into()), "Hi {{tried}}");
    }
}
