//! Rate limits on the service itself: a token bucket per credential (bearer token or
//! session) and, for requests without one, per client address. Over the limit the
//! answer is 429 with `Retry-After`. Buckets live in memory, so each node limits on its
//! own; behind a load balancer the effective limit is per node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

/// Requests per second and burst for one key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Beyond this many keys, buckets that have refilled completely are forgotten.
const MAX_KEYS: usize = 100_000;

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimiter {
    /// Takes one token for `key`; `Err(seconds)` says how long until one is free.
    pub fn take(&self, key: &str, rate: Rate, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > MAX_KEYS {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * rate.per_second < rate.burst
            });
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: rate.burst,
            at: now,
        });
        let refill = now.duration_since(b.at).as_secs_f64() * rate.per_second;
        b.tokens = (b.tokens + refill).min(rate.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate.per_second).ceil().max(1.0) as u64)
        }
    }
}

/// The key a request is counted under: its credential (hashed, never logged), else
/// the address it came from.
fn key(req: &Request) -> (String, bool) {
    let headers = req.headers();
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return (format!("t:{}", &crate::auth::sha256_hex(token)[..32]), true);
    }
    if let Some(session) = crate::auth::session_cookie(headers) {
        return (
            format!("s:{}", &crate::auth::sha256_hex(&session)[..32]),
            true,
        );
    }
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    (format!("ip:{ip}"), false)
}

pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (key, signed) = key(&req);
    let rate = if signed {
        state.config.rate_per_credential
    } else {
        state.config.rate_per_address
    };
    if let Err(wait) = state.rate_limiter.take(&key, rate, Instant::now()) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests; slow down and try again shortly.",
        );
        e.retry_after_secs = Some(wait);
        return e.into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn buckets_refill_at_their_rate() {
        let l = RateLimiter::default();
        let rate = Rate {
            per_second: 2.0,
            burst: 3.0,
        };
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take("k", rate, t0), Ok(()));
        }
        assert_eq!(l.take("k", rate, t0), Err(1));
        assert_eq!(l.take("other", rate, t0), Ok(()), "keys are separate");
        assert_eq!(l.take("k", rate, t0 + Duration::from_millis(500)), Ok(()));
        assert!(l.take("k", rate, t0 + Duration::from_millis(500)).is_err());
    }
}
