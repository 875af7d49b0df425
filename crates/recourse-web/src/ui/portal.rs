//! The customer portal: a customer signs in with a one-time link sent by email (no
//! password), sees their own tickets, opens new ones with attachments, replies, and
//! answers the satisfaction survey of an ended ticket.
//!
//! Pages call the REST API's handlers with the customer as the caller, so the rules a
//! customer meets (only their own tickets, no notes, no interventions, no readings) are
//! the API's, decided in one place. A customer session is a row in the same sessions
//! table as an agent's, with the customer as its principal; the console refuses it and
//! the portal refuses an agent's.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use recourse_desk::{NewPortalAttachment, NewPortalSession, PortalLinkState, Principal};
use recourse_domain::{Customer, MessageKind, Status};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{csrf_checked_form, csrf_failed, render, when};
use crate::AppState;
use crate::api::views::{CreateTicket, PostMessage, TicketView};
use crate::api::{surveys, tickets};
use crate::auth::{self, Caller, Via, constant_time_eq};
use crate::error::ApiError;
use crate::extract::ClientIp;

/// The double-submit cookie that protects the forms shown before there is a session.
const PRE_SESSION_CSRF: &str = "recourse_portal_csrf";
/// A customer may ask for this many links in `LINK_WINDOW_MS`; more are not mailed.
const LINKS_PER_WINDOW: i64 = 3;
const LINK_WINDOW_MS: i64 = 15 * 60 * 1000;
/// One uploaded file at most, and how many go with one message.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_FILES: usize = 5;
/// The body limit of the two forms that carry files.
const MAX_UPLOAD_BODY: usize = MAX_FILES * MAX_FILE_BYTES + 256 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(my_tickets))
        .route("/portal/assets/portal.css", get(stylesheet))
        .route("/portal/login", get(login_page).post(login_submit))
        .route("/portal/link/{token}", get(link_page).post(link_confirm))
        .route("/portal/logout", post(logout))
        .route(
            "/portal/new",
            get(new_page)
                .post(new_submit)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
        )
        .route("/portal/tickets/{id}", get(ticket_page))
        .route(
            "/portal/tickets/{id}/reply",
            post(reply).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
        )
        .route("/portal/tickets/{id}/survey", post(answer_survey))
        .route(
            "/portal/tickets/{id}/attachments/{aid}",
            get(download_attachment),
        )
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        include_str!("../../assets/portal.css"),
    )
        .into_response()
}

// ---------- the customer's session ----------

/// A signed-in customer, from the session cookie. Strangers (and agents, whose
/// sessions are not customers') are sent to the portal's sign-in page.
pub(crate) struct PortalSession {
    pub customer: Customer,
    pub csrf: String,
    /// SHA-256 of the cookie, to end the session on sign-out.
    id_hash: String,
}

impl PortalSession {
    fn caller(&self) -> Caller {
        Caller::Customer {
            customer: self.customer.clone(),
            via: Via::Session,
        }
    }
}

pub(crate) struct ToSignIn;

impl IntoResponse for ToSignIn {
    fn into_response(self) -> Response {
        Redirect::to("/portal/login").into_response()
    }
}

impl FromRequestParts<AppState> for PortalSession {
    type Rejection = ToSignIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ToSignIn> {
        let secret = auth::session_cookie(&parts.headers).ok_or(ToSignIn)?;
        let id_hash = auth::sha256_hex(&secret);
        let session = state
            .store
            .session_by_hash(&id_hash, crate::now())
            .await
            .ok()
            .flatten()
            .ok_or(ToSignIn)?;
        let Principal::Customer(id) = session.principal else {
            return Err(ToSignIn);
        };
        let customer = state.store.get_customer(id).await.map_err(|_| ToSignIn)?;
        Ok(PortalSession {
            customer,
            csrf: session.csrf_token,
            id_hash,
        })
    }
}

/// A form posted by a signed-in customer whose `csrf` field matched the session's.
struct CustomerForm<T> {
    session: PortalSession,
    form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CustomerForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = PortalSession::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        match csrf_checked_form::<T>(&bytes, &session.csrf).await {
            Ok(form) => Ok(CustomerForm { session, form }),
            Err(e) => Err(problem(Some(&session), &e, "/portal")),
        }
    }
}

