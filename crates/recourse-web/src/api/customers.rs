//! Customers over HTTP: what the desk knows of one, and supervision (new tickets start
//! with a manager).

use axum::Json;
use axum::extract::{Path, State};
use recourse_domain::{CustomerId, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, parse_id};
use crate::{AppState, now, rfc3339};

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub organization_id: Option<i64>,
    /// New tickets start with a manager.
    pub supervised: bool,
    /// Messages of theirs that read as abusive.
    pub abusive_messages: i64,
    pub created_at: String,
}

async fn customer_view(
    state: &AppState,
    c: recourse_domain::Customer,
) -> Result<CustomerView, ApiError> {
    Ok(CustomerView {
        abusive_messages: state.store.abuse_count(c.id).await?,
        id: c.id.0,
        email: c.email.into_inner(),
        name: c.name,
        organization_id: c.organization_id.map(|o| o.0),
        supervised: c.supervised,
        created_at: rfc3339(c.created_at),
    })
}

#[utoipa::path(
    get, path = "/api/v1/customers/{id}", tag = "recovery",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CustomerView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CustomerView>, ApiError> {
    caller.require_agent()?;
    let c = state
        .store
        .get_customer(CustomerId(parse_id(&id, "customer")?))
        .await?;
    Ok(Json(customer_view(&state, c).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisionBody {
    pub supervised: bool,
}

#[utoipa::path(
    put, path = "/api/v1/customers/{id}/supervision", tag = "recovery",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = SupervisionBody,
    responses((status = 200, body = CustomerView), (status = 403, description = "Managers only", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn set_supervision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SupervisionBody>,
) -> Result<Json<CustomerView>, ApiError> {
    caller.require_role(Role::Manager)?;
    let c = state
        .desk
        .set_supervised(
            CustomerId(parse_id(&id, "customer")?),
            body.supervised,
            caller.actor(),
            now(),
        )
        .await?;
    Ok(Json(customer_view(&state, c).await?))
}
