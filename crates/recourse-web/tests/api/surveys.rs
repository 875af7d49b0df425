//! The survey behind the link in the closing message: over the API and as a plain page.

use crate::harness::*;
use crate::recovery::{desk, explained, survey_token};

on_both!(
    a_survey_link_opens_an_unanswered_survey,
    a_rating_out_of_range_is_refused,
    an_answered_survey_is_saved,
    an_unknown_survey_token_is_404,
    the_survey_page_escapes_what_the_customer_typed,
    the_survey_form_saves_answers_and_escapes_the_comment,
    a_half_filled_survey_form_is_422,
    an_unknown_survey_page_is_404,
);

/// The token of the survey sent when Jo could not help with a return.
async fn a_survey(app: &TestApp) -> String {
    let d = desk(app).await;
    let (id, _) = explained(app, &d).await;
    survey_token(app, &d, id).await
}

fn kind_people() -> SurveyAnswer {
    SurveyAnswer {
        product: 2,
        pleasantness: 5,
        competence: 4,
        recommend: 9,
        comment: Some("Kind people, odd policy.".into()),
    }
}

async fn a_survey_link_opens_an_unanswered_survey(app: TestApp) {
    let token = a_survey(&app).await;
    let (status, survey) = app.client("").survey(&token).await;
    assert_eq!(
        (status, survey["answered"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{survey}"
    );
}

async fn a_rating_out_of_range_is_refused(app: TestApp) {
    let token = a_survey(&app).await;
    let (status, err) = app
        .client("")
        .answer_survey(
            &token,
            &SurveyAnswer {
                product: 6,
                pleasantness: 5,
                competence: 5,
                recommend: 9,
                comment: None,
            },
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("rating_out_of_range")
        )
    );
}

async fn an_answered_survey_is_saved(app: TestApp) {
    let token = a_survey(&app).await;
    let (status, answered) = app.client("").answer_survey(&token, &kind_people()).await;
    assert_eq!(
        (
            status,
            answered["answered"].as_bool(),
            answered["product"].as_u64()
        ),
        (StatusCode::OK, Some(true), Some(2))
    );
}

async fn an_unknown_survey_token_is_404(app: TestApp) {
    assert_eq!(
        app.client("").survey("srv_not-a-real-token").await.0,
        StatusCode::NOT_FOUND
    );
}

/// The page behind a survey link: plain HTML, everything escaped, answerable by form.
/// Its path, for a ticket whose subject is a script, resolved by an agent.
async fn survey_page(app: &TestApp) -> String {
    let (_, agent) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, ada) = app.customer_token("ada@example.com").await;
    let id = app
        .open_ticket(
            &ada,
            &CreateTicket::new("<script>alert(1)</script> broken", "It broke."),
        )
        .await;
    let (status, _) = app
        .client(&agent)
        .update_ticket(id, &TicketPatch::status("resolved"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, seen) = app.client(&ada).ticket(id).await;
    let invite = seen["messages"].as_array().unwrap().last().unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = invite
        .split_whitespace()
        .find(|w| w.contains("/survey/"))
        .unwrap()
        .to_owned();
    link.split_once("127.0.0.1:8080")
        .map(|(_, p)| p.to_owned())
        .unwrap_or(link.clone())
}

async fn post_form(app: &TestApp, path: &str, form: &'static str) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
}

async fn the_survey_page_escapes_what_the_customer_typed(app: TestApp) {
    let path = survey_page(&app).await;
    let page = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; broken"),
        "{html}"
    );
    assert!(
        !html.contains("<script>"),
        "nothing the customer typed runs"
    );
}

async fn the_survey_form_saves_answers_and_escapes_the_comment(app: TestApp) {
    let path = survey_page(&app).await;
    let sent = post_form(
        &app,
        &path,
        "product=4&pleasantness=5&competence=5&recommend=10&comment=%3Cb%3Ethanks%3C%2Fb%3E",
    )
    .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let html = sent.text().await.unwrap();
    assert!(html.contains("your answers are saved"));
    assert!(html.contains("&lt;b&gt;thanks&lt;/b&gt;"));
    let token = path.rsplit('/').next().unwrap();
    let (_, s) = app.client("").survey(token).await;
    assert_eq!(
        (s["product"].as_u64(), s["recommend"].as_u64()),
        (Some(4), Some(10))
    );
}

async fn a_half_filled_survey_form_is_422(app: TestApp) {
    let path = survey_page(&app).await;
    let half = post_form(&app, &path, "product=4").await;
    assert_eq!(half.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn an_unknown_survey_page_is_404(app: TestApp) {
    let missing = app
        .http
        .get(format!("{}/survey/srv_nothing", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