/// A form with files (multipart) posted by a signed-in customer, CSRF checked.
struct UploadForm {
    session: PortalSession,
    fields: Vec<multipart::Part>,
}

impl UploadForm {
    fn text(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
            .unwrap_or_default()
    }

    /// The files chosen (an empty file input sends a nameless empty part: skipped).
    fn files(&self) -> Result<Vec<NewPortalAttachment>, ApiError> {
        let chosen: Vec<&multipart::Part> = self
            .fields
            .iter()
            .filter(|p| p.name == "files")
            .filter(|p| p.filename.as_deref().is_some_and(|f| !f.is_empty()) || !p.data.is_empty())
            .collect();
        if chosen.len() > MAX_FILES {
            return Err(ApiError::unprocessable(
                "too_many_files",
                format!("Attach at most {MAX_FILES} files to one message."),
            ));
        }
        chosen
            .into_iter()
            .map(|p| {
                if p.data.len() > MAX_FILE_BYTES {
                    return Err(ApiError::unprocessable(
                        "file_too_large",
                        format!(
                            "Each file may be at most {} MB.",
                            MAX_FILE_BYTES / (1024 * 1024)
                        ),
                    ));
                }
                Ok(NewPortalAttachment {
                    filename: p.filename.as_deref().map(clean_filename),
                    content_type: clean_content_type(p.content_type.as_deref()),
                    sha256: auth::sha256_hex(&p.data),
                    content: p.data.clone(),
                })
            })
            .collect()
    }
}

impl FromRequest<AppState> for UploadForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = PortalSession::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = match Bytes::from_request(Request::from_parts(parts, body), state).await {
            Ok(b) => b,
            Err(e) => {
                let err = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!(
                            "That is more than we accept at once: up to {MAX_FILES} files of {} MB each.",
                            MAX_FILE_BYTES / (1024 * 1024)
                        ),
                    )
                } else {
                    ApiError::bad_request("invalid_body", e.body_text())
                };
                return Err(problem(Some(&session), &err, "/portal"));
            }
        };
        // A plain (urlencoded) post works too, for a form without files.
        let fields = if content_type.starts_with("multipart/form-data") {
            multipart::parse(&content_type, &bytes)
        } else {
            multipart::from_urlencoded(&bytes)
        };
        let Ok(fields) = fields else {
            let e = ApiError::bad_request("invalid_form", "The form could not be read.");
            return Err(problem(Some(&session), &e, "/portal"));
        };
        let form = UploadForm { session, fields };
        if !constant_time_eq(form.text("csrf").as_bytes(), form.session.csrf.as_bytes()) {
            return Err(problem(Some(&form.session), &csrf_failed(), "/portal"));
        }
        Ok(form)
    }
}

/// The last path segment of what the browser sent, without control characters.
fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() {
        "file".into()
    } else {
        clean
    }
}

/// A `type/subtype` of plain token characters, else `application/octet-stream`.
fn clean_content_type(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or_default().trim().to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 80
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match raw.split_once('/') {
        Some((t, s)) if token(t) && token(s) => raw,
        _ => "application/octet-stream".into(),
    }
}

// ---------- pages ----------

#[derive(Template)]
#[template(path = "portal_notice.html")]
struct NoticePage<'a> {
    me: Option<&'a PortalSession>,
    title: &'a str,
    message: &'a str,
    alert: bool,
    back: &'a str,
    back_label: &'a str,
}

fn notice(
    me: Option<&PortalSession>,
    status: StatusCode,
    title: &str,
    message: &str,
    back: (&str, &str),
) -> Response {
    let mut r = render(&NoticePage {
        me,
        title,
        message,
        alert: !status.is_success(),
        back: back.0,
        back_label: back.1,
    });
    *r.status_mut() = status;
    r
}

/// An API error shown to a customer, with a way back.
fn problem(me: Option<&PortalSession>, e: &ApiError, back: &str) -> Response {
    notice(
        me,
        e.status,
        "That did not work",
        &e.message,
        (back, "Go back"),
    )
}

/// Ticket statuses as a customer reads them.
fn status_words(s: Status) -> &'static str {
    match s {
        Status::New => "Received",
        Status::Open => "We are working on it",
        Status::PendingCustomer => "Waiting for your answer",
        Status::Resolved => "Resolved",
        Status::Closed => "Closed",
    }
}

