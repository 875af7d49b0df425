//! The demeanor judge and the reply coach over HTTP, and the one place the web layer
//! turns a customer's words into a stored reading.

use axum::Json;
use axum::extract::State;
use recourse_domain::{Demeanor, MessageKind, TicketId};
use recourse_judge::{CoachInput, Reading};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;

/// The stored label for a message the customer wrote.
pub(crate) fn reading_for(kind: MessageKind, body: &str) -> Option<Demeanor> {
    (kind == MessageKind::Inbound).then(|| recourse_judge::customer_demeanor(body))
}

const MAX_TEXT: usize = 64 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeText {
    /// The customer's text (an email body may include quoted history; it is stripped).
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignalView {
    /// anger, disgust, threat_to_leave, threat_to_review, urgency, personal_insult,
    /// profanity or shouting.
    pub kind: String,
    /// The words that triggered it.
    pub words: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingView {
    /// -1 (hostile) to 1 (delighted).
    pub valence: f32,
    /// pleased, neutral, frustrated, angry or abusive.
    pub label: String,
    pub signals: Vec<SignalView>,
    /// 0 to 1.
    pub confidence: f32,
    /// ISO 639-1 guess, or `und`; non-English text reads neutral with low confidence.
    pub language: String,
    /// The text that was read, after stripping quotes and signatures.
    pub read_text: String,
}

fn reading_view(r: Reading, read_text: String) -> ReadingView {
    ReadingView {
        valence: r.valence,
        label: r.label.as_str().to_owned(),
        signals: r
            .signals
            .into_iter()
            .map(|s| SignalView {
                kind: s.kind.as_str().to_owned(),
                words: s.words,
            })
            .collect(),
        confidence: r.confidence,
        language: r.language.to_owned(),
        read_text,
    }
}

fn checked(text: &str) -> Result<(), ApiError> {
    if text.len() > MAX_TEXT {
        return Err(ApiError::unprocessable(
            "text_too_long",
            format!("The judge reads at most {MAX_TEXT} bytes at a time."),
        ));
    }
    Ok(())
}

#[utoipa::path(
    post, path = "/api/v1/judge/demeanor", tag = "judge",
    request_body = JudgeText,
    responses((status = 200, body = ReadingView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn read_demeanor(
    caller: Caller,
    ApiJson(body): ApiJson<JudgeText>,
) -> Result<Json<ReadingView>, ApiError> {
    caller.require_agent()?;
    checked(&body.text)?;
    let fresh = recourse_judge::new_text(&body.text);
    Ok(Json(reading_view(recourse_judge::read(&fresh), fresh)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoachBody {
    /// The agent's draft reply.
    pub draft: String,
    /// The ticket it answers: its latest customer message and its need inform the advice.
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoachFlagView {
    /// responds_in_kind, no_acknowledgement, no_option, blames_customer,
    /// refusal_without_reason, fob_off, need_not_addressed or promise_without_time.
    pub kind: String,
    /// The advice in a few words, for people ("Sounds defensive").
    pub label: String,
    pub explanation: String,
    /// A suggestion for the rewrite.
    pub hint: String,
    /// Words in the draft that triggered it.
    pub evidence: Vec<String>,
    /// For need_not_addressed: the need's words that the draft does not mention.
    pub missing: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoachView {
    /// Advice only: sending is never blocked.
    pub flags: Vec<CoachFlagView>,
    /// How the customer's latest message reads, when a ticket was given.
    pub customer: Option<ReadingView>,
}

#[utoipa::path(
    post, path = "/api/v1/judge/coach", tag = "judge",
    request_body = CoachBody,
    responses((status = 200, body = CoachView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = []))
)]
pub async fn coach(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CoachBody>,
) -> Result<Json<CoachView>, ApiError> {
    caller.require_agent()?;
    Ok(Json(coach_view(&state, &body).await?))
}

/// The coach's flags on a draft, against the ticket's latest customer message and need.
pub(crate) async fn coach_view(state: &AppState, body: &CoachBody) -> Result<CoachView, ApiError> {
    checked(&body.draft)?;
    let (latest, need) = match body.ticket_id {
        Some(id) => {
            let ticket = state.store.get_ticket(TicketId(id)).await?;
            let latest = state
                .store
                .messages(ticket.id)
                .await?
                .into_iter()
                .rev()
                .find(|m| m.kind == MessageKind::Inbound)
                .map(|m| recourse_judge::new_text(&m.body));
            // A ticket without a stated need is itself worth a flag.
            (latest, Some(ticket.need.unwrap_or_default()))
        }
        None => (None, None),
    };
    let reading = latest.as_deref().map(recourse_judge::read);
    let flags = recourse_judge::coach(&CoachInput {
        draft: &body.draft,
        customer: reading.as_ref(),
        need: need.as_deref(),
    });
    Ok(CoachView {
        flags: flags
            .into_iter()
            .map(|f| CoachFlagView {
                kind: f.kind.as_str().to_owned(),
                label: f.label.to_owned(),
                explanation: f.explanation,
                hint: f.hint,
                evidence: f.evidence,
                missing: f.missing,
            })
            .collect(),
        customer: reading.zip(latest).map(|(r, t)| reading_view(r, t)),
    })
}
