//! An email's own HTML, shown to agents as the customer's mail program would have
//! drawn it: cleaned with ammonia (no script, handlers, forms, frames or remote
//! loads), served on its own address with a sandboxing CSP, and framed by the ticket
//! page in an `<iframe sandbox>`. The ticket page's text stays the record; this is
//! only a look at the formatting.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use base64::Engine;
use recourse_mail::{HtmlBody, html_body};

use super::Session;
use crate::AppState;
use crate::api::tickets;
use crate::error::ApiError;
use crate::extract::parse_id;

/// The frame's own policy. `sandbox` gives the page a unique origin with no script,
/// no forms and no top navigation; popups may open (and leave the sandbox) so a link
/// the agent clicks opens as an ordinary tab, with no opener and no referrer. Nothing
/// is fetched: pictures only from `data:` (inline ones we put there ourselves).
/// Inline styles are allowed because an email's formatting lives in them, and in a
/// sandboxed, script-less frame that can load nothing a style can only change looks.
/// `frame-ancestors 'self'` lets the console frame it and no one else.
const FRAME_CSP: &str = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; \
img-src data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

/// Pictures sent inside the message are inlined as `data:` addresses up to this many
/// bytes in all, so one message cannot make a page of hundreds of megabytes.
const MAX_INLINE_BYTES: usize = 4 * 1024 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/console/mail/{id}/html", get(original))
}

#[derive(Template)]
#[template(path = "mail_original.html")]
struct OriginalPage<'a> {
    notice: Option<&'a str>,
    remote_images: usize,
    images_too_big: usize,
    /// Already cleaned; the template writes it as HTML.
    body: &'a str,
}

/// The cleaned HTML and what was left out of it.
#[derive(Debug, Default)]
pub(crate) struct Cleaned {
    pub html: String,
    pub remote_images: usize,
    pub images_too_big: usize,
}

async fn original(State(state): State<AppState>, s: Session, Path(id): Path<String>) -> Response {
    match original_inner(&state, &s, &id).await {
        Ok(r) => r,
        Err(e) => {
            // Shown inside the frame, so with the frame's headers, not the console's
            // (whose `frame-ancestors 'none'` would leave the agent an empty box).
            let mut r = frame_page(Some(&e.message), &Cleaned::default());
            *r.status_mut() = e.status;
            r
        }
    }
}

async fn original_inner(state: &AppState, s: &Session, raw_id: &str) -> Result<Response, ApiError> {
    let id = parse_id(raw_id, "received message")?;
    let origin = state.store.inbound_mail_origin(id).await?;
    let (Some(ticket), Some(message)) = (origin.ticket_id, origin.message_ref) else {
        // Mail that made no message (bounces, auto-replies, quarantine) is the admins'.
        return Err(ApiError::not_found("received message"));
    };
    // The same check as the ticket page: an agent who cannot open the ticket cannot
    // open its mail.
    tickets::visible_ticket(state, &s.caller(), &ticket.0.to_string()).await?;
    let masked = state
        .store
        .messages(ticket)
        .await?
        .iter()
        .find(|m| m.id == message)
        .map(|m| m.masked);
    match masked {
        None => return Err(ApiError::not_found("received message")),
        // The console hides abusive messages until an agent chooses to read them;
        // their formatting is never worth bypassing that for.
        Some(true) => {
            return Ok(frame_page(
                Some(
                    "This message was hidden because it contains abuse, so its formatting is \
                     not shown. Its text is on the ticket page if you choose to read it.",
                ),
                &Cleaned::default(),
            ));
        }
        Some(false) => {}
    }
    let raw = state.store.inbound_mail_raw(id).await?;
    // Parsing and cleaning are CPU work on sender-controlled input: off the runtime.
    let cleaned = tokio::task::spawn_blocking(move || html_body(&raw).map(|b| clean(&b)))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading an email's HTML failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The message could not be read.",
            )
        })?;
    Ok(match cleaned {
        Some(c) => frame_page(None, &c),
        None => frame_page(
            Some("This message came without formatting; its text on the ticket page is all of it."),
            &Cleaned::default(),
        ),
    })
}

