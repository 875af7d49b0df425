//! Reading a received message: what we need from its headers, its text (HTML turned
//! into plain text), its attachments, and for delivery reports the parts that say
//! which address failed and which message of ours it was.

use std::borrow::Cow;

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// Why a message could not be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the message has no header section we can read")]
    NoHeaders,
    #[error("the message's MIME structure is too damaged to read")]
    Damaged,
}

/// A file that came with a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub content: Vec<u8>,
    pub sha256: String,
}

/// Everything the pipeline uses from one message.
#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To then References, without angle brackets, oldest first.
    pub references: Vec<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    /// The decoded text: the plain part, or the HTML part converted.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Lower-cased header names with their raw values, for classification.
    pub headers: Vec<(String, String)>,
    /// `multipart/report`'s `report-type`, e.g. `delivery-status`.
    pub report_type: Option<String>,
    /// The text of `message/delivery-status` parts.
    pub delivery_status: String,
    /// Message-IDs of messages returned inside this one (a bounce carries ours).
    pub enclosed_message_ids: Vec<String>,
    /// Recipients of messages returned inside this one.
    pub enclosed_recipients: Vec<String>,
}

impl ParsedMail {
    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `<abc@host>` → `abc@host`.
pub fn bare_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_owned()
}

/// Mail that arrives with bare CR line ends (old Mac tools, some gateways) is read as
/// if it had LF; the stored raw message stays exactly as received.
fn normalise_line_ends(raw: &[u8]) -> Cow<'_, [u8]> {
    if raw.contains(&b'\r') && !raw.contains(&b'\n') {
        Cow::Owned(
            raw.iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    }
}

/// HTML to plain text: scripts, styles and markup dropped, entities decoded, links kept
/// as text. The result is only ever shown as text, so nothing in it can run.
pub fn html_to_text(html: &str) -> String {
    html2text::from_read_with_decorator(
        html.as_bytes(),
        100,
        html2text::render::TrivialDecorator::new(),
    )
    .unwrap_or_else(|_| html.to_owned())
}

/// A picture sent inside the message and named by `cid:` in its HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineImage {
    /// The Content-ID without angle brackets.
    pub content_id: String,
    /// Lower-case, one of the raster types browsers show without running anything.
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The HTML the sender wrote, as received: not safe to show until it is cleaned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlBody {
    pub html: String,
    pub inline_images: Vec<InlineImage>,
}

/// Picture types shown inline; SVG is left out because it is a document that can
/// carry script and links of its own.
const INLINE_IMAGE_TYPES: &[&str] = &["image/png", "image/gif", "image/jpeg", "image/webp"];

/// The message's own HTML parts (not plain text dressed up as HTML, which the parser
/// offers when there is none), with the pictures they may show by Content-ID. `None`
/// when the message has no HTML or cannot be read.
pub fn html_body(raw: &[u8]) -> Option<HtmlBody> {
    // As in `parse`: a damaged structure must not take down whoever reads it.
    std::panic::catch_unwind(|| html_body_unguarded(raw)).unwrap_or(None)
}

fn html_body_unguarded(raw: &[u8]) -> Option<HtmlBody> {
    let raw = normalise_line_ends(raw);
    let message = MessageParser::default().parse(raw.as_ref())?;
    let html: Vec<&str> = message
        .html_body
        .iter()
        .filter_map(|&i| match &message.parts.get(i as usize)?.body {
            PartType::Html(h) => Some(h.as_ref()),
            _ => None,
        })
        .collect();
    if html.iter().all(|h| h.trim().is_empty()) {
        return None;
    }
    let inline_images = message
        .parts
        .iter()
        .filter_map(|part| {
            let content_id = bare_id(part.content_id()?);
            let ct = part.content_type()?;
            let content_type = format!(
                "{}/{}",
                ct.ctype().to_ascii_lowercase(),
                ct.subtype()?.to_ascii_lowercase()
            );
            (!content_id.is_empty() && INLINE_IMAGE_TYPES.contains(&content_type.as_str())).then(
                || InlineImage {
                    content_id,
                    content_type,
                    content: part.contents().to_vec(),
                },
            )
        })
        .collect();
    Some(HtmlBody {
        html: html.join("\n<hr>\n"),
        inline_images,
    })
}

