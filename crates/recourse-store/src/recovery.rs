//! The recovery area's reads: can't-help records and the review queue, the referral
//! directory, surveys by their link, abuse counts and the recovery report. The use
//! cases that change these rows (can't-help, transfer, referral, hand-off, surveys)
//! live in the desk (`recourse-desk/src/recovery.rs`) and write through `Tx`
//! (`tx_recovery.rs`).

use crate::rows::*;

use recourse_domain::CantHelpReason;
use recourse_domain::recovery::{Alternative, SurveyAnswer, ThirdParty};

pub(crate) const CANT_HELP_COLS: &str = "id, ticket_id, reason, explanation, partial_solution, justification, third_party_who, third_party_why, third_party_how, handoff_summary, state, review_note, message_id, created_at, reviewed_at";

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn cant_help_record(r: &Row) -> Result<crate::CantHelpRecord> {
    let who: Option<String> = r.try_get("third_party_who")?;
    Ok(crate::CantHelpRecord {
        id: r.try_get("id")?,
        ticket_id: TicketId(r.try_get("ticket_id")?),
        reason: CantHelpReason::parse(&r.try_get::<String, _>("reason")?).map_err(corrupt)?,
        explanation: r.try_get("explanation")?,
        partial_solution: r.try_get("partial_solution")?,
        justification: r.try_get("justification")?,
        third_party: match who {
            Some(who) => Some(ThirdParty {
                who,
                why_theirs: r
                    .try_get::<Option<String>, _>("third_party_why")?
                    .unwrap_or_default(),
                how_to_reach: r
                    .try_get::<Option<String>, _>("third_party_how")?
                    .unwrap_or_default(),
            }),
            None => None,
        },
        handoff_summary: r.try_get("handoff_summary")?,
        state: r.try_get("state")?,
        review_note: r.try_get("review_note")?,
        message_id: r.try_get::<Option<i64>, _>("message_id")?.map(MessageId),
        created_at: Millis(r.try_get("created_at")?),
        reviewed_at: r.try_get::<Option<i64>, _>("reviewed_at")?.map(Millis),
    })
}

pub(crate) fn alternative(r: &Row) -> Result<Alternative> {
    Ok(Alternative {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        serves: serde_json::from_str(&r.try_get::<String, _>("serves")?).map_err(corrupt)?,
        contact: r.try_get("contact")?,
        notes: r.try_get("notes")?,
        active: r.try_get("active")?,
    })
}

pub(crate) fn survey(r: &Row) -> Result<crate::Survey> {
    let product: Option<i64> = r.try_get("product")?;
    let answer = match product {
        Some(p) => Some(
            SurveyAnswer::parse(
                p,
                r.try_get("pleasantness")?,
                r.try_get("competence")?,
                r.try_get("recommend")?,
            )
            .map_err(corrupt)?,
        ),
        None => None,
    };
    Ok(crate::Survey {
        ticket_id: TicketId(r.try_get("ticket_id")?),
        ticket_number: r.try_get("number")?,
        subject: r.try_get("subject")?,
        customer_id: CustomerId(r.try_get("customer_id")?),
        created_at: Millis(r.try_get("created_at")?),
        answered_at: r.try_get::<Option<i64>, _>("answered_at")?.map(Millis),
        answer,
        comment: r.try_get("comment")?,
    })
}

pub(crate) const SURVEY_SELECT: &str = "SELECT s.ticket_id, t.number, t.subject, t.customer_id, s.created_at, s.answered_at, s.product, s.pleasantness, s.competence, s.recommend, s.comment FROM surveys s JOIN tickets t ON t.id = s.ticket_id";

/// The figures the report sums, in the order `report_population` returns them.
pub(crate) const POPULATION_FIGURES: [&str; 16] = [
    "ended",
    "inconsolable",
    "started_negative",
    "recovered",
    "transfers",
    "ping_pong",
    "first_responses",
    "first_response_ms",
    "resolution_ms",
    "sla_met",
    "survey_answers",
    "product_sum",
    "pleasantness_sum",
    "competence_sum",
    "promoters",
    "detractors",
];

