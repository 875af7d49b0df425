//! The admin screens over plain HTTP with a session cookie: every page and form is
//! refused to non-admins (403, nothing changes), every form needs the session's CSRF
//! token, a refused change is drawn again with 422, and user text comes back escaped.

use crate::harness::*;

on_both!(
    managers_are_refused_every_admin_page,
    a_manager_sees_no_admin_link,
    managers_cannot_post_admin_forms,
    every_admin_page_links_admin_and_every_form_carries_the_csrf_token,
    an_admin_form_without_the_sessions_token_does_nothing,
    a_new_team_redirects_and_comes_back_escaped,
    a_refused_calendar_is_drawn_again_with_422_and_the_typed_values,
    opening_hours_in_the_wrong_form_are_refused_in_words,
    a_good_calendar_is_saved,
    a_template_preview_saves_nothing_and_escapes,
    an_unknown_template_variable_is_422_and_nothing_is_saved,
    a_practice_scenario_is_added_and_edited_and_a_bad_one_is_drawn_again,
);

const PAGES: [&str; 10] = [
    "/admin",
    "/admin/agents",
    "/admin/ladder",
    "/admin/sla",
    "/admin/mailboxes",
    "/admin/referrals",
    "/admin/practice",
    "/admin/templates",
    "/admin/webhooks",
    "/admin/tokens",
];

/// An admin and a manager, both signed in: (cookie, CSRF token) each.
struct Sessions {
    admin: (String, String),
    mgr: (String, String),
}

async fn sessions(app: &TestApp) -> Sessions {
    app.agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    app.agent("mgr@example.com", Role::Manager, Experience::Senior)
        .await;
    Sessions {
        mgr: app.sign_in("mgr@example.com").await,
        admin: app.sign_in("root@example.com").await,
    }
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = app
        .no_redirect()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Option<String>, String) {
    let r = app
        .no_redirect()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (r.status(), to, r.text().await.unwrap())
}

