//! The one place where failures become HTTP responses. Every error body has the
//! same shape: `{"error": {"code": "snake_case", "message": "A sentence."}}`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use recourse_desk::StoreError;
use recourse_domain::{ChangeError, LadderError, ValidationError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable, snake_case.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No {what} with that id exists, or it is not yours to see."),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in, or send an API token as `Authorization: Bearer …`.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::unprocessable(e.code, e.message)
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        ApiError::new(StatusCode::CONFLICT, e.code(), e.to_string())
    }
}

impl From<LadderError> for ApiError {
    fn from(e: LadderError) -> Self {
        use LadderError::*;
        let status = match e {
            // The ticket is where it is: the move does not fit its state.
            AtTop | AtBottom | NotActive(_) => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound("assignee") => ApiError::unprocessable(
                "unknown_assignee",
                "There is no agent with that id to assign.",
            ),
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(msg) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", format!("{msg}."))
            }
            StoreError::Rule(rule) => rule.into(),
            StoreError::Ladder(rule) => rule.into(),
            // Details of database failures stay in the log, not in the response.
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side; nothing was changed.",
                )
            }
        }
    }
}

impl From<recourse_desk::DeskError> for ApiError {
    fn from(e: recourse_desk::DeskError) -> Self {
        match e {
            recourse_desk::DeskError::Forbidden(why) => ApiError::forbidden(why),
            recourse_desk::DeskError::Invalid { code, message } => {
                ApiError::unprocessable(code, message)
            }
            recourse_desk::DeskError::Store(e) => e.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match &r {
            JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(
                "malformed_json",
                format!("The request body is not valid JSON: {}", inner(&r)),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ),
            JsonRejection::JsonDataError(_) => {
                let detail = inner(&r);
                // serde_json's messages are stable; pick the specific case for the code.
                let code = if detail.contains("unknown field") {
                    "unknown_field"
                } else if detail.contains("unknown variant") {
                    "invalid_enum_value"
                } else if detail.contains("missing field") {
                    "missing_field"
                } else if detail.contains("invalid type") {
                    "wrong_type"
                } else {
                    "invalid_body"
                };
                ApiError::unprocessable(code, format!("The request body does not fit: {detail}"))
            }
            JsonRejection::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "The request body is larger than this server accepts.",
                )
            }
            _ => ApiError::new(r.status(), "invalid_body", r.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(
            "invalid_query",
            format!("The query string does not fit: {}", r.body_text()),
        )
    }
}

/// The serde message without axum's prefix, which repeats what the code already says.
fn inner(r: &JsonRejection) -> String {
    let text = r.body_text();
    match text.split_once(": ") {
        Some((_, rest)) => rest.to_owned(),
        None => text,
    }
}
