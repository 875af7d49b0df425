//! Who is calling: agents by session cookie or bearer token, customers by token.
//! Passwords are argon2id; tokens and session ids are stored only as SHA-256 hashes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use rand::RngCore;
use recourse_desk::Principal;
use recourse_domain::{Agent, Customer, Role};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "recourse_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Hashes a password with argon2id and a fresh salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| internal("salt"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| internal("password hashing"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn internal(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("{what} failed"),
    )
}

/// A random secret, URL-safe, with a prefix that says what it is (so a leaked one is
/// easy to recognise in a scan).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

pub fn sha256_hex(s: impl AsRef<[u8]>) -> String {
    Sha256::digest(s.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session,
    Token { scope: String },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    Agent { agent: Agent, via: Via },
    Customer { customer: Customer, via: Via },
}

impl Caller {
    pub fn agent(&self) -> Option<&Agent> {
        match self {
            Caller::Agent { agent, .. } => Some(agent),
            Caller::Customer { .. } => None,
        }
    }

    pub fn actor(&self) -> recourse_domain::Actor {
        match self {
            Caller::Agent { agent, .. } => recourse_domain::Actor::Agent(agent.id),
            Caller::Customer { customer, .. } => recourse_domain::Actor::Customer(customer.id),
        }
    }

    /// Where this caller's messages come from: a signed-in person uses the console
    /// or the portal; a token is an integration.
    pub fn channel(&self) -> recourse_domain::Channel {
        use recourse_domain::Channel;
        match self {
            Caller::Agent {
                via: Via::Session, ..
            } => Channel::Console,
            Caller::Customer {
                via: Via::Session, ..
            } => Channel::Portal,
            Caller::Agent { .. } | Caller::Customer { .. } => Channel::Api,
        }
    }

    /// The customer a caller is limited to, if the caller is a customer.
    pub fn customer_id(&self) -> Option<recourse_domain::CustomerId> {
        match self {
            Caller::Customer { customer, .. } => Some(customer.id),
            Caller::Agent { .. } => None,
        }
    }

    /// Any agent of the desk; customers get 403.
    pub fn require_agent(&self) -> Result<&Agent, ApiError> {
        self.agent()
            .ok_or_else(|| ApiError::forbidden("Only agents may do this."))
    }

    pub fn require_role(&self, role: Role) -> Result<&Agent, ApiError> {
        let agent = self.require_agent()?;
        if agent.role.at_least(role) {
            Ok(agent)
        } else {
            Err(ApiError::forbidden(format!("This needs the {role} role.")))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let writes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_authorization",
                        "Use `Authorization: Bearer <token>`.",
                    )
                })?;
            let found = state.store.api_token_by_hash(&sha256_hex(token)).await?;
            let token = match found {
                Some(t) if t.revoked_at.is_none() => t,
                _ => {
                    return Err(ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_token",
                        "That API token is not valid (unknown or revoked).",
                    ));
                }
            };
            if writes && token.scope == "read" {
                return Err(ApiError::forbidden("This token may only read."));
            }
            return load(state, token.principal, Via::Token { scope: token.scope }).await;
        }

        let Some(cookie) = session_cookie(&parts.headers) else {
            return Err(ApiError::unauthenticated());
        };
        let session = state
            .store
            .session_by_hash(&sha256_hex(&cookie), crate::now())
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "session_expired",
                    "Your session has ended; please sign in again.",
                )
            })?;
        if writes {
            // Cookies ride along on cross-site requests; the CSRF token does not.
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !constant_time_eq(sent, session.csrf_token.as_bytes()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "This request is missing its CSRF token; reload the page and try again.",
                ));
            }
        }
        load(state, session.principal, Via::Session).await
    }
}

async fn load(state: &AppState, principal: Principal, via: Via) -> Result<Caller, ApiError> {
    match principal {
        Principal::Agent(id) => {
            let agent = state
                .store
                .get_agent(id)
                .await
                .map_err(|_| ApiError::unauthenticated())?;
            if !agent.active {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "account_disabled",
                    "This account has been switched off.",
                ));
            }
            Ok(Caller::Agent { agent, via })
        }
        Principal::Customer(id) => {
            let customer = state
                .store
                .get_customer(id)
                .await
                .map_err(|_| ApiError::unauthenticated())?;
            Ok(Caller::Customer { customer, via })
        }
    }
}

/// The session secret from the `Cookie` header, if one was sent.
pub(crate) fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `name` from the `Cookie` headers, if one was sent.
pub(crate) fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Counts failed sign-ins per client address and per account, so neither guessing
/// many passwords for one account nor one address trying many accounts gets far.
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    pub max_failures: u32,
    pub window: Duration,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
            max_failures,
            window,
        }
    }

    fn keys(ip: Option<IpAddr>, email: &str) -> [String; 2] {
        [
            format!("ip:{}", ip.map(|i| i.to_string()).unwrap_or_default()),
            format!("email:{}", email.to_lowercase()),
        ]
    }

    /// `Err(seconds to wait)` when either key is over its limit.
    pub fn check(&self, ip: Option<IpAddr>, email: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, since)| now.duration_since(*since) < self.window);
        for key in Self::keys(ip, email) {
            if let Some((count, since)) = map.get(&key)
                && *count >= self.max_failures
            {
                return Err(self
                    .window
                    .saturating_sub(now.duration_since(*since))
                    .as_secs()
                    .max(1));
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, ip: Option<IpAddr>, email: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in Self::keys(ip, email) {
            map.entry(key).or_insert((0, now)).0 += 1;
        }
    }

    pub fn record_success(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&format!("email:{}", email.to_lowercase()));
    }
}

/// A valid argon2id hash of a random string, verified against when the email is
/// unknown so that a wrong email takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_secret("dummy")).unwrap_or_default())
}
