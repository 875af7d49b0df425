//! The HTTP surface of Recourse: the REST API under `/api/v1` (documented by the
//! OpenAPI document it serves), health and metrics endpoints, auth and sessions.
//! Handlers stay thin: they parse input into domain types, ask the store, and shape
//! the answer; rules live in `recourse-domain`.

mod api;
pub mod auth;
pub mod error;
mod extract;
mod metrics;
pub mod ratelimit;
mod survey_page;
mod ui;
pub mod workers;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use recourse_store::Store;

pub use api::openapi;
pub use metrics::Metrics;

/// Settings the web layer needs; the CLI fills them from flags and `RECOURSE_*`.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    pub login_max_failures: u32,
    pub login_window: Duration,
    pub request_timeout: Duration,
    /// Where customers reach this desk, for links in messages (survey links).
    pub public_url: String,
    /// Requests per API token or session.
    pub rate_per_credential: ratelimit::Rate,
    /// Requests per client address for everything sent without a credential (sign-in,
    /// survey links, health checks).
    pub rate_per_address: ratelimit::Rate,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_body_bytes: 1024 * 1024,
            secure_cookies: false,
            session_ttl: Duration::from_secs(12 * 3600),
            login_max_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(30),
            public_url: "http://127.0.0.1:8080".into(),
            // Generous enough for integrations and load tests; tight for strangers.
            rate_per_credential: ratelimit::Rate {
                per_second: 2000.0,
                burst: 4000.0,
            },
            rate_per_address: ratelimit::Rate {
                per_second: 20.0,
                burst: 60.0,
            },
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<WebConfig>,
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Counts requests for portal sign-in links, per address and per email.
    pub portal_limiter: Arc<auth::LoginLimiter>,
    pub metrics: Arc<Metrics>,
    pub rate_limiter: Arc<ratelimit::RateLimiter>,
    /// Who has which ticket open in the console, for the collision notice (per node).
    pub(crate) presence: Arc<ui::Presence>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: WebConfig) -> Self {
        let login_limiter = Arc::new(auth::LoginLimiter::new(
            config.login_max_failures,
            config.login_window,
        ));
        AppState {
            store,
            portal_limiter: Arc::new(auth::LoginLimiter::new(
                config.login_max_failures,
                config.login_window,
            )),
            config: Arc::new(config),
            login_limiter,
            metrics: Arc::new(Metrics::default()),
            rate_limiter: Arc::default(),
            presence: Arc::default(),
        }
    }
}

/// The whole application as one router, ready for `axum::serve`.
pub fn app(state: AppState) -> Router {
    api::router(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains open requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The wall clock as the domain counts time; the one place the desk reads it.
pub fn now() -> recourse_domain::Millis {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    recourse_domain::Millis(ms)
}

pub(crate) fn rfc3339(m: recourse_domain::Millis) -> String {
    jiff::Timestamp::from_millisecond(m.0)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