fn frame_page(notice: Option<&str>, c: &Cleaned) -> Response {
    let page = OriginalPage {
        notice,
        remote_images: c.remote_images,
        images_too_big: c.images_too_big,
        body: &c.html,
    };
    super::render_with(
        &page,
        &super::PageHeaders {
            csp: FRAME_CSP,
            referrer: "no-referrer",
            cache: "private, no-store",
        },
    )
}

/// Pictures that may stay: raster types as `data:` addresses (a browser draws them
/// and runs nothing).
fn safe_data_image(value: &str) -> bool {
    let v = value.trim_start().to_ascii_lowercase();
    ["png", "gif", "jpeg", "jpg", "webp"].iter().any(|t| {
        v.starts_with(&format!("data:image/{t};")) || v.starts_with(&format!("data:image/{t},"))
    })
}

/// Where a link may go: the web and email, nothing that runs or reads local data.
fn safe_link(value: &str) -> bool {
    let v = value.trim_start().to_ascii_lowercase();
    ["http:", "https:", "mailto:"]
        .iter()
        .any(|s| v.starts_with(s))
}

/// Inline styles carry an email's formatting; one that could load something or run
/// something (old IE's `expression`, bindings) is dropped whole. Backslashes go too:
/// CSS escapes are how such words get disguised. The CSP would block the loads
/// anyway; this keeps the page honest about what it shows.
fn safe_style(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    ![
        "url(",
        "image-set(",
        "expression",
        "@import",
        "behavior",
        "binding",
        "\\",
    ]
    .iter()
    .any(|bad| v.contains(bad))
}

