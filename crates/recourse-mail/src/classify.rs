//! Which received messages are from a person, and which are machines talking: delivery
//! reports (bounces), out-of-office and other automatic replies, list and bulk mail,
//! abuse feedback reports. Machines are recorded and never answered, which is what
//! keeps two auto-responders from mailing each other forever.

use crate::mime::{ParsedMail, bare_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Written by a person: it opens or continues a ticket.
    Person,
    /// Written by a machine on someone's behalf; `why` names the sign we went by.
    AutoReply { why: String },
    /// A report that mail we sent could not be delivered.
    Bounce(BounceReport),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BounceReport {
    /// Addresses reported as failing for good (5.x.x, or `Action: failed`).
    pub failed: Vec<String>,
    /// Addresses only delayed (4.x.x), which are not marked as bouncing.
    pub delayed: Vec<String>,
    /// The Message-IDs of the returned messages, to find the ticket.
    pub original_ids: Vec<String>,
    /// The status or diagnostic the report gave.
    pub reason: String,
}

/// Subjects that mail systems put on delivery failures.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "mail delivery failed",
    "failure notice",
    "returned mail",
    "returned to sender",
    "mail system error",
    "delivery notification",
    "bounce notification",
    "could not send message",
    "nondeliverable",
    "non-remis",
    "unzustellbar",
];

/// Subjects that out-of-office and other responders use.
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "autorespon",
    "auto response",
    "out of office",
    "out of the office",
    "away from the office",
    "vacation reply",
    "abwesenheitsnotiz",
    "réponse automatique",
    "respuesta automática",
    "risposta automatica",
];

fn sender_local_part(p: &ParsedMail) -> String {
    p.from_address
        .as_deref()
        .and_then(|a| a.split('@').next())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// `envelope_from` is the SMTP `MAIL FROM`, `Some("")` for the null return path `<>`.
pub fn classify(p: &ParsedMail, envelope_from: Option<&str>) -> Class {
    let subject = p.subject.as_deref().unwrap_or("").to_lowercase();
    let local = sender_local_part(p);
    let from_daemon = matches!(local.as_str(), "mailer-daemon" | "postmaster");
    let is_dsn = p.report_type.as_deref() == Some("delivery-status");
    if is_dsn
        || (from_daemon
            && (BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s)) || local == "mailer-daemon"))
    {
        return Class::Bounce(bounce_report(p));
    }
    if p.report_type.as_deref() == Some("feedback-report") {
        return Class::AutoReply {
            why: "abuse feedback report".into(),
        };
    }
    if let Some(v) = p.header("auto-submitted")
        && !v.eq_ignore_ascii_case("no")
    {
        return Class::AutoReply {
            why: format!("Auto-Submitted: {v}"),
        };
    }
    for h in ["x-autoreply", "x-autorespond", "x-autoresponder"] {
        if p.header(h).is_some() {
            return Class::AutoReply {
                why: format!("{h} header"),
            };
        }
    }
    if let Some(v) = p.header("precedence") {
        let v = v.to_ascii_lowercase();
        if ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()) {
            return Class::AutoReply {
                why: format!("Precedence: {v}"),
            };
        }
    }
    let return_path = p.header("return-path").map(bare_id);
    if envelope_from == Some("") || return_path.as_deref() == Some("") {
        return Class::AutoReply {
            why: "null return path".into(),
        };
    }
    if let Some(s) = AUTO_REPLY_SUBJECTS.iter().find(|s| subject.contains(*s)) {
        return Class::AutoReply {
            why: format!("subject says \"{s}\""),
        };
    }
    Class::Person
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let (n, v) = line.split_once(':')?;
    n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
}

/// `rfc822; a@b` → `a@b`.
fn address_of(value: &str) -> String {
    let v = value.rsplit(';').next().unwrap_or(value);
    bare_id(v).to_lowercase()
}

fn bounce_report(p: &ParsedMail) -> BounceReport {
    let mut report = BounceReport::default();
    // RFC 3464: one block per recipient; each says Final-Recipient, Action, Status.
    for block in p.delivery_status.split("\n\n") {
        let mut recipient = None;
        let mut action = String::new();
        let mut status = String::new();
        let mut diagnostic = String::new();
        for line in block.lines() {
            if let Some(v) = field(line, "final-recipient").or_else(|| {
                recipient
                    .is_none()
                    .then(|| field(line, "original-recipient"))
                    .flatten()
            }) {
                recipient = Some(address_of(v));
            } else if let Some(v) = field(line, "action") {
                action = v.to_ascii_lowercase();
            } else if let Some(v) = field(line, "status") {
                status = v.to_owned();
            } else if let Some(v) = field(line, "diagnostic-code") {
                diagnostic = v.to_owned();
            }
        }
        let Some(recipient) = recipient.filter(|r| r.contains('@')) else {
            continue;
        };
        let delayed = action == "delayed" || status.starts_with('4');
        if report.reason.is_empty() {
            report.reason = [status.as_str(), diagnostic.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
        }
        if delayed {
            report.delayed.push(recipient);
        } else {
            report.failed.push(recipient);
        }
    }
    report.original_ids = p.enclosed_message_ids.clone();
    // Reports that are not RFC 3464 quote the returned message as text instead.
    for line in p.text.lines() {
        if let Some(v) = field(line, "message-id")
            && v.contains('@')
        {
            let id = bare_id(v);
            if !report.original_ids.contains(&id) {
                report.original_ids.push(id);
            }
        }
    }
    if report.failed.is_empty() && report.delayed.is_empty() {
        report.failed = p.enclosed_recipients.clone();
        if report.failed.is_empty() {
            report.failed = quoted_recipients(&p.text);
        }
    }
    report.failed.sort();
    report.failed.dedup();
    if report.reason.is_empty() {
        report.reason = p
            .subject
            .clone()
            .unwrap_or_else(|| "delivery failed".into());
    }
    report
}

/// Addresses a plain-text report names as failing: `<a@b>:` lines (qmail, Exim),
/// and the `To:` of the message it quotes.
fn quoted_recipients(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let candidate = if let Some(v) = field(line, "to") {
            Some(v)
        } else if line.starts_with('<') && line.ends_with(">:") {
            Some(line.trim_end_matches(':'))
        } else {
            None
        };
        if let Some(c) = candidate {
            let addr = c
                .rsplit('<')
                .next()
                .unwrap_or(c)
                .trim_end_matches('>')
                .trim()
                .to_lowercase();
            if addr.contains('@') && !addr.contains(' ') && !out.contains(&addr) {
                out.push(addr);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mime::parse;

    #[test]
    fn a_person_is_a_person() {
        let p = parse(b"From: a@example.com\r\nSubject: Broken lamp\r\n\r\nHelp\r\n").unwrap();
        assert_eq!(classify(&p, Some("a@example.com")), Class::Person);
    }

    #[test]
    fn auto_submitted_no_is_a_person() {
        let p = parse(b"From: a@example.com\r\nAuto-Submitted: no\r\nSubject: Hi\r\n\r\nx\r\n")
            .unwrap();
        assert_eq!(classify(&p, None), Class::Person);
    }

    #[test]
    fn null_return_path_is_automatic() {
        let p = parse(b"From: a@example.com\r\nSubject: Hi\r\n\r\nx\r\n").unwrap();
        assert!(matches!(classify(&p, Some("")), Class::AutoReply { .. }));
    }
}