fn id_list(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(t) => vec![bare_id(t)],
        mail_parser::HeaderValue::TextList(list) => list.iter().map(|t| bare_id(t)).collect(),
        _ => Vec::new(),
    }
}

pub fn parse(raw: &[u8]) -> Result<ParsedMail, ParseError> {
    // The MIME parser asserts on some damaged structures (mail-parser 0.11.9 in builds
    // with debug assertions; found by fuzzing, see tests/fuzz_regressions.rs): such a
    // message is unreadable, and must not take down whoever reads it.
    std::panic::catch_unwind(|| parse_unguarded(raw)).unwrap_or(Err(ParseError::Damaged))
}

fn parse_unguarded(raw: &[u8]) -> Result<ParsedMail, ParseError> {
    let raw = normalise_line_ends(raw);
    let message = MessageParser::default()
        .parse(raw.as_ref())
        .ok_or(ParseError::NoHeaders)?;
    if message.headers().is_empty() {
        return Err(ParseError::NoHeaders);
    }
    let mut parsed = ParsedMail {
        message_id: message
            .message_id()
            .map(bare_id)
            .filter(|id| !id.is_empty()),
        subject: message.subject().map(str::to_owned),
        headers: message
            .headers_raw()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
            .collect(),
        ..ParsedMail::default()
    };
    let mut references = id_list(message.references());
    for id in id_list(message.in_reply_to()) {
        // In-Reply-To names the message answered, the newest: it goes last.
        references.retain(|r| r != &id);
        references.push(id);
    }
    parsed.references = references.into_iter().filter(|r| !r.is_empty()).collect();
    if let Some(from) = message.from().and_then(|a| a.first()) {
        parsed.from_address = from.address().map(|a| a.trim().to_lowercase());
        parsed.from_name = from
            .name()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
    }
    if let Some(ct) = message.content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        parsed.report_type = ct.attribute("report-type").map(|r| r.to_ascii_lowercase());
    }
    parsed.text = body_text(&message);
    read_parts(&message, &mut parsed);
    Ok(parsed)
}

