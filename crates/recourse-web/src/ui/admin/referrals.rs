//! The referral directory: the alternatives a manager may send a customer to when the
//! desk cannot help. Entries are retired, not deleted: past referrals still name them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_domain::Agent;

use super::form::{Pairs, Query, admins_only, checked, field, notice, page, submit};
use crate::AppState;
use crate::api::recovery;
use crate::error::ApiError;
use crate::ui::{PostForm, Session, render};

#[derive(Default)]
struct AlternativeRow {
    id: i64,
    name: String,
    serves: String,
    contact: String,
    notes: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin_referrals.html")]
struct ReferralsPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    alternatives: Vec<AlternativeRow>,
    new_alternative: AlternativeRow,
}

async fn referrals_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    typed: AlternativeRow,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let all: Vec<recovery::AlternativeView> = state
        .store
        .alternatives()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let mut rows: Vec<AlternativeRow> = all
        .into_iter()
        .map(|a| AlternativeRow {
            id: a.id,
            name: a.name,
            serves: a.serves.join(", "),
            contact: a.contact,
            notes: a.notes,
            active: a.active,
        })
        .collect();
    // Those still suggested first; retired ones stay listed for the record.
    rows.sort_by_key(|a| !a.active);
    Ok(render(&ReferralsPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "referrals",
        notice,
        error,
        alternatives: rows,
        new_alternative: typed,
    }))
}

pub(super) async fn referrals_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = referrals_view(&state, &s, notice(&q), None, AlternativeRow::default()).await;
    page(&headers, &s, r)
}

fn typed_alternative(f: &Pairs, active: bool) -> AlternativeRow {
    AlternativeRow {
        id: 0,
        name: field(f, "name"),
        serves: field(f, "serves"),
        contact: field(f, "contact"),
        notes: field(f, "notes"),
        active,
    }
}

fn alternative_body(a: &AlternativeRow) -> recovery::AlternativeBody {
    recovery::AlternativeBody {
        name: a.name.clone(),
        serves: a
            .serves
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        contact: a.contact.clone(),
        notes: a.notes.clone(),
        active: a.active,
    }
}

pub(super) async fn add_alternative(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let s = &f.session;
    submit(
        &f,
        typed_alternative(&f.form, true),
        "/admin/referrals?done=alternative_added",
        async |typed| {
            let body = alternative_body(typed);
            let input = recovery::alternative_input(body)?;
            Ok::<_, ApiError>(
                state
                    .store
                    .save_alternative(None, input, crate::now())
                    .await?,
            )
        },
        async |typed, e| referrals_view(&state, s, None, Some(e.message), typed).await,
    )
    .await
}

pub(super) async fn save_alternative(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: PostForm<Pairs>,
) -> Response {
    // "Remove" retires the entry: past referrals still name it, so it is not deleted.
    let active = match field(&f.form, "action").as_str() {
        "retire" => false,
        "restore" => true,
        _ => checked(&f.form, "active"),
    };
    let s = &f.session;
    submit(
        &f,
        typed_alternative(&f.form, active),
        "/admin/referrals?done=alternative_saved",
        async |typed| {
            let body = alternative_body(typed);
            let id = crate::extract::parse_id(&id, "alternative")?;
            let input = recovery::alternative_input(body)?;
            Ok::<_, ApiError>(
                state
                    .store
                    .save_alternative(Some(id), input, crate::now())
                    .await?,
            )
        },
        async |_, e| {
            referrals_view(&state, s, None, Some(e.message), AlternativeRow::default()).await
        },
    )
    .await
}
