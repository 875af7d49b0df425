//! Webhooks: adding one (its signing secret is shown once), stopping one, and each
//! one's latest deliveries.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_domain::{Agent, EventKind};

use super::form::{
    Pairs, Query, admins_only, field, fields, notice, page, submit, submit_and_show,
};
use crate::AppState;
use crate::api::webhooks;
use crate::error::ApiError;
use crate::ui::{PostForm, Session, render, when};

struct DeliveryRow {
    event_id: i64,
    outcome: String,
    attempts: i64,
}

struct WebhookRow {
    id: i64,
    url: String,
    events: String,
    active: bool,
    created: String,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    hooks: Vec<WebhookRow>,
    event_names: &'static [&'static str],
    url: String,
    picked: Vec<String>,
    /// Shown once, right after the webhook was added.
    secret: Option<String>,
}

impl WebhooksPage<'_> {
    fn is_picked(&self, e: &str) -> bool {
        self.picked.iter().any(|p| p == e)
    }
}

/// How many of each webhook's latest deliveries the page shows.
const DELIVERIES_SHOWN: i64 = 5;

async fn webhooks_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    typed: (String, Vec<String>),
    secret: Option<String>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let hooks: Vec<webhooks::WebhookView> = state
        .store
        .list_webhooks()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let mut rows = Vec::with_capacity(hooks.len());
    for h in hooks {
        let deliveries = state
            .store
            .webhook_deliveries(h.id, DELIVERIES_SHOWN)
            .await?
            .into_iter()
            .map(|d| DeliveryRow {
                event_id: d.event_id,
                outcome: match (d.delivered_at, d.failed_at) {
                    (Some(t), _) => format!("delivered {}", when(&crate::rfc3339(t))),
                    (None, Some(t)) => format!(
                        "gave up {}: {}",
                        when(&crate::rfc3339(t)),
                        d.last_error.unwrap_or_default()
                    ),
                    (None, None) => match d.last_error {
                        Some(e) => format!("retrying: {e}"),
                        None => "waiting to be sent".to_owned(),
                    },
                },
                attempts: d.attempts,
            })
            .collect();
        rows.push(WebhookRow {
            id: h.id,
            url: h.url,
            events: if h.events.is_empty() {
                "every event".to_owned()
            } else {
                h.events.join(", ")
            },
            active: h.active,
            created: when(&h.created_at),
            deliveries,
        });
    }
    // Live hooks first, newest first.
    rows.sort_by_key(|r| (!r.active, -r.id));
    Ok(render(&WebhooksPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "webhooks",
        notice,
        error,
        hooks: rows,
        event_names: EventKind::NAMES,
        url: typed.0,
        picked: typed.1,
        secret,
    }))
}

/// The add form, empty.
fn blank() -> (String, Vec<String>) {
    (String::new(), Vec::new())
}

pub(super) async fn webhooks_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = webhooks_view(&state, &s, notice(&q), None, blank(), None).await;
    page(&headers, &s, r)
}

pub(super) async fn add_webhook(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let s = &f.session;
    submit_and_show(
        &f,
        (field(&f.form, "url"), fields(&f.form, "event")),
        async |(url, events)| {
            let body = webhooks::CreateWebhook {
                url: url.clone(),
                events: events.clone(),
            };
            let (url, events) = webhooks::checked_webhook(body)?;
            let secret = crate::auth::new_secret("whsec");
            state
                .store
                .create_webhook(&url, &secret, &events, crate::now())
                .await?;
            Ok::<_, ApiError>(secret)
        },
        // The page itself, not a redirect: the signing secret is shown only now.
        async |secret| {
            let added =
                "The webhook was added. Copy its signing secret now; it is not shown again.";
            webhooks_view(&state, s, Some(added.into()), None, blank(), Some(secret)).await
        },
        async |typed, e| webhooks_view(&state, s, None, Some(e.message), typed, None).await,
    )
    .await
}

pub(super) async fn delete_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let s = &f.session;
    submit(
        &f,
        (),
        "/admin/webhooks?done=webhook_stopped",
        async |()| {
            let id = crate::extract::parse_id(&id, "webhook")?;
            Ok::<_, ApiError>(state.store.deactivate_webhook(id, crate::now()).await?)
        },
        async |(), e| webhooks_view(&state, s, None, Some(e.message), blank(), None).await,
    )
    .await
}
