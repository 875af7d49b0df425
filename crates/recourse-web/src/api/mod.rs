//! Route table and OpenAPI document. Routes are registered through `utoipa_axum`, so a
//! route without an OpenAPI description cannot be added by accident.

pub(crate) mod canned;
pub(crate) mod customers;
pub(crate) mod escalations;
pub(crate) mod judge;
pub(crate) mod mail;
pub(crate) mod people;
pub(crate) mod practice;
pub(crate) mod recovery;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod surveys;
mod system;
pub(crate) mod tickets;
pub(crate) mod views;
pub(crate) mod webhooks;

use axum::Json;
use axum::http::StatusCode;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "Recourse", description = "The Recourse support desk API. Errors always look like `{\"error\": {\"code\": \"…\", \"message\": \"…\"}}`."),
    modifiers(&SecuritySchemes),
    tags(
        (name = "tickets", description = "Tickets, their conversation, interventions and history"),
        (name = "auth", description = "Signing in and out"),
        (name = "agents", description = "Agents and API tokens"),
        (name = "ladder", description = "The escalation ladder: rungs, escalations and handoffs, SLA policy and calendar, automatic rules, templates"),
        (name = "judge", description = "The demeanor judge and the reply coach"),
        (name = "email", description = "Mailboxes, received mail and its quarantine"),
        (name = "webhooks", description = "Signed event deliveries to other systems"),
        (name = "recovery", description = "When we can't help: explanations, reviews, transfers, referrals, agent protection, surveys, the recovery report"),
        (name = "system", description = "Health and metrics"),
        (name = "canned replies", description = "Saved answers with variables that agents insert into the reply composer"),
        (name = "practice", description = "The practice desk: made-up customers to rehearse replies on, scored by the coach"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Set by /api/v1/auth/login; writes also need the X-CSRF-Token header.",
            ))),
        );
    }
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tickets::create_ticket, tickets::list_tickets))
        .routes(routes!(tickets::get_ticket, tickets::patch_ticket))
        .routes(routes!(tickets::post_message))
        .routes(routes!(tickets::post_intervention))
        .routes(routes!(tickets::search))
        .routes(routes!(
            escalations::escalate,
            escalations::list_escalations
        ))
        .routes(routes!(escalations::escalation_draft))
        .routes(routes!(escalations::move_down))
        .routes(routes!(tickets::set_demeanor))
        .routes(routes!(settings::get_ladder, settings::put_ladder))
        .routes(routes!(settings::get_sla_policy, settings::put_sla_policy))
        .routes(routes!(settings::get_calendar, settings::put_calendar))
        .routes(routes!(settings::get_rules, settings::put_rules))
        .routes(routes!(settings::list_templates))
        .routes(routes!(settings::put_template, settings::reset_template))
        .routes(routes!(escalations::sweep))
        .routes(routes!(people::set_presence))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(webhooks::delete_webhook))
        .routes(routes!(webhooks::webhook_deliveries))
        .routes(routes!(recovery::cant_help, recovery::list_cant_help))
        .routes(routes!(recovery::review))
        .routes(routes!(recovery::review_queue))
        .routes(routes!(recovery::transfer))
        .routes(routes!(
            recovery::list_alternatives,
            recovery::create_alternative
        ))
        .routes(routes!(recovery::update_alternative))
        .routes(routes!(recovery::referral_suggestions))
        .routes(routes!(recovery::refer))
        .routes(routes!(recovery::inconsolable))
        .routes(routes!(recovery::reveal))
        .routes(routes!(recovery::hand_off))
        .routes(routes!(customers::get_customer))
        .routes(routes!(customers::set_supervision))
        .routes(routes!(surveys::get_survey, surveys::put_survey))
        .routes(routes!(reports::summary))
        .routes(routes!(
            canned::list_canned_replies,
            canned::create_canned_reply
        ))
        .routes(routes!(
            canned::update_canned_reply,
            canned::delete_canned_reply
        ))
        .routes(routes!(canned::render_canned_reply))
        .routes(routes!(practice::list_scenarios, practice::create_scenario))
        .routes(routes!(practice::get_scenario, practice::update_scenario))
        .routes(routes!(practice::attempt))
        .routes(routes!(practice::progress))
        .routes(routes!(practice::team))
        .routes(routes!(judge::read_demeanor))
        .routes(routes!(judge::coach))
        .routes(routes!(mail::list_mailboxes, mail::save_mailbox))
        .routes(routes!(mail::delete_mailbox))
        .routes(routes!(mail::list_inbound))
        .routes(routes!(mail::reprocess))
        .routes(routes!(mail::raw))
        .routes(routes!(people::login))
        .routes(routes!(people::logout))
        .routes(routes!(people::me))
        .routes(routes!(people::list_agents, people::create_agent))
        .routes(routes!(people::update_agent))
        .routes(routes!(people::list_teams, people::create_team))
        .routes(routes!(people::list_tokens, people::create_token))
        .routes(routes!(people::revoke_token))
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::metrics))
}

/// The OpenAPI 3.1 document for the API, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

pub fn router(state: AppState) -> axum::Router {
    let (router, doc) = routes().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    let max_body = state.config.max_body_bytes;
    let timeout = state.config.request_timeout;
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || async move { Json(doc.as_ref().clone()) }),
        )
        // The page behind survey links in customers' messages.
        .merge(crate::survey_page::routes())
        // The agent console: HTML pages and their htmx fragments, plus embedded assets.
        .merge(crate::ui::routes())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_route",
                "There is nothing at this address.",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This address does not take that method.",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::ratelimit::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        // Spans carry method and path only; headers (tokens, cookies) are never logged.
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