struct Row {
    id: i64,
    number: i64,
    subject: String,
    status: &'static str,
    status_key: &'static str,
    updated: String,
}

impl From<TicketView> for Row {
    fn from(t: TicketView) -> Self {
        Row {
            id: t.id,
            number: t.number,
            subject: t.subject,
            status: status_words(t.status),
            status_key: t.status.as_str(),
            updated: when(&t.updated_at),
        }
    }
}

#[derive(Template)]
#[template(path = "portal_tickets.html")]
struct TicketsPage<'a> {
    me: Option<&'a PortalSession>,
    rows: Vec<Row>,
    more: bool,
}

/// How many tickets the list shows; older ones follow by cursor.
const LIST_LIMIT: i64 = 50;

#[derive(Deserialize)]
struct ListQuery {
    cursor: Option<String>,
}

async fn my_tickets(
    State(state): State<AppState>,
    s: PortalSession,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Response {
    let mut params = serde_json::json!({ "limit": LIST_LIMIT });
    if let Some(c) = q.cursor {
        params["cursor"] = serde_json::json!(c);
    }
    let page = match serde_json::from_value::<tickets::ListParams>(params) {
        Ok(p) => tickets::ticket_page(&state, &s.caller(), &p).await,
        Err(e) => Err(ApiError::bad_request("invalid_query", e.to_string())),
    };
    match page {
        Ok(page) => render(&TicketsPage {
            me: Some(&s),
            more: page.next_cursor.is_some(),
            rows: page.tickets.into_iter().map(Row::from).collect(),
        }),
        Err(e) => problem(Some(&s), &e, "/portal"),
    }
}

struct FileLink {
    id: i64,
    name: String,
    size: String,
}

struct Msg {
    mine: bool,
    author: String,
    at: String,
    body: String,
    files: Vec<FileLink>,
}

struct SurveyForm {
    answered: bool,
    editable: bool,
    product: Option<u8>,
    pleasantness: Option<u8>,
    competence: Option<u8>,
    recommend: Option<u8>,
    comment: String,
}

#[derive(Template)]
#[template(path = "portal_ticket.html")]
struct TicketPage<'a> {
    me: Option<&'a PortalSession>,
    csrf: &'a str,
    t: TicketView,
    status: &'static str,
    holder: String,
    rung_title: String,
    messages: Vec<Msg>,
    other_files: Vec<FileLink>,
    survey: Option<SurveyForm>,
    notice: Option<&'a str>,
    max_files: usize,
    max_mb: usize,
}

impl TicketPage<'_> {
    /// The radio buttons of one survey question, with the current answer checked.
    fn scale(&self, field: &str) -> Vec<(u8, bool)> {
        let Some(s) = &self.survey else {
            return Vec::new();
        };
        let (from, to, current) = match field {
            "product" => (1, 5, s.product),
            "pleasantness" => (1, 5, s.pleasantness),
            "competence" => (1, 5, s.competence),
            _ => (0, 10, s.recommend),
        };
        (from..=to).map(|v| (v, current == Some(v))).collect()
    }
}

