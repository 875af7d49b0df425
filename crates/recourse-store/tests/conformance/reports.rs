//! The report over a known population of ended tickets.

use recourse_domain::Millis;
use recourse_store::ReportQuery;

use crate::harness::*;

on_both! {
    every_figure_of_the_report_is_exact_over_a_known_population,
    a_team_filter_halves_the_report_and_an_empty_range_counts_nothing,
    ranges_that_cut_through_a_day_add_up_whichever_way_they_are_cut,
    the_daily_counts_follow_a_reopened_ticket_and_one_that_ends_again_elsewhere,
    surveys_answered_or_changed_after_their_ticket_ended_count_where_it_ended,
}

/// A known population of 1,000 ended tickets, written directly (half of them the Billing
/// team's), and the query over all of it.
struct Population {
    team: recourse_domain::Team,
    t0: i64,
    whole: ReportQuery,
    answers: i64,
    product: i64,
    promoters: i64,
    detractors: i64,
}

async fn population(db: &TestDb) -> Population {
    let s = &db.store;
    let team = s.create_team("Billing").await.unwrap();
    let t0 = at("2026-10-01T00:00:00Z").0;
    let mut sql = String::from("INSERT INTO customers (id, email, created_at) VALUES ");
    sql.push_str(
        &(1..=1000)
            .map(|c| format!("({c}, 'c{c}@example.com', {t0})"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    db.raw_execute(&sql).await.unwrap();
    let mut rows = Vec::new();
    for i in 0..1000i64 {
        let ended = t0 + 86_400_000 + i * 60_000;
        let created = ended - 3_600_000;
        let outcome = match i {
            0..20 => "inconsolable",
            20..60 => "referred",
            60..160 => "explained",
            _ => "resolved",
        };
        let first = match i % 10 {
            0 => "'angry'",
            1 => "'frustrated'",
            _ => "'neutral'",
        };
        let last = if i % 40 <= 1 { "'pleased'" } else { first };
        rows.push(format!(
            "({id}, {number}, 'T{i}', 'closed', 'normal', 'frontline', {customer}, '[]', {created}, {ended}, {outcome}, {team_id}, {first}, {last}, {transfers}, {ping}, {breached}, {fr}, {ended})",
            id = i + 1,
            number = 2000 + i,
            customer = i + 1,
            outcome = format_args!("'{outcome}'"),
            team_id = if i < 500 { team.id.0.to_string() } else { "NULL".into() },
            transfers = if i % 4 == 0 { 1 } else { 0 },
            ping = if i % 100 == 0 { "TRUE" } else { "FALSE" },
            breached = if i % 25 == 0 { 1 } else { 0 },
            fr = created + 600_000,
        ));
    }
    // A return visit after a referral, for ten of the forty referred customers.
    for i in 20..30i64 {
        rows.push(format!(
            "({id}, {number}, 'Back again', 'open', 'normal', 'frontline', {customer}, '[]', {created}, NULL, NULL, NULL, NULL, NULL, 0, FALSE, 0, NULL, {created})",
            id = 2000 + i,
            number = 5000 + i,
            customer = i + 1,
            created = t0 + 40 * 86_400_000,
        ));
    }
    db.raw_execute(&format!(
        "INSERT INTO tickets (id, number, subject, status, priority, rung, customer_id, tags, created_at, ended_at, outcome, team_id, first_demeanor, last_demeanor, transfers, ping_pong, sla_breached, first_response_at, updated_at) VALUES {}",
        rows.join(", ")
    ))
    .await
    .unwrap();
    let in_range = t0 + 86_400_000;
    let mut esc = Vec::new();
    for k in 0..45i64 {
        let (dir, to, reason) = match k {
            0..30 => ("up", "experienced", "'agent_request'"),
            30..40 => ("up", "manager", "'abuse'"),
            _ => ("down", "frontline", "NULL"),
        };
        esc.push(format!(
            "({}, '{dir}', 'frontline', '{to}', {reason}, {})",
            k + 1,
            in_range + k
        ));
    }
    esc.push(format!(
        "(1, 'up', 'frontline', 'experienced', 'sla_breach', {})",
        t0 - 1
    ));
    db.raw_execute(&format!(
        "INSERT INTO escalations (ticket_id, direction, from_rung, to_rung, reason, at) VALUES {}",
        esc.join(", ")
    ))
    .await
    .unwrap();
    db.raw_execute(&format!("INSERT INTO alternatives (id, name, serves, contact, notes, active, created_at) VALUES (1, 'Elsewhere', '[]', 'x', '', TRUE, {t0})"))
        .await
        .unwrap();
    let refs: Vec<String> = (20..60i64)
        .map(|i| {
            format!(
                "({}, {}, 1, {})",
                i + 1,
                i + 1,
                t0 + 86_400_000 + i * 60_000
            )
        })
        .collect();
    db.raw_execute(&format!(
        "INSERT INTO referrals (ticket_id, customer_id, alternative_id, at) VALUES {}",
        refs.join(", ")
    ))
    .await
    .unwrap();
    // Surveys on every tenth ticket from 5: product 1–5, pleasantness 5, competence 4,
    // recommend cycling 0..=10.
    let mut surveys = Vec::new();
    let (mut product, mut promoters, mut detractors, mut answers) = (0, 0, 0, 0);
    for (n, i) in (5..1000i64).step_by(10).enumerate() {
        let n = n as i64;
        let (p, r) = (1 + n % 5, n % 11);
        product += p;
        answers += 1;
        promoters += i64::from(r >= 9);
        detractors += i64::from(r <= 6);
        surveys.push(format!("({}, 'tok{i}', {t0}, {t0}, {p}, 5, 4, {r})", i + 1));
    }
    db.raw_execute(&format!("INSERT INTO surveys (ticket_id, token_hash, created_at, answered_at, product, pleasantness, competence, recommend) VALUES {}", surveys.join(", ")))
        .await
        .unwrap();

    let whole = ReportQuery {
        from: Millis(t0),
        to: Millis(t0 + 30 * 86_400_000),
        team: None,
    };
    Population {
        team,
        t0,
        whole,
        answers,
        product,
        promoters,
        detractors,
    }
}

async fn every_figure_of_the_report_is_exact_over_a_known_population(db: &TestDb) {
    let s = &db.store;
    let Population {
        whole,
        answers,
        product,
        promoters,
        detractors,
        ..
    } = population(db).await;
    let r = s.report_summary(&whole).await.unwrap();
    assert_eq!(r.ended, 1000);
    assert_eq!(r.inconsolable, 20, "2% of 1,000");
    assert_eq!(
        r.outcomes,
        vec![
            ("explained".into(), 100),
            ("inconsolable".into(), 20),
            ("referred".into(), 40),
            ("resolved".into(), 840)
        ]
    );
    assert_eq!((r.started_negative, r.recovered), (200, 50));
    assert_eq!(
        r.escalations,
        vec![
            ("experienced".into(), "agent_request".into(), 30),
            ("manager".into(), "abuse".into(), 10)
        ]
    );
    assert_eq!((r.transfers, r.ping_pong), (250, 10));
    assert_eq!((r.referrals, r.returned_after_referral), (40, 10));
    assert_eq!(
        (
            r.survey_answers,
            r.product_sum,
            r.pleasantness_sum,
            r.competence_sum
        ),
        (answers, product, 5 * answers, 4 * answers)
    );
    assert_eq!(
        (r.survey_answers, r.promoters, r.detractors),
        (100, promoters, detractors)
    );
    assert_eq!(
        (r.first_responses, r.first_response_ms_sum),
        (1000, 1000 * 600_000)
    );
    assert_eq!(r.resolution_ms_sum, 1000 * 3_600_000);
    assert_eq!(r.sla_met, 960);
}

async fn a_team_filter_halves_the_report_and_an_empty_range_counts_nothing(db: &TestDb) {
    let s = &db.store;
    let Population {
        team, t0, whole, ..
    } = population(db).await;
    // The team's half, and an empty range.
    let billing = s
        .report_summary(&ReportQuery {
            team: Some(team.id),
            ..whole
        })
        .await
        .unwrap();
    assert_eq!(
        (billing.ended, billing.inconsolable, billing.transfers),
        (500, 20, 125)
    );
    let none = s
        .report_summary(&ReportQuery {
            from: Millis(t0 + 31 * 86_400_000),
            to: Millis(t0 + 32 * 86_400_000),
            team: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (none.ended, none.referrals, none.escalations.len()),
        (0, 0, 0)
    );
}

async fn ranges_that_cut_through_a_day_add_up_whichever_way_they_are_cut(db: &TestDb) {
    let s = &db.store;
    let Population {
        t0,
        whole,
        promoters: _,
        ..
    } = population(db).await;
    let r = s.report_summary(&whole).await.unwrap();
    // Whole days come from the daily counts, partial days from the tickets: ranges that
    // cut through the day the tickets ended on add up, whichever way they are cut.
    let day1 = t0 + 86_400_000;
    let range = |from: i64, to: i64| ReportQuery {
        from: Millis(from),
        to: Millis(to),
        team: None,
    };
    let head = s
        .report_summary(&range(t0, day1 + 500 * 60_000))
        .await
        .unwrap();
    let tail = s
        .report_summary(&range(day1 + 500 * 60_000, t0 + 30 * 86_400_000))
        .await
        .unwrap();
    assert_eq!((head.ended, tail.ended), (500, 500));
    assert_eq!(
        (
            head.transfers + tail.transfers,
            head.recovered + tail.recovered,
            head.resolution_ms_sum + tail.resolution_ms_sum
        ),
        (r.transfers, r.recovered, r.resolution_ms_sum)
    );
    assert_eq!(
        (
            head.survey_answers + tail.survey_answers,
            head.product_sum + tail.product_sum,
            head.promoters + tail.promoters
        ),
        (r.survey_answers, r.product_sum, r.promoters)
    );
    let inside = s
        .report_summary(&range(day1 + 100 * 60_000, t0 + 3 * 86_400_000))
        .await
        .unwrap();
    assert_eq!((inside.ended, inside.inconsolable), (900, 0));
}

async fn the_daily_counts_follow_a_reopened_ticket_and_one_that_ends_again_elsewhere(db: &TestDb) {
    let s = &db.store;
    let Population {
        t0,
        whole,
        product: _,
        detractors: _,
        ..
    } = population(db).await;
    let r = s.report_summary(&whole).await.unwrap();
    let day1 = t0 + 86_400_000;
    let range = |from: i64, to: i64| ReportQuery {
        from: Millis(from),
        to: Millis(to),
        team: None,
    };
    // The daily counts follow a ticket that is reopened, and one that ends again on
    // another day with another outcome, taking its survey along (ticket 995's: product
    // 5, recommend 0).
    let last = day1 + 995 * 60_000;
    db.raw_execute(&format!(
        "UPDATE tickets SET ended_at = NULL, outcome = NULL, status = 'open' WHERE ended_at = {last}"
    ))
    .await
    .unwrap();
    let reopened = s.report_summary(&whole).await.unwrap();
    assert_eq!(reopened.ended, 999);
    assert_eq!(reopened.outcomes[3], ("resolved".into(), 839));
    assert_eq!(
        (
            reopened.survey_answers,
            reopened.product_sum,
            reopened.detractors
        ),
        (r.survey_answers - 1, r.product_sum - 5, r.detractors - 1)
    );
    let later = t0 + 5 * 86_400_000;
    db.raw_execute(&format!(
        "UPDATE tickets SET ended_at = {later}, outcome = 'explained', status = 'closed' WHERE ended_at IS NULL AND created_at = {}",
        last - 3_600_000
    ))
    .await
    .unwrap();
    let again = s.report_summary(&whole).await.unwrap();
    assert_eq!(
        (
            again.ended,
            again.outcomes[0].clone(),
            again.outcomes[3].clone()
        ),
        (1000, ("explained".into(), 101), ("resolved".into(), 839))
    );
    assert_eq!(
        again.resolution_ms_sum,
        r.resolution_ms_sum - 3_600_000 + (later - (last - 3_600_000))
    );
    assert_eq!(
        (again.survey_answers, again.product_sum, again.detractors),
        (r.survey_answers, r.product_sum, r.detractors)
    );
    let day5 = s
        .report_summary(&range(later - 1, later + 1))
        .await
        .unwrap();
    assert_eq!((day5.ended, day5.survey_answers), (1, 1));
}

/// After ticket 995 was reopened and ended again four days later (its survey with it).
async fn surveys_answered_or_changed_after_their_ticket_ended_count_where_it_ended(db: &TestDb) {
    let s = &db.store;
    let Population {
        t0,
        whole,
        promoters: _,
        ..
    } = population(db).await;
    let r = s.report_summary(&whole).await.unwrap();
    let day1 = t0 + 86_400_000;
    let range = |from: i64, to: i64| ReportQuery {
        from: Millis(from),
        to: Millis(to),
        team: None,
    };
    let last = day1 + 995 * 60_000;
    db.raw_execute(&format!(
        "UPDATE tickets SET ended_at = NULL, outcome = NULL, status = 'open' WHERE ended_at = {last}"
    ))
    .await
    .unwrap();
    let later = t0 + 5 * 86_400_000;
    db.raw_execute(&format!(
        "UPDATE tickets SET ended_at = {later}, outcome = 'explained', status = 'closed' WHERE ended_at IS NULL AND created_at = {}",
        last - 3_600_000
    ))
    .await
    .unwrap();
    // Surveys answered, or changed, after their ticket ended count where it ended.
    db.raw_execute(&format!(
        "INSERT INTO surveys (ticket_id, token_hash, created_at) VALUES (1, 'tok-late', {t0})"
    ))
    .await
    .unwrap();
    assert_eq!(
        s.report_summary(&whole).await.unwrap().survey_answers,
        r.survey_answers,
        "not answered yet"
    );
    db.raw_execute(&format!(
        "UPDATE surveys SET answered_at = {later}, product = 4, pleasantness = 5, competence = 4, recommend = 10 WHERE ticket_id = 1"
    ))
    .await
    .unwrap();
    db.raw_execute("UPDATE surveys SET product = product + 1 WHERE ticket_id = 6")
        .await
        .unwrap();
    let answered = s.report_summary(&whole).await.unwrap();
    assert_eq!(
        (
            answered.survey_answers,
            answered.product_sum,
            answered.promoters
        ),
        (r.survey_answers + 1, r.product_sum + 5, r.promoters + 1)
    );
    let day1_report = s
        .report_summary(&range(day1, day1 + 86_400_000))
        .await
        .unwrap();
    assert_eq!(day1_report.survey_answers, r.survey_answers);
}
