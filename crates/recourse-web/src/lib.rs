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
use recourse_desk::Store;

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
    /// A request not answered within this (a slow handler, or a body that stalls) gets 408.
    pub request_timeout: Duration,
    /// A connection that has not sent a whole request head within this is closed, idle
    /// keep-alive connections included: a client cannot hold a connection by dribbling.
    pub header_read_timeout: Duration,
    /// Larger request heads (request line and headers) are answered 431.
    pub max_header_bytes: usize,
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: usize,
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
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            max_connections: 4096,
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
    pub store: Arc<Store>,
    /// The use cases; every change to a ticket goes through it.
    pub desk: recourse_desk::Desk,
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
    pub fn new(store: Arc<Store>, config: WebConfig) -> Self {
        let login_limiter = Arc::new(auth::LoginLimiter::new(
            config.login_max_failures,
            config.login_window,
        ));
        AppState {
            desk: recourse_desk::Desk::new(store.clone()),
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

/// The whole application as one router, ready for [`serve`].
pub fn app(state: AppState) -> Router {
    api::router(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains open requests.
///
/// Our own accept loop rather than `axum::serve`, which sets no header-read timeout:
/// here a client that dribbles its request head is cut off after
/// [`WebConfig::header_read_timeout`], heads over [`WebConfig::max_header_bytes`] get
/// 431, and at most [`WebConfig::max_connections`] connections are served at once. A
/// body that stalls is cut off by the router's request timeout (408).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let config = state.config.clone();
    let router = app(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_header_size(config.max_header_bytes)
        .keep_alive(true);
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before we took it:
                    // not fatal for the listener; pause briefly so EMFILE does not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(remote));
                req
            },
        );
        let conn = graceful.watch(http.serve_connection(
            TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(service),
        ));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
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