async fn managers_are_refused_every_admin_page(app: TestApp) {
    let s = sessions(&app).await;
    let mut failures = Vec::new();
    for p in PAGES {
        let (status, html) = get(&app, &s.mgr.0, p).await;
        if status != StatusCode::FORBIDDEN || !html.contains("admin role") {
            failures.push(format!("{p}: {status} {html}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn a_manager_sees_no_admin_link(app: TestApp) {
    let s = sessions(&app).await;
    let (_, console) = get(&app, &s.mgr.0, "/console").await;
    assert!(
        !console.contains("href=\"/admin\""),
        "no Admin link for a manager"
    );
}

async fn managers_cannot_post_admin_forms(app: TestApp) {
    let s = sessions(&app).await;
    let (mgr, mgr_csrf) = (&s.mgr.0, s.mgr.1.as_str());
    let (status, _, _) = post(
        &app,
        mgr,
        "/admin/teams",
        &[("csrf", mgr_csrf), ("team_name", "Mutiny")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(
        &app,
        mgr,
        "/admin/agents/1",
        &[("csrf", mgr_csrf), ("action", "switch_off")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app.store.list_teams().await.unwrap().is_empty());
    assert!(
        app.store
            .list_agents()
            .await
            .unwrap()
            .iter()
            .all(|a| a.active)
    );
}

async fn every_admin_page_links_admin_and_every_form_carries_the_csrf_token(app: TestApp) {
    let s = sessions(&app).await;
    let (admin, csrf) = (&s.admin.0, &s.admin.1);
    for p in PAGES {
        let (status, html) = get(&app, admin, p).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert!(html.contains("href=\"/admin\""), "{p}: the Admin link");
        // Every form on the page carries the session's token.
        assert_eq!(
            html.matches("method=\"post\"").count(),
            html.matches(&format!("name=\"csrf\" value=\"{csrf}\""))
                .count(),
            "{p}"
        );
    }
}

/// Without the token (or with another session's), nothing happens.
async fn an_admin_form_without_the_sessions_token_does_nothing(app: TestApp) {
    let s = sessions(&app).await;
    let admin = &s.admin.0;
    let (status, _, _) = post(&app, admin, "/admin/teams", &[("team_name", "No token")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(
        &app,
        admin,
        "/admin/teams",
        &[("csrf", &s.mgr.1), ("team_name", "Wrong token")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app.store.list_teams().await.unwrap().is_empty());
}

async fn a_new_team_redirects_and_comes_back_escaped(app: TestApp) {
    let s = sessions(&app).await;
    let (admin, csrf) = (&s.admin.0, s.admin.1.as_str());
    let (status, to, _) = post(
        &app,
        admin,
        "/admin/teams",
        &[("csrf", csrf), ("team_name", "<script>alert(1)</script>")],
    )
    .await;
    assert_eq!(
        (status, to.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some("/admin/agents?done=team_added#teams")
        )
    );
    let (_, html) = get(&app, admin, "/admin/agents?done=team_added").await;
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            && !html.contains("<script>alert"),
        "escaped: {}",
        html.lines()
            .filter(|l| l.contains("alert(1)"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(html.contains("The team was added."));
}

/// A refused change: 422, the domain's words in the page, the typed values kept.
async fn a_refused_calendar_is_drawn_again_with_422_and_the_typed_values(app: TestApp) {
    let s = sessions(&app).await;
    let (status, _, html) = post(
        &app,
        &s.admin.0,
        "/admin/sla/calendar",
        &[
            ("csrf", &s.admin.1),
            ("time_zone", "Nowhere/Special"),
            ("hours_mon", "09:00-17:00"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("role=\"alert\"") && html.contains("value=\"Nowhere/Special\""),
        "{html}"
    );
}

async fn opening_hours_in_the_wrong_form_are_refused_in_words(app: TestApp) {
    let s = sessions(&app).await;
    let (status, _, html) = post(
        &app,
        &s.admin.0,
        "/admin/sla/calendar",
        &[
            ("csrf", &s.admin.1),
            ("time_zone", "UTC"),
            ("hours_mon", "nine to five"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Monday: write opening hours as 09:00-17:00"),
        "{html}"
    );
}

async fn a_good_calendar_is_saved(app: TestApp) {
    let s = sessions(&app).await;
    let (status, _, _) = post(
        &app,
        &s.admin.0,
        "/admin/sla/calendar",
        &[
            ("csrf", &s.admin.1),
            ("time_zone", "Europe/Berlin"),
            ("hours_mon", "09:00-12:00, 13:00-17:00"),
            ("holidays", "2026-12-25"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cal = app.store.desk_config().await.unwrap().calendar_spec;
    assert_eq!(
        (cal.time_zone.as_str(), cal.hours.len(), cal.holidays.len()),
        ("Europe/Berlin", 2, 1)
    );
}

/// A template preview saves nothing; an unknown variable is refused with 422.
async fn a_template_preview_saves_nothing_and_escapes(app: TestApp) {
    let s = sessions(&app).await;
    let (status, _, html) = post(
        &app,
        &s.admin.0,
        "/admin/templates/handoff",
        &[
            ("csrf", &s.admin.1),
            ("action", "preview"),
            ("body", "Hi {{customer_name}} <b>x</b>"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("&#60;b&#62;x&#60;/b&#62;") && html.contains("class=\"preview\""),
        "{html}"
    );
    assert!(
        app.store
            .setting("template:handoff")
            .await
            .unwrap()
            .is_none(),
        "a preview saves nothing"
    );
}

async fn an_unknown_template_variable_is_422_and_nothing_is_saved(app: TestApp) {
    let s = sessions(&app).await;
    let (status, _, html) = post(
        &app,
        &s.admin.0,
        "/admin/templates/handoff",
        &[
            ("csrf", &s.admin.1),
            ("action", "save"),
            ("body", "Hi {{nobody}}"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("is not a variable of the handoff template"),
        "{html}"
    );
    assert!(
        app.store
            .setting("template:handoff")
            .await
            .unwrap()
            .is_none(),
        "nothing saved"
    );
}

/// The practice scenarios screen: a new scenario is added, an edit is saved, and a
/// refused one comes back with 422, its message and the values as typed.
async fn a_practice_scenario_is_added_and_edited_and_a_bad_one_is_drawn_again(app: TestApp) {
    let s = sessions(&app).await;
    let (admin, csrf) = (&s.admin.0, s.admin.1.as_str());
    let form = |subject: &'static str, kind: &'static str| {
        vec![
            ("csrf", csrf),
            ("kind", kind),
            ("subject", subject),
            ("topic", "delivery"),
            ("customer_message", "My parcel is a week late."),
            ("need", "the parcel delivered"),
            ("good_answer", "A day it will come."),
            ("example_answer", "I'm sorry; it comes on Friday by noon."),
        ]
    };
    let (status, to, _) = post(
        &app,
        admin,
        "/admin/practice",
        &form("Week-late <b>parcel</b>", "repeated_contact"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some("/admin/practice?done=scenario_added"));
    let (_, html) = get(&app, admin, "/admin/practice?done=scenario_added").await;
    assert!(html.contains("The practice scenario was added."));
    assert!(
        html.contains("Week-late &#60;b&#62;parcel&#60;/b&#62;"),
        "escaped"
    );
    assert!(!html.contains("<b>parcel</b>"));

    let (_, list) = app
        .client(
            &app.agent("kim@example.com", Role::Agent, Experience::Junior)
                .await
                .1,
        )
        .practice_scenarios()
        .await;
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"].is_null())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, to, _) = post(
        &app,
        admin,
        &format!("/admin/practice/{id}"),
        &form("Parcel late again", "abuse"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some("/admin/practice?done=scenario_saved"));
    let (_, html) = get(&app, admin, "/admin/practice").await;
    assert!(html.contains("Parcel late again"));

    let (status, _, html) = post(
        &app,
        admin,
        "/admin/practice",
        &form("Typed subject", "grumpy"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("The kind must be one of"), "{html}");
    assert!(
        html.contains("value=\"Typed subject\""),
        "the values as typed"
    );
}