/// Cleans a message's HTML for the frame: the allowed tags and attributes are
/// ammonia's defaults plus the table and font attributes emails lay themselves out
/// with; scripts, styles sheets, frames, objects and forms go with their content;
/// links open in a new tab without opener or referrer; pictures stay only when they
/// came inside the message (`cid:`, turned into `data:`) or already were `data:`.
pub(crate) fn clean(body: &HtmlBody) -> Cleaned {
    let mut inline: HashMap<String, String> = HashMap::new();
    let mut budget = MAX_INLINE_BYTES;
    let mut too_big = HashSet::new();
    for img in &body.inline_images {
        let uri = format!(
            "data:{};base64,{}",
            img.content_type,
            base64::engine::general_purpose::STANDARD.encode(&img.content)
        );
        if uri.len() <= budget {
            budget -= uri.len();
            inline.insert(img.content_id.to_ascii_lowercase(), uri);
        } else {
            too_big.insert(img.content_id.to_ascii_lowercase());
        }
    }
    let inline = Arc::new(inline);
    let too_big = Arc::new(too_big);
    let remote = Arc::new(AtomicUsize::new(0));
    let big = Arc::new(AtomicUsize::new(0));
    let (remote_c, big_c) = (remote.clone(), big.clone());
    let html = ammonia::Builder::default()
        .add_tags(["font"])
        .clean_content_tags(HashSet::from([
            "script", "style", "title", "iframe", "frame", "frameset", "object", "embed", "applet",
            "noembed", "noframes", "template", "textarea", "select", "svg", "math",
        ]))
        .add_generic_attributes([
            "style",
            "dir",
            "align",
            "valign",
            "bgcolor",
            "width",
            "height",
            "border",
            "cellpadding",
            "cellspacing",
            "color",
            "face",
            "size",
        ])
        // `cid` and `data` must pass ammonia's scheme check to reach the filter below,
        // which decides per element what each may be.
        .url_schemes(HashSet::from(["http", "https", "mailto", "cid", "data"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(
            move |element, attribute, value| match (element, attribute) {
                ("img", "src") => {
                    let v = value.trim();
                    if safe_data_image(v) {
                        return Some(Cow::Borrowed(value));
                    }
                    if let Some(cid) = v.get(..4).filter(|p| p.eq_ignore_ascii_case("cid:")) {
                        let key = v[cid.len()..].trim_matches(['<', '>']).to_ascii_lowercase();
                        if let Some(uri) = inline.get(&key) {
                            return Some(Cow::Owned(uri.clone()));
                        }
                        if too_big.contains(&key) {
                            big_c.fetch_add(1, Ordering::Relaxed);
                        }
                        return None;
                    }
                    if safe_link(v) {
                        // A remote picture tells its sender the mail was opened, and when.
                        remote_c.fetch_add(1, Ordering::Relaxed);
                    }
                    None
                }
                (_, "href" | "cite") => safe_link(value).then_some(Cow::Borrowed(value)),
                (_, "src") => None,
                (_, "style") => safe_style(value).then_some(Cow::Borrowed(value)),
                _ => Some(Cow::Borrowed(value)),
            },
        )
        .clean(&body.html)
        .to_string();
    Cleaned {
        html,
        remote_images: remote.load(Ordering::Relaxed),
        images_too_big: big.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use recourse_mail::InlineImage;

    use super::*;

    fn cleaned(html: &str) -> Cleaned {
        clean(&HtmlBody {
            html: html.to_owned(),
            inline_images: vec![InlineImage {
                content_id: "logo@shop".into(),
                content_type: "image/png".into(),
                content: b"\x89PNG".to_vec(),
            }],
        })
    }

    #[test]
    fn nothing_that_runs_or_loads_survives() {
        let c = cleaned(
            r#"<html><head><title>T</title><style>body{background:url(http://evil.test/s)}</style>
            <script>alert(1)</script><link rel="stylesheet" href="http://evil.test/c.css"></head>
            <body onload="alert(2)"><p onclick="alert(3)">Hello <b>there</b></p>
            <img src="http://evil.test/track.gif" onerror="alert(4)" alt="tracker">
            <img srcset="http://evil.test/a.png 2x" src="data:image/svg+xml,<svg onload=alert(5)>">
            <iframe src="http://evil.test/f">frame text</iframe>
            <form action="http://evil.test/steal"><input name="pw"><button>Send</button></form>
            <a href="javascript:alert(6)">bad link</a> <a href="data:text/html,x">data link</a>
            <div style="width:expression(alert(7))">ie</div>
            <div style="background:url(http://evil.test/bg.png)">bg</div>
            <div style="background:u\72l(http://evil.test/e.png)">escaped</div>
            <object data="x.swf"></object><svg><script>alert(8)</script></svg>
            <a href="https://shop.example/order/42">your order</a>
            <p style="color:#c00;font-weight:bold">Red words</p></body></html>"#,
        );
        let h = c.html.to_ascii_lowercase();
        for bad in [
            "<script",
            "alert",
            "onload",
            "onclick",
            "onerror",
            "<iframe",
            "<form",
            "<input",
            "<button",
            "javascript:",
            "evil.test",
            "expression",
            "<style",
            "<link",
            "<object",
            "<svg",
            "srcset",
            "data:text",
            "data:image/svg",
            "frame text",
            "<title",
        ] {
            assert!(!h.contains(bad), "{bad} survived in {}", c.html);
        }
        assert!(c.html.contains("Hello <b>there</b>"), "{}", c.html);
        assert!(c.html.contains("Red words"));
        assert!(
            c.html.contains(r#"style="color:#c00;font-weight:bold""#),
            "{}",
            c.html
        );
        assert!(
            c.html.contains(
                r#"<a href="https://shop.example/order/42" target="_blank" rel="noopener noreferrer">your order</a>"#
            ),
            "{}",
            c.html
        );
        assert_eq!(c.remote_images, 1);
    }

    #[test]
    fn pictures_inside_the_message_are_inlined() {
        let c = cleaned(
            r#"<img src="cid:logo@shop" alt="logo"><img src="CID:<missing@shop>"><img src="data:image/png;base64,AAAA">"#,
        );
        assert!(
            c.html.contains(r#"src="data:image/png;base64,iVBORw==""#),
            "{}",
            c.html
        );
        assert!(
            c.html.contains(r#"src="data:image/png;base64,AAAA""#),
            "{}",
            c.html
        );
        assert!(
            !c.html.contains("cid:") && !c.html.contains("CID:"),
            "{}",
            c.html
        );
        assert_eq!(c.remote_images, 0);
    }

    #[test]
    fn oversized_inline_pictures_are_left_out_and_counted() {
        let c = clean(&HtmlBody {
            html: r#"<img src="cid:huge@shop">"#.into(),
            inline_images: vec![InlineImage {
                content_id: "huge@shop".into(),
                content_type: "image/jpeg".into(),
                content: vec![0; MAX_INLINE_BYTES],
            }],
        });
        assert!(!c.html.contains("data:"), "{}", c.html);
        assert_eq!(c.images_too_big, 1);
    }
}
