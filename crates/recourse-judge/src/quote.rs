//! Separating what the customer just wrote from quoted history and signatures, so an
//! old angry message quoted below a calm reply is not read as the customer's mood now.

/// The new text of an email or portal reply: quoted lines (`> …`), quote headers
/// ("On … wrote:", Outlook "From: … Sent: …" blocks, "-----Original Message-----") and
/// everything after them, signatures (`-- `, "Sent from my iPhone") and mailing-list
/// footers removed. Replies written between quoted lines are kept.
pub fn new_text(body: &str) -> String {
    let lines: Vec<&str> = body.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if is_quoted(trimmed) {
            i += 1;
            continue;
        }
        if let Some(header_len) = quote_header(&lines[i..]) {
            // A header followed by `>` lines introduces inline quoting: skip the header
            // and keep reading, since replies may follow the quoted part. A header
            // followed by plain text (Gmail, Outlook) has the whole history below it.
            let next = lines[i + header_len..]
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.is_empty());
            if next.is_some_and(is_quoted) {
                i += header_len;
                continue;
            }
            break;
        }
        if is_original_message(trimmed) || is_signature_start(trimmed, &lines[i + 1..]) {
            break;
        }
        kept.push(line);
        i += 1;
    }
    // Blank lines left where quoted blocks were removed collapse to one.
    let mut out = String::with_capacity(body.len().min(4096));
    let mut blank = false;
    for line in kept {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push_str("\n\n");
        } else if !out.is_empty() {
            out.push('\n');
        }
        blank = false;
        out.push_str(line);
    }
    out
}

fn is_quoted(trimmed: &str) -> bool {
    trimmed.starts_with('>')
}

/// How many lines a quote header such as "On Tue, 1 Mar 2011, Ann wrote:" spans (it may
/// wrap over up to three lines), or `None`.
fn quote_header(lines: &[&str]) -> Option<usize> {
    let first = lines[0].trim();
    let opens = ["On ", "Le ", "Am ", "El ", "Il ", "Em ", "Op ", "W dniu "]
        .iter()
        .any(|p| first.starts_with(p));
    if opens {
        let mut joined = String::new();
        for (k, line) in lines.iter().take(3).enumerate() {
            let line = line.trim();
            if k > 0 && (line.is_empty() || is_quoted(line)) {
                break;
            }
            joined.push_str(line);
            joined.push(' ');
            let j = joined.trim_end();
            if [
                "wrote:",
                "a écrit :",
                "a écrit:",
                "schrieb:",
                "escribió:",
                "ha scritto:",
                "escreveu:",
                "geschreven:",
                "napisał:",
            ]
            .iter()
            .any(|w| j.ends_with(w))
            {
                return Some(k + 1);
            }
        }
        return None;
    }
    // Outlook: "From:" followed within a few lines by "Sent:"/"Date:" and "To:"/"Subject:".
    if field(first, "From") {
        let rest = &lines[1..lines.len().min(6)];
        let dated = rest
            .iter()
            .any(|l| field(l.trim(), "Sent") || field(l.trim(), "Date"));
        let addressed = rest
            .iter()
            .any(|l| field(l.trim(), "To") || field(l.trim(), "Subject"));
        if dated && addressed {
            return Some(1);
        }
    }
    // A rule line ("_____", "-----") directly above such a block.
    if first.len() >= 10 && first.chars().all(|c| c == '_' || c == '-') {
        let next = lines[1..].iter().position(|l| !l.trim().is_empty())?;
        if quote_header(&lines[1 + next..]).is_some() {
            return Some(1);
        }
    }
    None
}

/// "From:", "*From:*", "**From:**".
fn field(line: &str, name: &str) -> bool {
    let line = line.trim_start_matches('*');
    line.strip_prefix(name)
        .is_some_and(|rest| rest.trim_start_matches('*').starts_with(':'))
}

fn is_original_message(trimmed: &str) -> bool {
    let t = trimmed
        .trim_matches(|c| c == '-' || c == ' ' || c == '_')
        .to_ascii_lowercase();
    (trimmed.starts_with("--") || trimmed.starts_with("__"))
        && (t == "original message" || t.starts_with("forwarded message") || t == "reply above this line")
        // Mailing-list footers are a long rule of underscores.
        || (trimmed.len() >= 20 && trimmed.chars().all(|c| c == '_'))
}

/// A signature starts at "-- " (or "--") on its own line, or at a short "Sent from my …"
/// line that nothing but blank lines follows.
fn is_signature_start(trimmed: &str, after: &[&str]) -> bool {
    if trimmed == "--" || trimmed == "—" {
        return true;
    }
    if let Some(rest) = trimmed.strip_prefix("Sent from ") {
        let short = rest.split_whitespace().count() <= 6;
        let plain = !rest.contains([',', '.', '!', '?', ';']);
        let then_nothing = match after.iter().position(|l| !l.trim().is_empty()) {
            None => true,
            Some(j) => {
                let next = after[j].trim();
                is_quoted(next) || is_original_message(next) || quote_header(&after[j..]).is_some()
            }
        };
        return short && plain && then_nothing;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_gmail_quote_and_keeps_the_reply() {
        let body = "Thanks, that worked.\n\nOn Tue, Mar 1, 2011 at 6:02 PM, Ann <ann@example.com> wrote:\n> Have you tried turning it off?\n> This is a disgrace!";
        assert_eq!(new_text(body), "Thanks, that worked.");
    }

    #[test]
    fn header_wrapped_over_lines() {
        let body = "Fine now.\n\nOn Dec 16, 2011, at 12:47 PM, Corey\n<reply@example.com>\nwrote:\n\n> old";
        assert_eq!(new_text(body), "Fine now.");
    }

    #[test]
    fn outlook_blocks() {
        let body = "Please call me.\n\n-----Original Message-----\nFrom: Desk\nSent: Monday\nTo: me\nYou idiots!";
        assert_eq!(new_text(body), "Please call me.");
        let body = "Still broken.\n\n*From:* Desk [mailto:d@example.com]\n*Sent:* Monday\n*To:* me\n*Subject:* Re\n\nold text";
        assert_eq!(new_text(body), "Still broken.");
        let body = "Reply\n________________________________________\nFrom: CRM\nSent: Friday\nTo: John\n\nold";
        assert_eq!(new_text(body), "Reply");
    }

    #[test]
    fn inline_replies_between_quotes() {
        let body = "On Tue, Apr 29, 2014 at 4:22 PM, Dev <d@example.com> wrote:\n\n> first\n\nmy answer\n\n> second\n\nand another\n\n--\nsig";
        assert_eq!(new_text(body), "my answer\n\nand another");
    }

    #[test]
    fn signatures() {
        assert_eq!(new_text("Here it is\n\nSent from my iPhone"), "Here it is");
        assert_eq!(new_text("Ok\n\n-- \nrick"), "Ok");
        let keep = "Here\n\nSent from my desk, is much easier then my mobile phone.";
        assert_eq!(new_text(keep), keep);
        let keep = "And here is a fix -- this is not a signature.\n\nbye";
        assert_eq!(new_text(keep), keep);
    }
}
