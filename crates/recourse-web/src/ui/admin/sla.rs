//! The SLA targets per priority and the business-hours calendar, on one screen.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_domain::Agent;

use super::form::{Pairs, Query, admins_only, field, notice, page, submit, whole_number};
use crate::AppState;
use crate::api::settings;
use crate::error::ApiError;
use crate::ui::{PostForm, Session, render};
use recourse_desk::config::keys;

struct TargetRow {
    priority: &'static str,
    first_response: String,
    next_update: String,
    resolution: String,
}

struct DayRow {
    day: &'static str,
    label: &'static str,
    hours: String,
}

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

#[derive(Template)]
#[template(path = "admin_sla.html")]
struct SlaPage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
    calendar_error: Option<String>,
    warn_before: String,
    targets: Vec<TargetRow>,
    time_zone: String,
    days: Vec<DayRow>,
    holidays: String,
}

struct PolicyForm {
    warn_before: String,
    targets: Vec<TargetRow>,
}

struct CalendarForm {
    time_zone: String,
    days: Vec<DayRow>,
    holidays: String,
}

async fn sla_view(
    state: &AppState,
    s: &Session,
    notice: Option<String>,
    error: Option<String>,
    calendar_error: Option<String>,
    policy: Option<PolicyForm>,
    calendar: Option<CalendarForm>,
) -> Result<Response, ApiError> {
    admins_only(s)?;
    let policy = match policy {
        Some(p) => p,
        None => {
            let p = settings::policy_body(&state.store.desk_config().await?.sla);
            let row = |priority, t: &settings::SlaTargetBody| TargetRow {
                priority,
                first_response: t.first_response_minutes.to_string(),
                next_update: t.next_update_minutes.to_string(),
                resolution: t.resolution_minutes.to_string(),
            };
            PolicyForm {
                warn_before: p.warn_before_minutes.to_string(),
                targets: vec![
                    row("low", &p.low),
                    row("normal", &p.normal),
                    row("high", &p.high),
                    row("urgent", &p.urgent),
                ],
            }
        }
    };
    let calendar = match calendar {
        Some(c) => c,
        None => {
            let c = settings::calendar_body(state.store.desk_config().await?.calendar_spec);
            let days = DAYS
                .iter()
                .map(|(day, label)| DayRow {
                    day,
                    label,
                    hours: c
                        .hours
                        .iter()
                        .filter(|h| h.days.iter().any(|d| d == day))
                        .map(|h| format!("{}-{}", h.open, h.close))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect();
            CalendarForm {
                time_zone: c.time_zone,
                days,
                holidays: c.holidays.join("\n"),
            }
        }
    };
    Ok(render(&SlaPage {
        me: Some(&s.agent),
        csrf: &s.csrf,
        section: "sla",
        notice,
        error,
        calendar_error,
        warn_before: policy.warn_before,
        targets: policy.targets,
        time_zone: calendar.time_zone,
        days: calendar.days,
        holidays: calendar.holidays,
    }))
}

pub(super) async fn sla_page(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::extract::Query(q): Query,
) -> Response {
    let r = sla_view(&state, &s, notice(&q), None, None, None, None).await;
    page(&headers, &s, r)
}

pub(super) async fn save_policy(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = PolicyForm {
        warn_before: field(&f.form, "warn_before"),
        targets: PRIORITIES
            .iter()
            .map(|p| TargetRow {
                priority: p,
                first_response: field(&f.form, &format!("{p}_first_response")),
                next_update: field(&f.form, &format!("{p}_next_update")),
                resolution: field(&f.form, &format!("{p}_resolution")),
            })
            .collect(),
    };
    let s = &f.session;
    submit(
        &f,
        typed,
        "/admin/sla?done=policy_saved",
        async |typed| {
            let mut t = Vec::new();
            for row in &typed.targets {
                let what = |w: &str| format!("The {} {w} target", row.priority);
                t.push(settings::SlaTargetBody {
                    first_response_minutes: whole_number(
                        &row.first_response,
                        &what("first response"),
                    )?,
                    next_update_minutes: whole_number(&row.next_update, &what("next update"))?,
                    resolution_minutes: whole_number(&row.resolution, &what("resolution"))?,
                });
            }
            let mut t = t.into_iter();
            let mut next = || t.next().expect("four priorities");
            let body = settings::SlaPolicyBody {
                warn_before_minutes: whole_number(&typed.warn_before, "The warning time")?,
                low: next(),
                normal: next(),
                high: next(),
                urgent: next(),
            };
            let value = settings::to_json(&settings::sla_policy_from(body)?);
            let actor = s.caller().actor();
            Ok::<_, ApiError>(
                state
                    .store
                    .put_setting(keys::SLA_POLICY, &value, actor, crate::now())
                    .await?,
            )
        },
        async |typed, e| sla_view(&state, s, None, Some(e.message), None, Some(typed), None).await,
    )
    .await
}

pub(super) async fn save_calendar(State(state): State<AppState>, f: PostForm<Pairs>) -> Response {
    let typed = CalendarForm {
        time_zone: field(&f.form, "time_zone"),
        days: DAYS
            .iter()
            .map(|(day, label)| DayRow {
                day,
                label,
                hours: field(&f.form, &format!("hours_{day}")),
            })
            .collect(),
        holidays: field(&f.form, "holidays"),
    };
    let s = &f.session;
    submit(
        &f,
        typed,
        "/admin/sla?done=calendar_saved#calendar",
        async |typed| {
            let body = settings::CalendarBody {
                time_zone: typed.time_zone.clone(),
                hours: opening_hours(&typed.days)?,
                holidays: typed
                    .holidays
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
                    .collect(),
            };
            let value = settings::to_json(&settings::calendar_from(body)?);
            let actor = s.caller().actor();
            Ok::<_, ApiError>(
                state
                    .store
                    .put_setting(keys::CALENDAR, &value, actor, crate::now())
                    .await?,
            )
        },
        async |typed, e| sla_view(&state, s, None, None, Some(e.message), None, Some(typed)).await,
    )
    .await
}

/// The week's opening hours as typed, one `09:00-17:00` range or more per day.
fn opening_hours(days: &[DayRow]) -> Result<Vec<settings::OpeningHoursBody>, ApiError> {
    let mut hours = Vec::new();
    for d in days {
        for range in d.hours.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let Some((open, close)) = range.split_once('-') else {
                return Err(ApiError::unprocessable(
                    "invalid_hours",
                    format!(
                        "{}: write opening hours as 09:00-17:00 (several separated by commas), or leave it empty when closed.",
                        d.label
                    ),
                ));
            };
            hours.push(settings::OpeningHoursBody {
                days: vec![d.day.to_owned()],
                open: open.trim().to_owned(),
                close: close.trim().to_owned(),
            });
        }
    }
    Ok(hours)
}
