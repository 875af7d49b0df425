//! The customer-facing message templates: each one's text, its variables, and a preview
//! filled in from the newest ticket on the desk.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use recourse_desk::TicketFilter;
use recourse_domain::Agent;
use recourse_domain::template::{TEMPLATE_KEYS, Template as MessageTemplate, default_template};

use super::form::{Pairs, Query, admins_only, field, notice, page, raw_field, submit};
use crate::AppState;
use crate::api::settings;
use crate::error::ApiError;
use crate::ui::{PostForm, Session, error_response, render};
use recourse_desk::config::keys;

struct TemplateCard {
    key: String,
    title: &'static str,
    body: String,
    variables: Vec<String>,
    is_default: bool,
    preview: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_templates.html")]
struct TemplatesPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    sample: String,
    cards: Vec<TemplateCard>,
}

fn template_title(key: &str) -> &'static str {
    match key {
        "handoff" => "Handoff (sent when a case moves up the ladder)",
        "referral" => "Referral (the manager's last stand)",
        "survey_invite" => "Survey invitation (after a case ends)",
        _ => "Template",
    }
}

/// Values for a preview: the newest ticket on the desk where there is one, and made-up
/// but plausible values for what only exists at the moment of sending.
async fn sample_values(
    state: &AppState,
    s: &Session,
) -> Result<(String, HashMap<&'static str, String>), ApiError> {
    let newest = state
        .store
        .list_tickets(&TicketFilter {
            limit: 1,
            ..TicketFilter::default()
        })
        .await?
        .into_iter()
        .next();
    let mut v: HashMap<&'static str, String> = HashMap::new();
    let label = match &newest {
        Some(t) => {
            let c = state.store.get_customer(t.customer_id).await?;
            v.insert(
                "customer_name",
                c.name.unwrap_or_else(|| c.email.as_str().to_owned()),
            );
            v.insert("ticket_number", t.number.to_string());
            v.insert("subject", t.subject.clone());
            format!("ticket #{} “{}”", t.number, t.subject)
        }
        None => {
            v.insert("customer_name", "Grace Brennan".into());
            v.insert("ticket_number", "1001".into());
            v.insert("subject", "Kettle arrived with a cracked lid".into());
            "a made-up ticket (the desk has none yet)".into()
        }
    };
    let cfg = state.store.desk_config().await?;
    v.insert(
        "tried",
        "- Apology: said sorry for the delay (accepted)\n- Replacement: sent a new one by courier (declined)".into(),
    );
    v.insert("next_owner", cfg.ladder.top().title.clone());
    v.insert(
        "reply_by",
        jiff::Timestamp::from_millisecond(crate::now().0 + 4 * 3_600_000)
            .map(|t| t.strftime("%A %H:%M UTC").to_string())
            .unwrap_or_default(),
    );
    v.insert("agent_name", s.agent.name.clone());
    let alt = state
        .store
        .alternatives()
        .await?
        .into_iter()
        .find(|a| a.active);
    let (alt_name, alt_serves, alt_contact) = match alt {
        Some(a) => (a.name, a.serves.join(", "), a.contact),
        None => (
            "Riverside Repairs".to_owned(),
            "repairs, spare parts".to_owned(),
            "https://repairs.example".to_owned(),
        ),
    };
    v.insert("alternative_name", alt_name);
    v.insert("alternative_serves", alt_serves);
    v.insert("alternative_contact", alt_contact);
    v.insert(
        "reason",
        "we do not repair items bought more than five years ago.".into(),
    );
    v.insert("survey_link", "https://desk.example/survey/sample".into());
    Ok((label, v))
}

async fn templates_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    typed: Option<(String, String, Option<String>, Option<String>)>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let mut stored = Vec::new();
    for (key, _) in TEMPLATE_KEYS {
        stored.push(settings::template_view(state, key).await?);
    }
    let (sample, values) = sample_values(state, s).await?;
    let preview = |key: &str, body: &str| -> Result<String, String> {
        MessageTemplate::parse(key, body)
            .map(|t| t.render(|name| values.get(name).cloned().unwrap_or_default()))
            .map_err(|e| e.message)
    };
    let cards = stored
        .into_iter()
        .map(|t| {
            let mine = typed.as_ref().filter(|(k, ..)| *k == t.key);
            let body = mine.map(|(_, b, ..)| b.clone()).unwrap_or(t.body);
            let error = mine.and_then(|(_, _, e, _)| e.clone());
            let shown = mine.and_then(|(_, _, _, p)| p.clone());
            let preview = match shown {
                Some(p) => Some(p),
                None if error.is_none() => preview(&t.key, &body).ok(),
                None => None,
            };
            TemplateCard {
                title: template_title(&t.key),
                key: t.key,
                body,
                variables: t.variables,
                is_default: t.is_default,
                preview,
                error,
            }
        })
        .collect();
    Ok(render(&TemplatesPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "templates",
        notice,
        error: None,
        sample,
        cards,
    }))
}

pub(super) async fn templates_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = templates_view(&state, &s, notice(&q), None).await;
    page(&headers, &s, r)
}

pub(super) async fn save_template(
    State(state): State<AppState>,
    Path(key): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    // The body as typed, line ends and all (only `\r\n` from the browser is normalised).
    let body = raw_field(&f.form, "body").replace("\r\n", "\n");
    let action = field(&f.form, "action");
    if !TEMPLATE_KEYS.iter().any(|(k, _)| *k == key) {
        return error_response(
            &f.headers,
            &f.session,
            &ApiError::not_found("template"),
            "/admin/templates",
        );
    }
    let s = &f.session;
    if action == "preview" {
        // Nothing is saved; the card shows the text as typed and how it reads.
        let r = async {
            admins_only(s)?;
            let (_, values) = sample_values(&state, s).await?;
            let (err, shown) = match MessageTemplate::parse(&key, &body) {
                Ok(t) => (
                    None,
                    Some(t.render(|n| values.get(n).cloned().unwrap_or_default())),
                ),
                Err(e) => (Some(e.message), None),
            };
            let failed = err.is_some();
            let mut r =
                templates_view(&state, s, None, Some((key.clone(), body, err, shown))).await?;
            if failed {
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Ok(r)
        }
        .await;
        return page(&f.headers, s, r);
    }
    let reset = action == "reset";
    let to = format!(
        "/admin/templates?done={}#t-{key}",
        if reset {
            "template_reset"
        } else {
            "template_saved"
        }
    );
    submit(
        &f,
        body,
        &to,
        async |body| {
            let actor = s.caller().actor();
            if reset {
                if default_template(&key).is_none() {
                    return Err(ApiError::not_found("template"));
                }
                let setting = format!("{}{key}", keys::TEMPLATE_PREFIX);
                state
                    .store
                    .reset_setting(&setting, actor, crate::now())
                    .await?;
            } else {
                let t = MessageTemplate::parse(&key, body)?;
                let setting = format!("{}{}", keys::TEMPLATE_PREFIX, t.key());
                state
                    .store
                    .put_setting(&setting, t.body(), actor, crate::now())
                    .await?;
            }
            Ok(())
        },
        async |body, e| {
            templates_view(
                &state,
                s,
                None,
                Some((key.clone(), body, Some(e.message), None)),
            )
            .await
        },
    )
    .await
}