fn size_words(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

async fn ticket_page(
    State(state): State<AppState>,
    s: PortalSession,
    Path(id): Path<String>,
) -> Response {
    show_ticket(&state, &s, &id, None, StatusCode::OK).await
}

async fn show_ticket(
    state: &AppState,
    s: &PortalSession,
    id: &str,
    notice_text: Option<&str>,
    status: StatusCode,
) -> Response {
    match ticket_view(state, s, id, notice_text).await {
        Ok(mut r) => {
            *r.status_mut() = status;
            r
        }
        Err(e) => problem(Some(s), &e, "/portal"),
    }
}

async fn ticket_view(
    state: &AppState,
    s: &PortalSession,
    id: &str,
    notice_text: Option<&str>,
) -> Result<Response, ApiError> {
    // The API's view for a customer: no notes, interventions or readings.
    let caller = s.caller();
    let ticket = tickets::visible_ticket(state, &caller, id).await?;
    let detail = tickets::ticket_detail(state, &caller, ticket).await?;
    let ticket_id = recourse_domain::TicketId(detail.ticket.id);
    let (agents, config, files, survey_hash) = tokio::try_join!(
        state.store.list_agents(),
        state.store.desk_config(),
        state.store.ticket_attachments(ticket_id),
        state.store.survey_token_hash(ticket_id),
    )?;
    let agent_name = |id: i64| agents.iter().find(|a| a.id.0 == id).map(|a| a.name.clone());
    let holder = detail
        .ticket
        .assignee_id
        .and_then(agent_name)
        .unwrap_or_else(|| "Our team (not yet assigned to one person)".into());
    let rung_title = config
        .ladder
        .rungs()
        .iter()
        .find(|r| r.name == detail.ticket.rung)
        .map(|r| r.title.clone())
        .unwrap_or_else(|| detail.ticket.rung.clone());
    let link = |f: &recourse_desk::PortalAttachment| FileLink {
        id: f.id,
        name: f.filename.clone().unwrap_or_else(|| "file".into()),
        size: size_words(f.size),
    };
    let messages: Vec<Msg> = detail
        .messages
        .into_iter()
        .filter(|m| m.kind != MessageKind::Note)
        .map(|m| {
            let mine = m.kind == MessageKind::Inbound;
            let author = if mine {
                "You".to_owned()
            } else {
                m.author
                    .id
                    .filter(|_| m.author.kind == "agent")
                    .and_then(agent_name)
                    .unwrap_or_else(|| "Support".into())
            };
            Msg {
                mine,
                author,
                at: when(&m.created_at),
                files: files
                    .iter()
                    .filter(|f| f.message_ref.map(|r| r.0) == Some(m.id))
                    .map(link)
                    .collect(),
                body: m.body,
            }
        })
        .collect();
    let other_files = files
        .iter()
        .filter(|f| f.message_ref.is_none())
        .map(link)
        .collect();
    let survey = match survey_hash {
        Some(h) => state.store.survey_by_token(&h).await?.map(|v| SurveyForm {
            answered: v.answered_at.is_some(),
            editable: recourse_domain::recovery::survey_editable(v.answered_at, crate::now()),
            product: v.answer.map(|a| a.product),
            pleasantness: v.answer.map(|a| a.pleasantness),
            competence: v.answer.map(|a| a.competence),
            recommend: v.answer.map(|a| a.recommend),
            comment: v.comment.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(render(&TicketPage {
        me: Some(s),
        csrf: &s.csrf,
        status: status_words(detail.ticket.status),
        t: detail.ticket,
        holder,
        rung_title,
        messages,
        other_files,
        survey,
        notice: notice_text,
        max_files: MAX_FILES,
        max_mb: MAX_FILE_BYTES / (1024 * 1024),
    }))
}

#[derive(Template)]
#[template(path = "portal_new.html")]
struct NewPage<'a> {
    me: Option<&'a PortalSession>,
    csrf: &'a str,
    subject: &'a str,
    need: &'a str,
    body: &'a str,
    error: Option<&'a str>,
    max_files: usize,
    max_mb: usize,
}

async fn new_page(s: PortalSession) -> Response {
    render(&NewPage {
        me: Some(&s),
        csrf: &s.csrf,
        subject: "",
        need: "",
        body: "",
        error: None,
        max_files: MAX_FILES,
        max_mb: MAX_FILE_BYTES / (1024 * 1024),
    })
}

async fn new_submit(State(state): State<AppState>, f: UploadForm) -> Response {
    let (subject, need, body) = (f.text("subject"), f.text("need"), f.text("body"));
    let again = |e: &ApiError| {
        let mut r = render(&NewPage {
            me: Some(&f.session),
            csrf: &f.session.csrf,
            subject: &subject,
            need: &need,
            body: &body,
            error: Some(&e.message),
            max_files: MAX_FILES,
            max_mb: MAX_FILE_BYTES / (1024 * 1024),
        });
        *r.status_mut() = e.status;
        r
    };
    let files = match f.files() {
        Ok(files) => files,
        Err(e) => return again(&e),
    };
    let input = CreateTicket {
        customer: None,
        subject: subject.clone(),
        body: body.clone(),
        need: Some(need.clone()).filter(|n| !n.trim().is_empty()),
        priority: None,
        tags: Vec::new(),
    };
    let opened: Result<TicketView, ApiError> = async {
        let ticket = tickets::new_ticket(&f.session.caller(), input)?;
        let ticket = state.desk.open_ticket(ticket).await?;
        state
            .metrics
            .tickets_created
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(ticket.into())
    }
    .await;
    let created = match opened {
        Ok(t) => t,
        Err(e) => return again(&e),
    };
    if !files.is_empty() {
        let ticket = recourse_domain::TicketId(created.id);
        let attached = async {
            let first = state
                .store
                .messages(ticket)
                .await?
                .into_iter()
                .find(|m| m.kind == MessageKind::Inbound)
                .ok_or(recourse_desk::StoreError::NotFound("message"))?;
            state
                .store
                .add_portal_attachments(ticket, first.id, files, crate::now())
                .await
        };
        if let Err(e) = attached.await {
            tracing::warn!(error = %e, "storing portal attachments failed");
            let e = ApiError::from(e);
            return show_ticket(
                &state,
                &f.session,
                &created.id.to_string(),
                Some(&format!(
                    "Your request is saved, but the files could not be: {}",
                    e.message
                )),
                StatusCode::INTERNAL_SERVER_ERROR,
            )
            .await;
        }
    }
    Redirect::to(&format!("/portal/tickets/{}", created.id)).into_response()
}

async fn reply(State(state): State<AppState>, Path(id): Path<String>, f: UploadForm) -> Response {
    let files = match f.files() {
        Ok(files) => files,
        Err(e) => return show_ticket(&state, &f.session, &id, Some(&e.message), e.status).await,
    };
    let input = PostMessage {
        kind: None,
        body: f.text("body"),
        status: None,
    };
    let caller = f.session.caller();
    let posted: Result<_, ApiError> = async {
        let ticket = tickets::visible_ticket(&state, &caller, &id).await?;
        let message = tickets::new_message(&caller, ticket.id, input)?;
        let sent = state.desk.add_message(message).await?;
        state
            .metrics
            .messages_added
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(sent)
    }
    .await;
    let (message, ticket) = match posted {
        Ok(sent) => sent,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return problem(Some(&f.session), &e, "/portal");
        }
        Err(e) => return show_ticket(&state, &f.session, &id, Some(&e.message), e.status).await,
    };
    if !files.is_empty()
        && let Err(e) = state
            .store
            .add_portal_attachments(ticket.id, message.id, files, crate::now())
            .await
    {
        tracing::warn!(error = %e, "storing portal attachments failed");
        let e = ApiError::from(e);
        let text = format!(
            "Your message is sent, but the files could not be saved: {}",
            e.message
        );
        return show_ticket(
            &state,
            &f.session,
            &id,
            Some(&text),
            StatusCode::INTERNAL_SERVER_ERROR,
        )
        .await;
    }
    Redirect::to(&format!("/portal/tickets/{}#latest", ticket.id.0)).into_response()
}

#[derive(Deserialize)]
struct SurveyFields {
    product: Option<i64>,
    pleasantness: Option<i64>,
    competence: Option<i64>,
    recommend: Option<i64>,
    #[serde(default)]
    comment: String,
}

async fn answer_survey(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: CustomerForm<SurveyFields>,
) -> Response {
    let s = &f.session;
    let result: Result<(), ApiError> = async {
        let ticket = tickets::visible_ticket(&state, &s.caller(), &id).await?;
        let hash = state
            .store
            .survey_token_hash(ticket.id)
            .await?
            .ok_or_else(|| ApiError::not_found("survey"))?;
        let a = &f.form;
        let (Some(p), Some(pl), Some(c), Some(r)) =
            (a.product, a.pleasantness, a.competence, a.recommend)
        else {
            return Err(ApiError::unprocessable(
                "missing_answer",
                "Please choose one answer for each question.",
            ));
        };
        let body = surveys::SurveyBody {
            product: p,
            pleasantness: pl,
            competence: c,
            recommend: r,
            comment: Some(a.comment.clone()),
        };
        surveys::answer_by_hash(&state, &hash, body).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            show_ticket(
                &state,
                s,
                &id,
                Some("Thank you: your answers are saved. You can change them for a week."),
                StatusCode::OK,
            )
            .await
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => problem(Some(s), &e, "/portal"),
        Err(e) => show_ticket(&state, s, &id, Some(&e.message), e.status).await,
    }
}

async fn download_attachment(
    State(state): State<AppState>,
    s: PortalSession,
    Path((id, aid)): Path<(String, String)>,
) -> Response {
    let found: Result<_, ApiError> = async {
        let ticket = tickets::visible_ticket(&state, &s.caller(), &id).await?;
        let aid: i64 = aid.parse().map_err(|_| ApiError::not_found("attachment"))?;
        match state.store.attachment_content(aid).await? {
            // An attachment of another ticket is as missing as one that never existed.
            Some((info, bytes)) if info.ticket_id == Some(ticket.id) => Ok((info, bytes)),
            _ => Err(ApiError::not_found("attachment")),
        }
    }
    .await;
    match found {
        Ok((info, bytes)) => {
            let name = info.filename.unwrap_or_else(|| "file".into());
            // Only safe characters in the header; the name is the customer's own.
            let ascii: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&info.content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            // Even if a browser shows it, it runs nothing and reaches nothing.
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => problem(Some(&s), &e, "/portal"),
    }
}

// ---------- signing in by link ----------

#[derive(Template)]
#[template(path = "portal_login.html")]
struct LoginPage<'a> {
    me: Option<&'a PortalSession>,
    csrf: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "portal_link.html")]
struct LinkPage<'a> {
    me: Option<&'a PortalSession>,
    csrf: &'a str,
    token: &'a str,
}

