//! The summary report: managers only; it counts what happened.

use crate::harness::*;
use crate::recovery::{desk, everything};

on_both!(
    agents_cannot_read_the_report,
    a_report_time_that_is_not_a_time_is_400,
    the_report_counts_endings_referrals_and_ping_pong,
    the_report_puts_inconsolable_against_its_reference,
    the_report_sums_up_the_surveys,
    the_report_names_no_agent_in_escalations,
);

async fn agents_cannot_read_the_report(app: TestApp) {
    let d = desk(&app).await;
    assert_eq!(
        app.client(&d.jo).report_summary("").await.0,
        StatusCode::FORBIDDEN
    );
}

async fn a_report_time_that_is_not_a_time_is_400(app: TestApp) {
    let d = desk(&app).await;
    let (status, err) = app.client(&d.mia).report_summary("from=yesterday").await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::BAD_REQUEST, Some("invalid_time"))
    );
}

/// The report after the whole recovery story.
async fn report(app: &TestApp) -> Value {
    let d = desk(app).await;
    everything(app, &d).await;
    let (status, r) = app.client(&d.mia).report_summary("").await;
    assert_eq!(status, StatusCode::OK, "{r}");
    r
}

async fn the_report_counts_endings_referrals_and_ping_pong(app: TestApp) {
    let r = report(&app).await;
    assert_eq!(r["ended"].as_i64(), Some(4), "{r}");
    assert_eq!(
        (
            r["inconsolable"].as_i64(),
            r["referrals"].as_i64(),
            r["ping_pong"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
}

async fn the_report_puts_inconsolable_against_its_reference(app: TestApp) {
    let r = report(&app).await;
    assert_eq!(r["inconsolable_share"].as_f64(), Some(0.25));
    assert_eq!(r["inconsolable_reference"].as_f64(), Some(0.02));
}

async fn the_report_sums_up_the_surveys(app: TestApp) {
    let r = report(&app).await;
    assert_eq!(
        (
            r["survey_answers"].as_i64(),
            r["product_satisfaction"].as_f64(),
            r["service_satisfaction"].as_f64(),
            r["nps"].as_f64()
        ),
        (Some(1), Some(2.0), Some(4.5), Some(100.0))
    );
}

async fn the_report_names_no_agent_in_escalations(app: TestApp) {
    let r = report(&app).await;
    assert!(
        r["escalations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("agent").is_none() && e.get("agent_id").is_none())
    );
}
