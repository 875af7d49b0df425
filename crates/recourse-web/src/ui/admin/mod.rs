//! The admin's screens: agents and teams, the ladder and the automatic rules, the SLA
//! policy and calendar, mailboxes, the referral directory, practice scenarios, templates,
//! webhooks and API tokens, one file each. Like the rest of the console, every page calls the API's
//! handlers with the signed-in agent as the caller, so the admin check and the validation
//! live there; these pages only add an early "admins only" so others get one clear 403
//! page.
//!
//! Forms are plain HTML posts (no script needed, so they work from the keyboard and on
//! any browser). A refused change draws the page again with the domain's message next
//! to the form and the values as typed, with status 422; nothing is half-saved. The
//! shape every screen's post shares (admin check, change, redirect or the form again)
//! is in [`form`].

mod agents;
mod form;
mod home;
mod ladder;
mod mailboxes;
mod practice;
mod referrals;
mod sla;
mod templates;
mod tokens;
mod webhooks;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home::home))
        .route(
            "/admin/agents",
            get(agents::agents_page).post(agents::add_agent),
        )
        .route("/admin/agents/{id}", post(agents::change_agent))
        .route("/admin/teams", post(agents::add_team))
        .route(
            "/admin/ladder",
            get(ladder::ladder_page).post(ladder::save_ladder),
        )
        .route("/admin/rules", post(ladder::save_rules))
        .route("/admin/sla", get(sla::sla_page))
        .route("/admin/sla/policy", post(sla::save_policy))
        .route("/admin/sla/calendar", post(sla::save_calendar))
        .route(
            "/admin/mailboxes",
            get(mailboxes::mailboxes_page).post(mailboxes::add_mailbox),
        )
        .route(
            "/admin/mailboxes/{id}/delete",
            post(mailboxes::delete_mailbox),
        )
        .route(
            "/admin/referrals",
            get(referrals::referrals_page).post(referrals::add_alternative),
        )
        .route("/admin/referrals/{id}", post(referrals::save_alternative))
        .route(
            "/admin/practice",
            get(practice::practice_page).post(practice::add_scenario),
        )
        .route("/admin/practice/{id}", post(practice::save_scenario))
        .route("/admin/templates", get(templates::templates_page))
        .route("/admin/templates/{key}", post(templates::save_template))
        .route(
            "/admin/webhooks",
            get(webhooks::webhooks_page).post(webhooks::add_webhook),
        )
        .route(
            "/admin/webhooks/{id}/delete",
            post(webhooks::delete_webhook),
        )
        .route(
            "/admin/tokens",
            get(tokens::tokens_page).post(tokens::add_token),
        )
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke_token))
}
