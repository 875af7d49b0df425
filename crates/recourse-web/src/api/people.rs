//! Signing in and out, who am I, agents and API tokens.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use recourse_desk::{AgentChange, NewAgent, NewApiToken, NewSession, Principal};
use recourse_domain::{AgentId, EmailAddress, PersonName, Role, Tag, TeamId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::views::*;
use crate::auth::{self, Caller, Via};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ClientIp, parse_id};
use crate::{AppState, now};

const MIN_PASSWORD_CHARS: usize = 12;

#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = LoginResult),
        (status = 401, body = ErrorBody), (status = 429, description = "Too many failed attempts", body = ErrorBody)
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let (agent, csrf_token, cookie) = sign_in(&state, ip, &body).await?;
    let mut resp = Json(LoginResult {
        agent: agent.into(),
        csrf_token,
    })
    .into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie)
            .map_err(|_| ApiError::bad_request("invalid_cookie", "cookie"))?,
    );
    Ok(resp)
}

/// Checks an agent's email and password (rate-limited per address and client) and
/// opens a session: the agent, the session's CSRF token and its `Set-Cookie` value.
pub(crate) async fn sign_in(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    body: &Login,
) -> Result<(recourse_domain::Agent, String, String), ApiError> {
    if let Err(wait) = state.login_limiter.check(ip, &body.email) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many failed sign-ins. Wait a little and try again.",
        );
        e.retry_after_secs = Some(wait);
        return Err(e);
    }
    let found = match EmailAddress::parse(&body.email) {
        Ok(email) => state.store.agent_credentials(&email).await?,
        Err(_) => None,
    };
    // The same answer, and the same argon2 work, whether or not the email is known.
    let agent = match found {
        Some((agent, hash)) if auth::verify_password(&body.password, &hash) && agent.active => {
            Some(agent)
        }
        Some(_) => None,
        None => {
            auth::verify_password(&body.password, auth::dummy_hash());
            None
        }
    };
    let Some(agent) = agent else {
        state.login_limiter.record_failure(ip, &body.email);
        state.metrics.logins_failed.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "That email and password do not match an account.",
        ));
    };
    state.login_limiter.record_success(&body.email);

    // A fresh id on every sign-in: a session id planted before login is worth nothing.
    let secret = auth::new_secret("rs");
    let csrf_token = auth::new_secret("csrf");
    let now = now();
    let ttl = state.config.session_ttl;
    state
        .store
        .create_session(NewSession {
            id_hash: auth::sha256_hex(&secret),
            principal: Principal::Agent(agent.id),
            csrf_token: csrf_token.clone(),
            now,
            expires_at: recourse_domain::Millis(now.0 + ttl.as_millis() as i64),
        })
        .await?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        auth::SESSION_COOKIE,
        ttl.as_secs()
    );
    Ok((agent, csrf_token, cookie))
}

#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let clear = sign_out(&state, &caller, &headers).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear)
            .map_err(|_| ApiError::bad_request("invalid_cookie", "cookie"))?,
    );
    Ok(resp)
}

/// Ends an agent's session; the `Set-Cookie` value that clears it.
pub(crate) async fn sign_out(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    if caller.agent().is_some()
        && let Some(secret) = auth::session_cookie(headers)
    {
        state
            .store
            .delete_session(&auth::sha256_hex(&secret))
            .await?;
    }
    Ok(format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        auth::SESSION_COOKIE
    ))
}

#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(match caller {
        Caller::Agent { agent, .. } => Me {
            kind: "agent".into(),
            id: agent.id.0,
            email: agent.email.into_inner(),
            name: Some(agent.name),
            role: Some(agent.role),
        },
        Caller::Customer { customer, .. } => Me {
            kind: "customer".into(),
            id: customer.id.0,
            email: customer.email.into_inner(),
            name: customer.name,
            role: None,
        },
    })
}