/// The message's own words: every plain-text body part, or the HTML ones converted.
fn body_text(message: &Message<'_>) -> String {
    let plain: Vec<String> = (0..message.text_body_count())
        .filter_map(|i| {
            let part = message.text_part(i as u32)?;
            match &part.body {
                PartType::Text(t) => Some(t.to_string()),
                PartType::Html(h) => Some(html_to_text(h)),
                _ => None,
            }
        })
        .collect();
    let text = plain.join("\n");
    if !text.trim().is_empty() {
        return text;
    }
    (0..message.html_body_count())
        .filter_map(|i| message.body_html(i))
        .map(|h| html_to_text(&h))
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_parts(message: &Message<'_>, parsed: &mut ParsedMail) {
    let body_parts: Vec<u32> = message
        .text_body
        .iter()
        .chain(message.html_body.iter())
        .copied()
        .collect();
    for (index, part) in message.parts.iter().enumerate() {
        let ct = part.content_type();
        let kind = ct
            .map(|c| {
                format!(
                    "{}/{}",
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or("").to_ascii_lowercase()
                )
            })
            .unwrap_or_default();
        match &part.body {
            PartType::Message(inner) => {
                if let Some(id) = inner.message_id() {
                    parsed.enclosed_message_ids.push(bare_id(id));
                }
                for to in inner.to().iter().flat_map(|a| a.iter()) {
                    if let Some(a) = to.address() {
                        parsed.enclosed_recipients.push(a.to_lowercase());
                    }
                }
                if index > 0 {
                    parsed.attachments.push(attachment(
                        part.attachment_name(),
                        "message/rfc822",
                        part.contents(),
                    ));
                }
            }
            PartType::Multipart(_) => {}
            _ if kind == "message/delivery-status" || kind == "message/global-delivery-status" => {
                parsed
                    .delivery_status
                    .push_str(&String::from_utf8_lossy(part.contents()));
                parsed.delivery_status.push('\n');
            }
            _ if kind == "text/rfc822-headers" || kind == "message/rfc822-headers" => {
                if let Some(headers) = MessageParser::default().parse_headers(part.contents()) {
                    if let Some(id) = headers.message_id() {
                        parsed.enclosed_message_ids.push(bare_id(id));
                    }
                    for to in headers.to().iter().flat_map(|a| a.iter()) {
                        if let Some(a) = to.address() {
                            parsed.enclosed_recipients.push(a.to_lowercase());
                        }
                    }
                }
            }
            _ => {
                let is_body = body_parts.contains(&(index as u32));
                if index > 0 && !is_body {
                    let content_type = if kind.is_empty() {
                        "application/octet-stream".to_owned()
                    } else {
                        kind
                    };
                    parsed.attachments.push(attachment(
                        part.attachment_name(),
                        &content_type,
                        part.contents(),
                    ));
                }
            }
        }
    }
}

fn attachment(name: Option<&str>, content_type: &str, content: &[u8]) -> Attachment {
    Attachment {
        filename: name.map(str::to_owned),
        content_type: content_type.to_owned(),
        sha256: sha256_hex(content),
        content: content.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text_without_scripts() {
        let text = html_to_text(
            "<html><head><style>p{color:red}</style><script>alert(1)</script></head>\
             <body><p>Hello &amp; welcome</p><p>Second</p></body></html>",
        );
        assert!(text.contains("Hello & welcome"), "{text}");
        assert!(text.contains("Second"));
        assert!(!text.contains("alert"));
        assert!(!text.contains("color"));
    }

    #[test]
    fn html_body_is_the_html_part_with_its_pictures() {
        let raw = b"From: pat@example.com\r\nSubject: lamp\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/related; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n\
            --a\r\nContent-Type: text/plain\r\n\r\nplain words\r\n\
            --a\r\nContent-Type: text/html\r\n\r\n<p>rich <b>words</b><img src=\"cid:pic1@x\"></p>\r\n\
            --a--\r\n\
            --b\r\nContent-Type: image/png\r\nContent-ID: <pic1@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n\
            --b\r\nContent-Type: image/svg+xml\r\nContent-ID: <pic2@x>\r\n\r\n<svg></svg>\r\n\
            --b--\r\n";
        let body = html_body(raw).unwrap();
        assert!(body.html.contains("rich <b>words</b>"), "{}", body.html);
        assert!(!body.html.contains("plain words"));
        assert_eq!(body.inline_images.len(), 1, "{:?}", body.inline_images);
        assert_eq!(body.inline_images[0].content_id, "pic1@x");
        assert_eq!(body.inline_images[0].content_type, "image/png");
        assert_eq!(body.inline_images[0].content, b"\x89PNG\r\n");
    }

    #[test]
    fn plain_mail_has_no_html_body() {
        assert_eq!(
            html_body(b"From: pat@example.com\r\nSubject: lamp\r\n\r\nJust text <b>here</b>\r\n"),
            None
        );
    }

    #[test]
    fn reads_ids_and_references_newest_last() {
        let raw = b"From: Pat <PAT@example.com>\r\nSubject: Re: lamp\r\nMessage-ID: <b@x>\r\n\
            References: <r1@x> <r2@x>\r\nIn-Reply-To: <r1@x>\r\n\r\nThanks!\r\n";
        let p = parse(raw).unwrap();
        assert_eq!(p.message_id.as_deref(), Some("b@x"));
        assert_eq!(p.references, vec!["r2@x", "r1@x"]);
        assert_eq!(p.from_address.as_deref(), Some("pat@example.com"));
        assert_eq!(p.from_name.as_deref(), Some("Pat"));
        assert_eq!(p.text.trim(), "Thanks!");
    }
}
