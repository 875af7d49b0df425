//! The satisfaction survey over HTTP: the invitation when a ticket ends, and the
//! survey behind the link (read and answer).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use recourse_desk::config::{keys, template_from};
use recourse_domain::Ticket;
use recourse_domain::recovery::{SurveyAnswer, survey_editable_until, survey_wanted};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{new_secret, sha256_hex};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::{AppState, now, rfc3339};

/// Sends the satisfaction survey when a ticket has ended in a way that asks for one
/// (resolved, explained, referred). The link's token is the only credential and is
/// stored hashed; the invitation goes into the conversation.
pub(crate) async fn invite_to_survey(state: &AppState, ticket: &Ticket) -> Result<(), ApiError> {
    if !survey_wanted(ticket.outcome) {
        return Ok(());
    }
    let token = new_secret("srv");
    let key = "survey_invite";
    let stored = state
        .store
        .setting(&format!("{}{key}", keys::TEMPLATE_PREFIX))
        .await?;
    let template = template_from(key, stored.as_deref())?;
    let customer = state.store.get_customer(ticket.customer_id).await?;
    let link = format!(
        "{}/survey/{token}",
        state.config.public_url.trim_end_matches('/')
    );
    let text = template.render(|var| match var {
        "customer_name" => customer.name.clone().unwrap_or_else(|| "there".into()),
        "ticket_number" => ticket.number.to_string(),
        "subject" => ticket.subject.clone(),
        "survey_link" => link.clone(),
        _ => String::new(),
    });
    state
        .desk
        .open_survey(ticket.id, &sha256_hex(&token), &text, now())
        .await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyView {
    pub ticket_number: i64,
    pub subject: String,
    pub answered: bool,
    /// Until when the answer may still be changed (a week after first answering).
    pub editable_until: Option<String>,
    pub product: Option<u8>,
    pub pleasantness: Option<u8>,
    pub competence: Option<u8>,
    pub recommend: Option<u8>,
    pub comment: Option<String>,
}

fn survey_view(s: recourse_desk::Survey) -> SurveyView {
    SurveyView {
        ticket_number: s.ticket_number,
        subject: s.subject,
        answered: s.answered_at.is_some(),
        editable_until: s.answered_at.map(|a| rfc3339(survey_editable_until(a))),
        product: s.answer.map(|a| a.product),
        pleasantness: s.answer.map(|a| a.pleasantness),
        competence: s.answer.map(|a| a.competence),
        recommend: s.answer.map(|a| a.recommend),
        comment: s.comment,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyBody {
    /// The product itself, 1–5.
    pub product: i64,
    /// How pleasant we were to deal with, 1–5.
    pub pleasantness: i64,
    /// How well we knew what we were doing, 1–5.
    pub competence: i64,
    /// Would you recommend us, 0–10.
    pub recommend: i64,
    pub comment: Option<String>,
}

/// The survey behind a link, for the HTML page (`None`: no such survey).
pub(crate) async fn survey_for_page(state: &AppState, token: &str) -> Option<SurveyView> {
    survey_for(state, token).await.ok().map(survey_view)
}

async fn survey_for(state: &AppState, token: &str) -> Result<recourse_desk::Survey, ApiError> {
    // The link's token is the credential; an unknown one looks like any missing survey.
    state
        .store
        .survey_by_token(&sha256_hex(token))
        .await?
        .ok_or_else(|| ApiError::not_found("survey"))
}

#[utoipa::path(
    get, path = "/api/v1/surveys/{token}", tag = "recovery",
    params(("token" = String, Path, description = "The token from the survey link")),
    responses((status = 200, body = SurveyView), (status = 404, body = ErrorBody))
)]
pub async fn get_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<SurveyView>, ApiError> {
    Ok(Json(survey_view(survey_for(&state, &token).await?)))
}

pub(crate) async fn answer(
    state: &AppState,
    token: &str,
    body: SurveyBody,
) -> Result<SurveyView, ApiError> {
    survey_for(state, token).await?;
    answer_by_hash(state, &sha256_hex(token), body).await
}

/// Answers the survey whose token hashes to `hash` (the link's, or the portal's for a
/// signed-in customer's own ticket).
pub(crate) async fn answer_by_hash(
    state: &AppState,
    hash: &str,
    body: SurveyBody,
) -> Result<SurveyView, ApiError> {
    let answer = SurveyAnswer::parse(
        body.product,
        body.pleasantness,
        body.competence,
        body.recommend,
    )?;
    let comment = body
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 5000) {
        return Err(ApiError::unprocessable(
            "comment_too_long",
            "A comment is at most 5,000 characters.",
        ));
    }
    let s = state
        .desk
        .answer_survey(hash, answer, comment, now())
        .await
        .map_err(|e| match e {
            recourse_desk::DeskError::Store(recourse_desk::StoreError::Conflict(m)) => {
                ApiError::new(StatusCode::CONFLICT, "survey_closed", format!("{m}."))
            }
            other => other.into(),
        })?;
    Ok(survey_view(s))
}

#[utoipa::path(
    put, path = "/api/v1/surveys/{token}", tag = "recovery",
    params(("token" = String, Path, description = "The token from the survey link")),
    request_body = SurveyBody,
    responses((status = 200, description = "Answered (or changed, within a week)", body = SurveyView), (status = 404, body = ErrorBody), (status = 409, description = "survey_closed: answered more than a week ago", body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn put_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<SurveyBody>,
) -> Result<Json<SurveyView>, ApiError> {
    Ok(Json(answer(&state, &token, body).await?))
}