#[utoipa::path(
    get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = Vec<AgentView>), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_agents(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    caller.require_agent()?;
    Ok(Json(
        state
            .store
            .list_agents()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/agents", tag = "agents",
    request_body = CreateAgent,
    responses((status = 201, body = AgentView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn create_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateAgent>,
) -> Result<(StatusCode, Json<AgentView>), ApiError> {
    caller.require_role(Role::Admin)?;
    let agent = state.store.create_agent(new_agent(body)?).await?;
    Ok((StatusCode::CREATED, Json(agent.into())))
}

/// A new agent as the store takes it: a strong enough password (hashed), a sane capacity.
pub(crate) fn new_agent(body: CreateAgent) -> Result<NewAgent, ApiError> {
    if body.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::unprocessable(
            "weak_password",
            format!("Passwords need at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    let capacity = body.capacity.unwrap_or(20);
    if !(1..=500).contains(&capacity) {
        return Err(ApiError::unprocessable(
            "invalid_capacity",
            "Capacity is between 1 and 500 tickets.",
        ));
    }
    Ok(NewAgent {
        email: EmailAddress::parse(&body.email)?,
        name: PersonName::parse(&body.name)?,
        role: body.role,
        experience: body.experience,
        skills: Tag::parse_all(&body.skills)?,
        team_id: body.team_id.map(TeamId),
        capacity,
        password_hash: auth::hash_password(&body.password)?,
        now: now(),
    })
}

#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "agents",
    request_body = CreateToken,
    responses((status = 201, description = "The token, shown once", body = TokenCreated), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []), ("bearer" = []))
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let (new, secret) = new_api_token(&state, &caller, body).await?;
    let token = state.store.create_api_token(new).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            id: token.id,
            name: token.name,
            scope: token.scope,
            token: secret,
        }),
    ))
}

/// A new API token as the store takes it, with its secret (shown once): the caller's
/// own, or (admins only) an agent's or a customer's.
pub(crate) async fn new_api_token(
    state: &AppState,
    caller: &Caller,
    body: CreateToken,
) -> Result<(NewApiToken, String), ApiError> {
    let agent = caller.require_agent()?;
    if let Caller::Agent {
        via: Via::Token { scope },
        ..
    } = caller
        && scope != "full"
    {
        return Err(ApiError::forbidden(
            "A limited token cannot make new tokens.",
        ));
    }
    let name = PersonName::parse(&body.name)
        .map_err(|_| ApiError::unprocessable("invalid_name", "Give the token a one-line name."))?;
    let scope = body.scope.unwrap_or_else(|| "full".into());
    if scope != "full" && scope != "read" {
        return Err(ApiError::unprocessable(
            "invalid_scope",
            "`scope` is `full` or `read`.",
        ));
    }
    // Tokens for someone else (an agent's integration, a customer's) are an admin's job.
    let principal = match (body.agent_id, body.customer_id) {
        (None, None) => Principal::Agent(agent.id),
        (Some(_), Some(_)) => {
            return Err(ApiError::unprocessable(
                "one_holder",
                "A token belongs to one agent or one customer, not both.",
            ));
        }
        (Some(id), None) => {
            caller.require_role(Role::Admin)?;
            let holder = state
                .store
                .get_agent(recourse_domain::AgentId(id))
                .await
                .map_err(|_| {
                    ApiError::unprocessable("unknown_agent", "There is no agent with that id.")
                })?;
            if !holder.active {
                return Err(ApiError::unprocessable(
                    "agent_inactive",
                    "That agent's account is switched off; switch it on first.",
                ));
            }
            Principal::Agent(holder.id)
        }
        (None, Some(id)) => {
            caller.require_role(Role::Admin)?;
            let holder = state
                .store
                .get_customer(recourse_domain::CustomerId(id))
                .await
                .map_err(|_| {
                    ApiError::unprocessable(
                        "unknown_customer",
                        "There is no customer with that id.",
                    )
                })?;
            Principal::Customer(holder.id)
        }
    };
    let secret = auth::new_secret("rct");
    let token = NewApiToken {
        principal,
        name: name.into_inner(),
        token_hash: auth::sha256_hex(&secret),
        scope,
        now: now(),
    };
    Ok((token, secret))
}

