//! API tokens: making one for an agent or a customer (shown once), and revoking one.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_domain::{Agent, EmailAddress};

use super::form::{Pairs, Query, admins_only, field, notice, page, submit, submit_and_show};
use crate::AppState;
use crate::api::{people, views};
use crate::error::ApiError;
use crate::ui::{PostForm, Session, render, when};

struct TokenRow {
    id: i64,
    name: String,
    holder: String,
    scope: String,
    created: String,
    revoked: Option<String>,
}

struct Holder {
    id: i64,
    label: String,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    tokens: Vec<TokenRow>,
    agents: Vec<Holder>,
    /// The add form as typed.
    name: String,
    holder_kind: String,
    agent_id: String,
    customer_email: String,
    scope: String,
    /// Shown once, right after the token was made.
    secret: Option<String>,
}

impl TokensPage<'_> {
    fn is_agent(&self, id: &i64) -> bool {
        self.agent_id == id.to_string()
    }
}

#[derive(Default)]
struct TokenForm {
    name: String,
    holder_kind: String,
    agent_id: String,
    customer_email: String,
    scope: String,
}

async fn tokens_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    typed: TokenForm,
    secret: Option<String>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let tokens: Vec<views::TokenView> = state
        .store
        .list_api_tokens()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let agents: Vec<views::AgentView> = state
        .store
        .list_agents()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let agent_label: HashMap<i64, String> = agents
        .iter()
        .map(|a| (a.id, format!("{} <{}>", a.name, a.email)))
        .collect();
    let mut customers: HashMap<i64, String> = HashMap::new();
    let mut rows = Vec::with_capacity(tokens.len());
    for t in tokens {
        let holder = if t.principal_kind == "agent" {
            format!(
                "agent {}",
                agent_label
                    .get(&t.principal_id)
                    .cloned()
                    .unwrap_or_default()
            )
        } else {
            if let std::collections::hash_map::Entry::Vacant(slot) = customers.entry(t.principal_id)
            {
                let c = state
                    .store
                    .get_customer(recourse_domain::CustomerId(t.principal_id))
                    .await?;
                slot.insert(c.email.into_inner());
            }
            format!("customer {}", customers[&t.principal_id])
        };
        rows.push(TokenRow {
            id: t.id,
            name: t.name,
            holder,
            scope: t.scope,
            created: when(&t.created_at),
            revoked: t.revoked_at.as_deref().map(when),
        });
    }
    Ok(render(&TokensPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "tokens",
        notice,
        error,
        tokens: rows,
        agents: agents
            .into_iter()
            .filter(|a| a.active)
            .map(|a| Holder {
                id: a.id,
                label: format!("{} <{}>", a.name, a.email),
            })
            .collect(),
        name: typed.name,
        holder_kind: if typed.holder_kind.is_empty() {
            "agent".into()
        } else {
            typed.holder_kind
        },
        agent_id: if typed.agent_id.is_empty() {
            s.agent.id.0.to_string()
        } else {
            typed.agent_id
        },
        customer_email: typed.customer_email,
        scope: if typed.scope.is_empty() {
            "read".into()
        } else {
            typed.scope
        },
        secret,
    }))
}

pub(super) async fn tokens_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = tokens_view(&state, &s, notice(&q), None, TokenForm::default(), None).await;
    page(&headers, &s, r)
}

pub(super) async fn add_token(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = TokenForm {
        name: field(&f.form, "name"),
        holder_kind: field(&f.form, "holder_kind"),
        agent_id: field(&f.form, "agent_id"),
        customer_email: field(&f.form, "customer_email"),
        scope: field(&f.form, "scope"),
    };
    let s = &f.session;
    submit_and_show(
        &f,
        typed,
        async |typed| {
            let (agent_id, customer_id) = if typed.holder_kind == "customer" {
                let email = EmailAddress::parse(&typed.customer_email)?;
                let c = state
                    .store
                    .customer_by_email(&email)
                    .await?
                    .ok_or_else(|| {
                        ApiError::unprocessable(
                            "unknown_customer",
                            "No customer has that email address yet.",
                        )
                    })?;
                (None, Some(c.id.0))
            } else {
                (
                    Some(crate::extract::parse_id(&typed.agent_id, "agent")?),
                    None,
                )
            };
            let body = views::CreateToken {
                name: typed.name.clone(),
                scope: Some(typed.scope.clone()),
                agent_id,
                customer_id,
            };
            let (token, secret) = people::new_api_token(&state, &s.caller(), body).await?;
            let token = state.store.create_api_token(token).await?;
            Ok::<_, ApiError>((token.name, secret))
        },
        // The page itself, not a redirect: the token is shown only now.
        async |(name, secret)| {
            let made = format!(
                "The token “{}” was made. Copy it now; it is not shown again.",
                name
            );
            tokens_view(
                &state,
                s,
                Some(made),
                None,
                TokenForm::default(),
                Some(secret),
            )
            .await
        },
        async |typed, e| tokens_view(&state, s, None, Some(e.message), typed, None).await,
    )
    .await
}

pub(super) async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    let s = &f.session;
    submit(
        &f,
        (),
        "/admin/tokens?done=token_revoked",
        async |()| {
            let id = crate::extract::parse_id(&id, "token")?;
            Ok::<_, ApiError>(state.store.revoke_api_token(id, crate::now()).await?)
        },
        async |(), e| {
            tokens_view(&state, s, None, Some(e.message), TokenForm::default(), None).await
        },
    )
    .await
}
