//! How a reply finds its ticket: our Message-IDs (`ticket-1042.msg-77.o5@desk`) in
//! In-Reply-To/References, or the ticket token (`[#1042]`) we put in every subject.

/// The subject of mail we send about ticket `number`: the ticket's subject with the
/// token, and `Re:` once, as mail clients expect.
pub fn outbound_subject(subject: &str, number: i64) -> String {
    let base = strip_reply_prefixes(subject);
    let base = strip_token(base, number);
    format!("Re: {base} [#{number}]")
}

fn strip_reply_prefixes(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        let lower = t.to_ascii_lowercase();
        let cut = ["re:", "aw:", "sv:", "fw:", "fwd:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = &t[n..],
            None => return t,
        }
    }
}

fn strip_token(s: &str, number: i64) -> String {
    s.replace(&format!("[#{number}]"), "").trim().to_owned()
}

/// The ticket number a subject's token names, if any: `Re: Lamp [#1042]` → 1042. The
/// last token counts: ours goes at the end, after any the customer typed themselves
/// (`Order [#7]` is answered as `Re: Order [#7] [#1042]`).
pub fn subject_token(subject: &str) -> Option<i64> {
    let mut found = None;
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        if let Some(end) = after.find(']')
            && let Ok(n) = after[..end].trim().parse::<i64>()
        {
            found = Some(n);
        }
        rest = after;
    }
    found
}

/// Our Message-ID for outbox row `outbox_id` carrying message `message` of ticket
/// `number`. Deterministic, so a retried send reuses the same ID.
pub fn our_message_id(number: i64, message: i64, outbox_id: i64, domain: &str) -> String {
    format!("ticket-{number}.msg-{message}.o{outbox_id}@{domain}")
}

/// The ticket number in one of our own Message-IDs (checked against our domain).
pub fn ticket_in_message_id(id: &str, domain: &str) -> Option<i64> {
    let (local, host) = id.rsplit_once('@')?;
    if !host.eq_ignore_ascii_case(domain) {
        return None;
    }
    local
        .strip_prefix("ticket-")?
        .split('.')
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_carry_one_token_and_one_re() {
        assert_eq!(
            outbound_subject("Lamp broken", 1042),
            "Re: Lamp broken [#1042]"
        );
        assert_eq!(
            outbound_subject("RE: Re: Lamp broken [#1042]", 1042),
            "Re: Lamp broken [#1042]"
        );
        assert_eq!(subject_token("Re: Lamp broken [#1042]"), Some(1042));
        assert_eq!(subject_token("[#abc] then [#7]"), Some(7));
        assert_eq!(subject_token("No token"), None);
    }

    #[test]
    fn our_ids_name_their_ticket() {
        let id = our_message_id(1042, 77, 5, "desk.example");
        assert_eq!(ticket_in_message_id(&id, "desk.example"), Some(1042));
        assert_eq!(ticket_in_message_id(&id, "other.example"), None);
        assert_eq!(
            ticket_in_message_id("abc@desk.example", "desk.example"),
            None
        );
    }
}