#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "agents",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("bearer" = []))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    // Admins may revoke anyone's token; tokens are otherwise revoked by the CLI.
    caller.require_role(Role::Admin)?;
    state
        .store
        .revoke_api_token(parse_id(&id, "token")?, now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "agents",
    responses((status = 200, description = "Newest first; secrets are never shown again", body = [TokenView]), (status = 403, body = ErrorBody)),
    security(("session" = []), ("bearer" = []))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    caller.require_role(Role::Admin)?;
    Ok(Json(
        state
            .store
            .list_api_tokens()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/agents/{id}", tag = "agents",
    params(("id" = i64, Path, description = "Agent id")),
    request_body = UpdateAgent,
    responses((status = 200, body = AgentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn update_agent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateAgent>,
) -> Result<Json<AgentView>, ApiError> {
    let me = caller.require_role(Role::Admin)?;
    let id = recourse_domain::AgentId(parse_id(&id, "agent")?);
    let password_hash = checked_agent_update(&state, me.id, id, &body).await?;
    let now = now();
    if body.active == Some(false) {
        // Going away first hands their open tickets to colleagues on the same rung.
        state
            .desk
            .set_presence(id, false, caller.actor(), now)
            .await?;
    }
    let agent = state
        .store
        .update_agent(id, agent_change(&body), caller.actor(), now)
        .await?;
    if let Some(hash) = password_hash {
        state.store.set_agent_password(id, &hash).await?;
    }
    Ok(Json(agent.into()))
}

/// Checks an admin's edit of an agent; the new password's hash, if one is set.
pub(crate) async fn checked_agent_update(
    state: &AppState,
    me: AgentId,
    id: AgentId,
    body: &UpdateAgent,
) -> Result<Option<String>, ApiError> {
    // An admin cannot lock themselves out; another admin has to do it.
    if id == me && (body.active == Some(false) || body.role.is_some_and(|r| r != Role::Admin)) {
        return Err(ApiError::unprocessable(
            "not_yourself",
            "You cannot switch off your own account or give up your own admin role.",
        ));
    }
    let password_hash = match &body.password {
        Some(p) if p.chars().count() < MIN_PASSWORD_CHARS => {
            return Err(ApiError::unprocessable(
                "weak_password",
                format!("Passwords need at least {MIN_PASSWORD_CHARS} characters."),
            ));
        }
        Some(p) => Some(auth::hash_password(p)?),
        None => None,
    };
    if let Some(c) = body.capacity
        && !(1..=500).contains(&c)
    {
        return Err(ApiError::unprocessable(
            "invalid_capacity",
            "Capacity is between 1 and 500 tickets.",
        ));
    }
    if let Some(Some(team)) = body.team_id
        && !state
            .store
            .list_teams()
            .await?
            .iter()
            .any(|t| t.id.0 == team)
    {
        return Err(ApiError::unprocessable(
            "unknown_team",
            "There is no team with that id.",
        ));
    }
    Ok(password_hash)
}

/// The agent's row changes an edit asks for.
pub(crate) fn agent_change(body: &UpdateAgent) -> AgentChange {
    AgentChange {
        role: body.role,
        experience: body.experience,
        team_id: body.team_id.map(|t| t.map(TeamId)),
        capacity: body.capacity,
        active: body.active,
    }
}

#[utoipa::path(
    get, path = "/api/v1/teams", tag = "agents",
    responses((status = 200, body = [TeamView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list_teams(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TeamView>>, ApiError> {
    caller.require_agent()?;
    Ok(Json(
        state
            .store
            .list_teams()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/teams", tag = "agents",
    request_body = CreateTeam,
    responses((status = 201, body = TeamView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTeam>,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    caller.require_role(Role::Admin)?;
    let t = state.store.create_team(team_name(&body)?).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// A new team's name: one line, at most 100 characters.
pub(crate) fn team_name(body: &CreateTeam) -> Result<&str, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid_name",
            "A team needs a one-line name of at most 100 characters.",
        ));
    }
    Ok(name)
}

// ---------- presence ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    /// `false` marks the agent away: no new work, and their active tickets are handed on.
    pub present: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceResult {
    pub agent: AgentView,
    /// Tickets handed on because the agent went away.
    pub reassigned: Vec<i64>,
}

#[utoipa::path(
    put, path = "/api/v1/agents/{id}/presence", tag = "agents",
    params(("id" = i64, Path, description = "Agent id")),
    request_body = PresenceBody,
    responses((status = 200, body = PresenceResult), (status = 403, description = "Yourself, or a manager for anyone", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn set_presence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PresenceBody>,
) -> Result<Json<PresenceResult>, ApiError> {
    let me = caller.require_agent()?;
    let id = AgentId(parse_id(&id, "agent")?);
    if id != me.id && !me.role.at_least(Role::Manager) {
        return Err(ApiError::forbidden(
            "Agents set their own presence; a manager may set anyone's.",
        ));
    }
    let (agent, moved) = state
        .desk
        .set_presence(id, body.present, caller.actor(), now())
        .await?;
    Ok(Json(PresenceResult {
        agent: agent.into(),
        reassigned: moved.into_iter().map(|t| t.0).collect(),
    }))
}