/// Sets a fresh double-submit token on a page whose form has no session yet.
fn with_pre_session_token(mut r: Response, token: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{PRE_SESSION_CSRF}={token}; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=3600"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn pre_session_ok(headers: &HeaderMap, sent: &str) -> bool {
    let cookie = auth::cookie(headers, PRE_SESSION_CSRF).unwrap_or_default();
    !cookie.is_empty() && constant_time_eq(cookie.as_bytes(), sent.as_bytes())
}

fn login_form(email: &str, error: Option<&str>, status: StatusCode) -> Response {
    let token = auth::new_secret("pcsrf");
    let mut r = render(&LoginPage {
        me: None,
        csrf: &token,
        email,
        error,
    });
    *r.status_mut() = status;
    with_pre_session_token(r, &token)
}

async fn login_page() -> Response {
    login_form("", None, StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<axum::Form<LoginFields>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return login_form(
            "",
            Some("Please give your email address."),
            StatusCode::BAD_REQUEST,
        );
    };
    if !pre_session_ok(&headers, &form.csrf) {
        return login_form(
            &form.email,
            Some("The form had expired; please try again."),
            StatusCode::FORBIDDEN,
        );
    }
    let email = form.email.trim();
    // Every request counts, known address or not, so the limit says nothing either.
    if let Err(wait) = state.portal_limiter.check(ip, email) {
        let minutes = wait.div_ceil(60);
        let mut r = login_form(
            email,
            Some(&format!(
                "Too many sign-in links were asked for. Please wait {minutes} minute{} and try again.",
                if minutes == 1 { "" } else { "s" }
            )),
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    state.portal_limiter.record_failure(ip, email);
    let Ok(address) = recourse_domain::EmailAddress::parse(email) else {
        return login_form(
            email,
            Some("That does not look like an email address."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    // The answer is the same whether or not we know the address (no enumeration).
    if let Err(e) = state
        .store
        .request_portal_link(&address, LINKS_PER_WINDOW, LINK_WINDOW_MS, crate::now())
        .await
    {
        tracing::warn!(error = %e, "queueing a sign-in link failed");
    }
    notice(
        None,
        StatusCode::OK,
        "Check your email",
        "If we know this address, a sign-in link is on its way to it. The link works once, for 15 minutes.",
        ("/portal/login", "Ask for another link"),
    )
}

fn dead_link(state: Option<PortalLinkState>) -> Response {
    let (status, message) = match state {
        Some(PortalLinkState::Used) => (
            StatusCode::GONE,
            "This sign-in link has already been used. Each link works once; ask for a new one.",
        ),
        Some(PortalLinkState::Expired) => (
            StatusCode::GONE,
            "This sign-in link has expired. Links work for 15 minutes; ask for a new one.",
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "This sign-in link does not work. It may be incomplete; ask for a new one.",
        ),
    };
    notice(
        None,
        status,
        "This link does not work",
        message,
        ("/portal/login", "Ask for a new link"),
    )
}

/// Opening the link only shows a button: mail scanners that fetch links must not use
/// it up. The token stays in the address and the form; it is checked, not consumed.
async fn link_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let found = state
        .store
        .portal_link_state(&auth::sha256_hex(&token), crate::now())
        .await
        .ok()
        .flatten();
    if found != Some(PortalLinkState::Usable) {
        return dead_link(found);
    }
    let csrf = auth::new_secret("pcsrf");
    let mut r = render(&LinkPage {
        me: None,
        csrf: &csrf,
        token: &token,
    });
    // The link is a secret: keep it out of Referer headers and shared caches.
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    with_pre_session_token(r, &csrf)
}

#[derive(Deserialize)]
struct ConfirmFields {
    #[serde(default)]
    csrf: String,
}

async fn link_confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    form: Result<axum::Form<ConfirmFields>, axum::extract::rejection::FormRejection>,
) -> Response {
    let sent = form.map(|axum::Form(f)| f.csrf).unwrap_or_default();
    let hash = auth::sha256_hex(&token);
    if !pre_session_ok(&headers, &sent) {
        // A link that is dead anyway says so, whatever the form carried.
        let found = state
            .store
            .portal_link_state(&hash, crate::now())
            .await
            .ok()
            .flatten();
        if found != Some(PortalLinkState::Usable) {
            return dead_link(found);
        }
        return notice(
            None,
            StatusCode::FORBIDDEN,
            "Please try again",
            "The page had expired. Open the link from your email again and confirm.",
            ("/portal/login", "Ask for a new link"),
        );
    }
    // A fresh session id: nothing planted before sign-in carries over.
    let secret = auth::new_secret("rs");
    let now = crate::now();
    let ttl = state.config.session_ttl;
    let used = state
        .store
        .use_portal_link(
            &hash,
            NewPortalSession {
                id_hash: auth::sha256_hex(&secret),
                csrf_token: auth::new_secret("csrf"),
                expires_at: recourse_domain::Millis(now.0 + ttl.as_millis() as i64),
            },
            now,
        )
        .await;
    match used {
        Ok(Some(_)) => {
            let secure = if state.config.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            let mut r = Redirect::to("/portal").into_response();
            let cookies = [
                format!(
                    "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                    auth::SESSION_COOKIE,
                    ttl.as_secs()
                ),
                format!("{PRE_SESSION_CSRF}=; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=0"),
            ];
            for c in cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Ok(None) => {
            let found = state
                .store
                .portal_link_state(&hash, now)
                .await
                .ok()
                .flatten();
            dead_link(found)
        }
        Err(e) => problem(None, &ApiError::from(e), "/portal/login"),
    }
}

#[derive(Deserialize)]
struct Nothing {}

async fn logout(State(state): State<AppState>, f: CustomerForm<Nothing>) -> Response {
    let _ = f.form;
    if let Err(e) = state.store.delete_session(&f.session.id_hash).await {
        return problem(Some(&f.session), &ApiError::from(e), "/portal");
    }
    let mut r = notice(
        None,
        StatusCode::OK,
        "You are signed out",
        "Thank you for getting in touch. Ask for a new link whenever you want to come back.",
        ("/portal/login", "Sign in again"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        auth::SESSION_COOKIE
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// ---------- multipart/form-data ----------

/// A small reader for `multipart/form-data` (RFC 7578) over a body already held in
/// memory under a size limit: enough for the portal's forms, nothing streamed.
pub(crate) mod multipart {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Part {
        pub name: String,
        pub filename: Option<String>,
        pub content_type: Option<String>,
        pub data: Vec<u8>,
    }

    #[derive(Debug, PartialEq, Eq)]
    pub struct Malformed;

    /// More parts than any portal form has means something is wrong.
    const MAX_PARTS: usize = 32;

    fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
        if needle.is_empty() || from > hay.len() {
            return None;
        }
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    }

    /// The value of `key` in a header's `; key=value` parameters, unquoted.
    pub fn param(header: &str, key: &str) -> Option<String> {
        let mut rest = header;
        while let Some(i) = rest.find(';') {
            rest = rest[i + 1..].trim_start();
            let (k, v) = rest.split_once('=')?;
            let k = k.trim();
            if let Some(quoted) = v.strip_prefix('"') {
                let mut out = String::new();
                let mut chars = quoted.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        c => out.push(c),
                    }
                }
                if k.eq_ignore_ascii_case(key) {
                    return Some(out);
                }
                // Skip past the closing quote before looking for the next parameter.
                let consumed = quoted.len() - chars.as_str().len();
                rest = &quoted[consumed..];
            } else {
                let end = v.find(';').unwrap_or(v.len());
                if k.eq_ignore_ascii_case(key) {
                    return Some(v[..end].trim().to_owned());
                }
                rest = &v[end..];
            }
        }
        None
    }

    pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, Malformed> {
        let boundary = param(content_type, "boundary").ok_or(Malformed)?;
        if boundary.is_empty() || boundary.len() > 70 {
            return Err(Malformed);
        }
        let delimiter = format!("--{boundary}");
        let next_delimiter = format!("\r\n--{boundary}");
        let mut at = find(body, delimiter.as_bytes(), 0).ok_or(Malformed)? + delimiter.len();
        let mut parts = Vec::new();
        loop {
            let rest = &body[at..];
            if rest.starts_with(b"--") {
                return Ok(parts);
            }
            if !rest.starts_with(b"\r\n") || parts.len() >= MAX_PARTS {
                return Err(Malformed);
            }
            let head_start = at + 2;
            let head_end = find(body, b"\r\n\r\n", head_start).ok_or(Malformed)?;
            let head = std::str::from_utf8(&body[head_start..head_end]).map_err(|_| Malformed)?;
            let data_start = head_end + 4;
            let data_end = find(body, next_delimiter.as_bytes(), data_start).ok_or(Malformed)?;
            let mut part = Part {
                name: String::new(),
                filename: None,
                content_type: None,
                data: body[data_start..data_end].to_vec(),
            };
            for line in head.split("\r\n") {
                let Some((k, v)) = line.split_once(':') else {
                    continue;
                };
                if k.trim().eq_ignore_ascii_case("content-disposition") {
                    part.name = param(v, "name").ok_or(Malformed)?;
                    part.filename = param(v, "filename");
                } else if k.trim().eq_ignore_ascii_case("content-type") {
                    part.content_type = Some(v.trim().to_owned());
                }
            }
            if part.name.is_empty() {
                return Err(Malformed);
            }
            parts.push(part);
            at = data_end + next_delimiter.len();
        }
    }

    /// The same fields from a urlencoded body (a form posted without files).
    pub fn from_urlencoded(body: &[u8]) -> Result<Vec<Part>, Malformed> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|_| Malformed)?;
        Ok(pairs
            .into_iter()
            .map(|(name, value)| Part {
                name,
                filename: None,
                content_type: None,
                data: value.into_bytes(),
            })
            .collect())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_fields_and_files() {
            let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a \\\"b\\\".txt\"\r\nContent-Type: text/plain\r\n\r\nline1\r\n--not-it\r\nline2\r\n--XyZ--\r\n";
            let parts = parse("multipart/form-data; boundary=XyZ", body).unwrap();
            assert_eq!(parts.len(), 2);
            assert_eq!(parts[0].name, "csrf");
            assert_eq!(parts[0].data, b"abc");
            assert_eq!(parts[1].filename.as_deref(), Some("a \"b\".txt"));
            assert_eq!(parts[1].content_type.as_deref(), Some("text/plain"));
            assert_eq!(parts[1].data, b"line1\r\n--not-it\r\nline2");
        }

        #[test]
        fn refuses_broken_bodies() {
            assert_eq!(parse("multipart/form-data", b""), Err(Malformed));
            assert_eq!(
                parse(
                    "multipart/form-data; boundary=b",
                    b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno end"
                ),
                Err(Malformed)
            );
            assert_eq!(
                parse(
                    "multipart/form-data; boundary=\"b\"",
                    b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"
                ),
                Err(Malformed),
                "a part without a name"
            );
        }

        #[test]
        fn urlencoded_fields_decode() {
            let parts = from_urlencoded(b"body=hi+there%21&csrf=x").unwrap();
            assert_eq!(parts[0].data, b"hi there!");
            assert_eq!(parts[1].name, "csrf");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_names_and_types_are_tamed() {
        assert_eq!(clean_filename("C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("\u{7}"), "file");
        assert_eq!(clean_content_type(Some("image/PNG")), "image/png");
        assert_eq!(
            clean_content_type(Some("text/html\r\nX: y")),
            "application/octet-stream"
        );
        assert_eq!(clean_content_type(None), "application/octet-stream");
    }

    #[test]
    fn statuses_read_as_plain_words() {
        assert_eq!(
            status_words(Status::PendingCustomer),
            "Waiting for your answer"
        );
    }
}
