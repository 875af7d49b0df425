//! The page behind a survey link: a plain HTML form a customer can answer from any mail
//! client's browser, with no sign-in (the link's token is the credential) and no script.
//! Everything shown is escaped. The agent console and portal come with their own issue.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use crate::AppState;
use crate::api::surveys::{SurveyBody, SurveyView, answer, survey_for_page};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>\
body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1d232a}}\
fieldset{{border:1px solid #c9d1d9;border-radius:8px;margin:0 0 1rem;padding:.75rem 1rem}}\
legend{{font-weight:600}}label{{margin-right:.8rem;white-space:nowrap}}\
textarea{{width:100%;min-height:5rem;font:inherit}}\
button{{font:inherit;padding:.5rem 1.2rem;border-radius:6px;border:0;background:#1f6feb;color:#fff}}\
.note{{color:#57606a}}</style></head><body>{}</body></html>",
        escape(title),
        body
    );
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        )],
        Html(html),
    )
        .into_response()
}

fn scale(name: &str, legend: &str, from: u8, to: u8, chosen: Option<u8>) -> String {
    let options: String = (from..=to)
        .map(|v| {
            let checked = if chosen == Some(v) { " checked" } else { "" };
            format!(
                "<label><input type=\"radio\" name=\"{name}\" value=\"{v}\" required{checked}> {v}</label>"
            )
        })
        .collect();
    format!("<fieldset><legend>{legend}</legend>{options}</fieldset>")
}

fn form(token: &str, s: &SurveyView, message: Option<&str>) -> String {
    let intro = format!(
        "<h1>How did we do?</h1><p>About ticket #{}: <strong>{}</strong></p>",
        s.ticket_number,
        escape(&s.subject)
    );
    let notice = match (message, &s.editable_until) {
        (Some(m), _) => format!("<p role=\"status\">{}</p>", escape(m)),
        (None, Some(until)) => format!(
            "<p class=\"note\">Thank you for answering. You can change your answers until {}.</p>",
            escape(until)
        ),
        _ => String::new(),
    };
    format!(
        "{intro}{notice}<form method=\"post\" action=\"/survey/{token}\">{}{}{}{}\
<fieldset><legend>Anything else you want to tell us? (optional)</legend>\
<textarea name=\"comment\" aria-label=\"Comment\" maxlength=\"5000\">{}</textarea></fieldset>\
<button type=\"submit\">Send</button></form>",
        scale(
            "product",
            "The product itself (1 = very poor, 5 = excellent)",
            1,
            5,
            s.product
        ),
        scale(
            "pleasantness",
            "How pleasant we were to deal with (1–5)",
            1,
            5,
            s.pleasantness
        ),
        scale(
            "competence",
            "How well we knew what we were doing (1–5)",
            1,
            5,
            s.competence
        ),
        scale(
            "recommend",
            "How likely are you to recommend us? (0 = not at all, 10 = certainly)",
            0,
            10,
            s.recommend
        ),
        escape(s.comment.as_deref().unwrap_or("")),
        token = escape(token),
    )
}

fn not_found() -> Response {
    let mut r = page(
        "Survey not found",
        "<h1>This survey link does not work</h1><p>It may have been mistyped. If you copied it from our message, please reply to that message instead and tell us how we did.</p>",
    );
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match survey_for_page(&state, &token).await {
        Some(s) => page("How did we do?", &form(&token, &s, None)),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct Answer {
    product: i64,
    pleasantness: i64,
    competence: i64,
    recommend: i64,
    comment: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form_data: Result<Form<Answer>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some(current) = survey_for_page(&state, &token).await else {
        return not_found();
    };
    let Ok(Form(a)) = form_data else {
        let mut r = page(
            "How did we do?",
            &form(
                &token,
                &current,
                Some("Please choose one answer for each question."),
            ),
        );
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    };
    let body = SurveyBody {
        product: a.product,
        pleasantness: a.pleasantness,
        competence: a.competence,
        recommend: a.recommend,
        comment: a.comment,
    };
    match answer(&state, &token, body).await {
        Ok(s) => page(
            "Thank you",
            &form(
                &token,
                &s,
                Some("Thank you — your answers are saved. You can change them for a week."),
            ),
        ),
        Err(e) => {
            let mut r = page("How did we do?", &form(&token, &current, Some(&e.message)));
            *r.status_mut() = e.status;
            r
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/survey/{token}", get(show).post(submit))
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