pub(crate) fn population_rows(rows: &[Row]) -> Result<Vec<(Option<String>, [i64; 16])>> {
    rows.iter()
        .map(|r| {
            let mut v = [0i64; 16];
            for (x, name) in v.iter_mut().zip(POPULATION_FIGURES) {
                *x = r.try_get(name)?;
            }
            Ok((r.try_get("outcome")?, v))
        })
        .collect()
}

/// The ended tickets' figures for `[from, to)`, one row per outcome, in one
/// pass over the tickets themselves.
pub(crate) async fn report_population(
    store: &Store,
    from: i64,
    to: i64,
    team: Option<i64>,
) -> Result<Vec<(Option<String>, [i64; 16])>> {
    if from >= to {
        return Ok(Vec::new());
    }
    let conn = &mut store.reader();
    let rows = db::query(
        "SELECT t.outcome AS outcome, COUNT(*) AS ended,
            CAST(COALESCE(SUM(CASE WHEN t.outcome = 'inconsolable' THEN 1 ELSE 0 END), 0) AS BIGINT) AS inconsolable,
            CAST(COALESCE(SUM(CASE WHEN t.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END), 0) AS BIGINT) AS started_negative,
            CAST(COALESCE(SUM(CASE WHEN t.first_demeanor IN ('frustrated', 'angry', 'abusive') AND t.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END), 0) AS BIGINT) AS recovered,
            CAST(COALESCE(SUM(t.transfers), 0) AS BIGINT) AS transfers,
            CAST(COALESCE(SUM(CASE WHEN t.ping_pong THEN 1 ELSE 0 END), 0) AS BIGINT) AS ping_pong,
            CAST(COALESCE(SUM(CASE WHEN t.first_response_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS first_responses,
            CAST(COALESCE(SUM(t.first_response_at - t.created_at), 0) AS BIGINT) AS first_response_ms,
            CAST(COALESCE(SUM(t.ended_at - t.created_at), 0) AS BIGINT) AS resolution_ms,
            CAST(COALESCE(SUM(CASE WHEN t.sla_breached = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS sla_met,
            COUNT(v.ticket_id) AS survey_answers,
            CAST(COALESCE(SUM(v.product), 0) AS BIGINT) AS product_sum,
            CAST(COALESCE(SUM(v.pleasantness), 0) AS BIGINT) AS pleasantness_sum,
            CAST(COALESCE(SUM(v.competence), 0) AS BIGINT) AS competence_sum,
            CAST(COALESCE(SUM(CASE WHEN v.recommend >= 9 THEN 1 ELSE 0 END), 0) AS BIGINT) AS promoters,
            CAST(COALESCE(SUM(CASE WHEN v.recommend <= 6 THEN 1 ELSE 0 END), 0) AS BIGINT) AS detractors
         FROM tickets t LEFT JOIN surveys v ON v.ticket_id = t.id AND v.answered_at IS NOT NULL
         WHERE t.ended_at >= $1 AND t.ended_at < $2 AND ($3 IS NULL OR t.team_id = $3)
         GROUP BY t.outcome",
    )
    .bind(from)
    .bind(to)
    .bind(team)
    .fetch_all(&mut *conn)
    .await?;
    population_rows(&rows)
}

/// The same figures for whole UTC days `[first_day, last_day)`, from the daily
/// counts the database keeps as tickets end (`report_days`).
pub(crate) async fn report_population_by_day(
    store: &Store,
    first_day: i64,
    last_day: i64,
    team: Option<i64>,
) -> Result<Vec<(Option<String>, [i64; 16])>> {
    let conn = &mut store.reader();
    let rows = db::query(
        "SELECT NULLIF(outcome, '') AS outcome, CAST(SUM(ended) AS BIGINT) AS ended,
            CAST(SUM(inconsolable) AS BIGINT) AS inconsolable, CAST(SUM(started_negative) AS BIGINT) AS started_negative,
            CAST(SUM(recovered) AS BIGINT) AS recovered, CAST(SUM(transfers) AS BIGINT) AS transfers,
            CAST(SUM(ping_pong) AS BIGINT) AS ping_pong, CAST(SUM(first_responses) AS BIGINT) AS first_responses,
            CAST(SUM(first_response_ms) AS BIGINT) AS first_response_ms, CAST(SUM(resolution_ms) AS BIGINT) AS resolution_ms,
            CAST(SUM(sla_met) AS BIGINT) AS sla_met, CAST(SUM(survey_answers) AS BIGINT) AS survey_answers,
            CAST(SUM(product_sum) AS BIGINT) AS product_sum, CAST(SUM(pleasantness_sum) AS BIGINT) AS pleasantness_sum,
            CAST(SUM(competence_sum) AS BIGINT) AS competence_sum, CAST(SUM(promoters) AS BIGINT) AS promoters,
            CAST(SUM(detractors) AS BIGINT) AS detractors
         FROM report_days WHERE day >= $1 AND day < $2 AND ($3 IS NULL OR team_key = $3)
         GROUP BY outcome HAVING SUM(ended) <> 0",
    )
    .bind(first_day)
    .bind(last_day)
    .bind(team)
    .fetch_all(&mut *conn)
    .await?;
    population_rows(&rows)
}

impl Store {
    /// One ticket's can't-help records, or (with `None`) the pending review queue.
    pub async fn cant_help_records(
        &self,
        ticket: Option<TicketId>,
        limit: i64,
    ) -> Result<Vec<crate::CantHelpRecord>> {
        let rows = match ticket {
            Some(t) => db::query(format!("SELECT {CANT_HELP_COLS} FROM cant_help WHERE ticket_id = $1 ORDER BY id LIMIT $2"))
                .bind(t.0)
                .bind(limit)
                .fetch_all(self.reader())
                .await?,
            // The managers' review queue: oldest first, so nobody waits longest.
            None => db::query(format!("SELECT {CANT_HELP_COLS} FROM cant_help WHERE state = 'pending_review' ORDER BY id LIMIT $1"))
                .bind(limit)
                .fetch_all(self.reader())
                .await?,
        };
        rows.iter().map(cant_help_record).collect()
    }

    /// Creates (`id: None`) or replaces an alternative provider.
    pub async fn save_alternative(
        &self,
        id: Option<i64>,
        a: crate::NewAlternative,
        now: Millis,
    ) -> Result<Alternative> {
        let serves: Vec<String> = a.serves.iter().map(|t| t.as_str().to_owned()).collect();
        let serves = decode::tags_json(&serves);
        let row = match id {
            None => db::query("INSERT INTO alternatives (name, serves, contact, notes, active, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, name, serves, contact, notes, active")
                .bind(&a.name)
                .bind(&serves)
                .bind(&a.contact)
                .bind(&a.notes)
                .bind(a.active)
                .bind(now.0)
                .fetch_one(self.writer())
                .await?,
            Some(id) => db::query("UPDATE alternatives SET name = $1, serves = $2, contact = $3, notes = $4, active = $5 WHERE id = $6 RETURNING id, name, serves, contact, notes, active")
                .bind(&a.name)
                .bind(&serves)
                .bind(&a.contact)
                .bind(&a.notes)
                .bind(a.active)
                .bind(id)
                .fetch_optional(self.writer())
                .await?
                .ok_or(StoreError::NotFound("alternative"))?,
        };
        alternative(&row)
    }

    pub async fn alternatives(&self) -> Result<Vec<Alternative>> {
        let rows = db::query(
            "SELECT id, name, serves, contact, notes, active FROM alternatives ORDER BY id",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(alternative).collect()
    }

    /// How many of the customer's messages read as abusive.
    pub async fn abuse_count(&self, customer: CustomerId) -> Result<i64> {
        db::query_scalar(
            "SELECT COUNT(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.customer_id = $1 AND m.demeanor = 'abusive'",
        )
        .bind(customer.0)
        .fetch_one(self.reader())
        .await
    }

    pub async fn survey_by_token(&self, token_hash: &str) -> Result<Option<crate::Survey>> {
        let row = db::query(format!("{SURVEY_SELECT} WHERE s.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(survey).transpose()
    }

    pub async fn report_summary(&self, q: &crate::ReportQuery) -> Result<crate::ReportSummary> {
        let team = q.team.map(|t| t.0);
        // `ended` tickets in the range (with their surveys) make up the population;
        // a team narrows it. The population is the big part. Whole UTC days inside the range come
        // from the daily counts; only the partial days at its edges are read
        // ticket by ticket (the three at once, on three reader connections).
        const DAY: i64 = 86_400_000;
        let first_day = q.from.0.div_euclid(DAY) + i64::from(q.from.0.rem_euclid(DAY) != 0);
        let last_day = q.to.0.div_euclid(DAY);
        let parts: Vec<(Option<String>, [i64; 16])> = if first_day < last_day {
            let (days, head, tail) = tokio::try_join!(
                report_population_by_day(self, first_day, last_day, team),
                report_population(self, q.from.0, first_day * DAY, team),
                report_population(self, last_day * DAY, q.to.0, team),
            )?;
            days.into_iter().chain(head).chain(tail).collect()
        } else {
            report_population(self, q.from.0, q.to.0, team).await?
        };
        let mut sums = [0i64; 16];
        let mut outcomes = std::collections::BTreeMap::<String, i64>::new();
        for (outcome, v) in parts {
            for (total, x) in sums.iter_mut().zip(v) {
                *total += x;
            }
            if let Some(o) = outcome {
                *outcomes.entry(o).or_default() += v[0];
            }
        }
        let mut s = crate::ReportSummary {
            ended: sums[0],
            inconsolable: sums[1],
            started_negative: sums[2],
            recovered: sums[3],
            transfers: sums[4],
            ping_pong: sums[5],
            first_responses: sums[6],
            first_response_ms_sum: sums[7],
            resolution_ms_sum: sums[8],
            sla_met: sums[9],
            survey_answers: sums[10],
            product_sum: sums[11],
            pleasantness_sum: sums[12],
            competence_sum: sums[13],
            promoters: sums[14],
            detractors: sums[15],
            outcomes: outcomes.into_iter().collect(),
            ..Default::default()
        };
        let conn = &mut self.reader();
        // Escalations are counted when they happen, by rung and reason only.
        s.escalations = db::query_as(
            "SELECT e.to_rung, e.reason, COUNT(*) FROM escalations e JOIN tickets t ON t.id = e.ticket_id
             WHERE e.direction = 'up' AND e.at >= $1 AND e.at < $2 AND ($3 IS NULL OR t.team_id = $3)
             GROUP BY e.to_rung, e.reason ORDER BY e.to_rung, e.reason",
        )
        .bind(q.from.0)
        .bind(q.to.0)
        .bind(team)
        .fetch_all(&mut *conn)
        .await?;
        let (referrals, returned): (i64, i64) = db::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN EXISTS (
                    SELECT 1 FROM tickets n WHERE n.customer_id = r.customer_id AND n.created_at > r.at) THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM referrals r JOIN tickets t ON t.id = r.ticket_id
             WHERE r.at >= $1 AND r.at < $2 AND ($3 IS NULL OR t.team_id = $3)",
        )
        .bind(q.from.0)
        .bind(q.to.0)
        .bind(team)
        .fetch_one(&mut *conn)
        .await?;
        s.referrals = referrals;
        s.returned_after_referral = returned;
        Ok(s)
    }
}
