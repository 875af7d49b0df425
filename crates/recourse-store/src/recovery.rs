//! The SQL for when the desk cannot help (can't-help and its review, transfers and
//! ping-pong, referrals, agent protection, surveys) and the recovery report. Expanded
//! inside `impl_store!`'s `shared` module, beside `ladder_sql!`, whose helpers it uses.

use crate::rows::*;

use recourse_domain::recovery::{
    Alternative, CantHelp, SurveyAnswer, ThirdParty, cant_help_message, is_ping_pong,
};
use recourse_domain::{CantHelpReason, LadderError, MessageKind, Outcome, Status};

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

pub(crate) async fn customer_name(conn: &mut impl Db, t: &Ticket) -> Result<Option<String>> {
    db::query_scalar("SELECT name FROM customers WHERE id = $1")
        .bind(t.customer_id.0)
        .fetch_one(&mut *conn)
        .await
}

/// Sends `text` to the customer and ends the ticket with `outcome` (resolved
/// for explanations, closed for referrals), in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn tell_and_end(
    conn: &mut impl Db,
    cfg: &DeskConfig,
    before: &Ticket,
    text: &str,
    status: Status,
    outcome: Outcome,
    mut extra: Vec<EventKind>,
    channel: recourse_domain::Channel,
    actor: Actor,
    now: Millis,
) -> Result<(Ticket, MessageId)> {
    let message_id = insert_message(
        conn,
        before.id,
        MessageKind::Reply,
        channel,
        actor,
        text,
        None,
        now,
    )
    .await?;
    insert_event(
        conn,
        Some(before.id),
        actor,
        &EventKind::MessageAdded {
            message_id,
            kind: MessageKind::Reply,
        },
        now,
    )
    .await?;
    let change = TicketChange {
        status: Some(status),
        outcome: Some(outcome),
        ..TicketChange::default()
    };
    let (mut after, mut events) = apply_change(before, &change, now)?;
    after.review_pending = false;
    after.updated_at = now;
    advance_sla(cfg, before, &mut after, SlaEvent::AgentReplied, now);
    note_response(&mut after, MessageKind::Reply, now);
    events.append(&mut extra);
    save_ticket(conn, cfg, before, &after, &events, actor, now).await?;
    set_review_pending(conn, before.id, false).await?;
    Ok((after, message_id))
}

pub(crate) async fn set_review_pending(conn: &mut impl Db, id: TicketId, on: bool) -> Result<()> {
    db::query("UPDATE tickets SET review_pending = $1 WHERE id = $2")
        .bind(on)
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
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
    /// Records a can't-help: with a partial solution the customer is told and the ticket
    /// resolves (outcome `explained`); without one it waits in the managers' review queue.
    pub async fn cant_help(
        &self,
        r: crate::CantHelpRequest,
    ) -> Result<(Ticket, crate::CantHelpRecord)> {
        let mut tx = self.begin().await?;
        let cfg = load_config(&mut tx).await?;
        let before = lock_ticket(&mut tx, r.ticket_id).await?;
        if !before.status.is_active() {
            return Err(LadderError::NotActive(before.status).into());
        }
        let c: &CantHelp = &r.cant_help;
        let (after, message_id, state) = if c.needs_review() {
            // Nothing offered: a manager looks before the customer hears "no".
            let mut after = before.clone();
            after.review_pending = true;
            after.updated_at = r.now;
            let ev = EventKind::CantHelp {
                reason: c.reason,
                needs_review: true,
                message_id: None,
            };
            save_ticket(&mut tx, &cfg, &before, &after, &[ev], r.actor, r.now).await?;
            set_review_pending(&mut tx, before.id, true).await?;
            (after, None, "pending_review")
        } else {
            let name = customer_name(&mut tx, &before).await?;
            let text = cant_help_message(c, name.as_deref());
            let (after, mid) = tell_and_end(
                &mut tx,
                &cfg,
                &before,
                &text,
                Status::Resolved,
                Outcome::Explained,
                vec![],
                r.channel,
                r.actor,
                r.now,
            )
            .await?;
            insert_event(
                &mut tx,
                Some(before.id),
                r.actor,
                &EventKind::CantHelp {
                    reason: c.reason,
                    needs_review: false,
                    message_id: Some(mid),
                },
                r.now,
            )
            .await?;
            (after, Some(mid), "sent")
        };
        let tp = c.third_party.as_ref();
        let row = db::query(format!(
            "INSERT INTO cant_help (ticket_id, reason, explanation, partial_solution, justification, third_party_who, third_party_why, third_party_how, handoff_summary, state, message_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {CANT_HELP_COLS}"
        ))
        .bind(before.id.0)
        .bind(c.reason.as_str())
        .bind(&c.explanation)
        .bind(&c.partial_solution)
        .bind(&c.no_partial_justification)
        .bind(tp.map(|t| t.who.clone()))
        .bind(tp.map(|t| t.why_theirs.clone()))
        .bind(tp.map(|t| t.how_to_reach.clone()))
        .bind(&c.handoff_summary)
        .bind(state)
        .bind(message_id.map(|m| m.0))
        .bind(r.now.0)
        .fetch_one(&mut tx)
        .await?;
        let record = cant_help_record(&row)?;
        tx.commit().await?;
        Ok((after, record))
    }

    pub async fn review_cant_help(
        &self,
        r: crate::CantHelpReview,
    ) -> Result<(Ticket, crate::CantHelpRecord)> {
        let mut tx = self.begin().await?;
        let cfg = load_config(&mut tx).await?;
        let before = lock_ticket(&mut tx, r.ticket_id).await?;
        let row = db::query(format!(
            "SELECT {CANT_HELP_COLS} FROM cant_help WHERE ticket_id = $1 AND state = 'pending_review' ORDER BY id DESC LIMIT 1"
        ))
        .bind(before.id.0)
        .fetch_optional(&mut tx)
        .await?
        .ok_or(StoreError::NotFound("can't-help waiting for review"))?;
        let mut record = cant_help_record(&row)?;
        let note = r
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let partial = r
            .partial_solution
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let (after, message_id, state) = if r.approve {
            let c = CantHelp {
                reason: record.reason,
                explanation: record.explanation.clone(),
                partial_solution: partial.clone().or(record.partial_solution.clone()),
                no_partial_justification: record.justification.clone(),
                third_party: record.third_party.clone(),
                handoff_summary: record.handoff_summary.clone(),
            };
            let name = customer_name(&mut tx, &before).await?;
            let text = cant_help_message(&c, name.as_deref());
            let (after, mid) = tell_and_end(
                &mut tx,
                &cfg,
                &before,
                &text,
                Status::Resolved,
                Outcome::Explained,
                vec![],
                r.channel,
                r.actor,
                r.now,
            )
            .await?;
            (after, Some(mid), "approved")
        } else {
            let mut after = before.clone();
            after.review_pending = false;
            after.updated_at = r.now;
            save_ticket(&mut tx, &cfg, &before, &after, &[], r.actor, r.now).await?;
            set_review_pending(&mut tx, before.id, false).await?;
            (after, None, "returned")
        };
        insert_event(
            &mut tx,
            Some(before.id),
            r.actor,
            &EventKind::CantHelpReviewed {
                approved: r.approve,
                message_id,
            },
            r.now,
        )
        .await?;
        db::query("UPDATE cant_help SET state = $1, review_note = $2, reviewed_at = $3, message_id = COALESCE($4, message_id), partial_solution = COALESCE($5, partial_solution) WHERE id = $6")
            .bind(state)
            .bind(&note)
            .bind(r.now.0)
            .bind(message_id.map(|m| m.0))
            .bind(&partial)
            .bind(record.id)
            .execute(&mut tx)
            .await?;
        if let Some(n) = &note {
            // The reviewer's note reaches the agent as an internal note on the ticket.
            let id = insert_message(
                &mut tx,
                before.id,
                MessageKind::Note,
                r.channel,
                r.actor,
                n,
                None,
                r.now,
            )
            .await?;
            insert_event(
                &mut tx,
                Some(before.id),
                r.actor,
                &EventKind::MessageAdded {
                    message_id: id,
                    kind: MessageKind::Note,
                },
                r.now,
            )
            .await?;
        }
        tx.commit().await?;
        record.state = state.to_owned();
        record.review_note = note;
        record.reviewed_at = Some(r.now);
        record.message_id = message_id.or(record.message_id);
        if partial.is_some() {
            record.partial_solution = partial;
        }
        Ok((after, record))
    }

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

    pub async fn transfer(&self, r: crate::TransferRequest) -> Result<Ticket> {
        let mut tx = self.begin().await?;
        let cfg = load_config(&mut tx).await?;
        let before = lock_ticket(&mut tx, r.ticket_id).await?;
        if !before.status.is_active() {
            return Err(LadderError::NotActive(before.status).into());
        }
        let mut after = before.clone();
        if let Some(rung) = &r.to_rung {
            let rung = cfg
                .ladder
                .get(rung)
                .ok_or_else(|| LadderError::UnknownRung(rung.clone()))?;
            after.rung = rung.name.clone();
            if r.to_agent.is_none() {
                let pool = candidates(&mut tx).await?;
                after.assignee_id = choose_assignee(
                    rung,
                    &before.tags,
                    before.needs_experience,
                    before.assignee_id,
                    &pool,
                );
            }
        }
        if let Some(agent) = r.to_agent {
            let who = agent_in(&mut tx, agent)
                .await
                .map_err(|_| StoreError::NotFound("assignee"))?;
            if !who.active {
                return Err(StoreError::NotFound("assignee"));
            }
            after.assignee_id = Some(agent);
        }
        if let Some(team) = r.to_team {
            let found: Option<i64> = db::query_scalar("SELECT id FROM teams WHERE id = $1")
                .bind(team.0)
                .fetch_optional(&mut tx)
                .await?;
            found.ok_or(StoreError::NotFound("team"))?;
            after.team_id = Some(team);
            db::query("UPDATE tickets SET team_id = $1 WHERE id = $2")
                .bind(team.0)
                .bind(before.id.0)
                .execute(&mut tx)
                .await?;
        }
        let since: i64 =
            db::query_scalar("SELECT transfers_since_reply FROM tickets WHERE id = $1")
                .bind(before.id.0)
                .fetch_one(&mut tx)
                .await?;
        // The line to the customer is a message like any reply, but it answers
        // nothing, so it does not end a run of transfers.
        let message_id = insert_message(
            &mut tx,
            before.id,
            MessageKind::Reply,
            r.channel,
            r.actor,
            &r.customer_message,
            None,
            r.now,
        )
        .await?;
        insert_event(
            &mut tx,
            Some(before.id),
            r.actor,
            &EventKind::MessageAdded {
                message_id,
                kind: MessageKind::Reply,
            },
            r.now,
        )
        .await?;
        let since = since + 1;
        let flag = is_ping_pong(since, cfg.rules.ping_pong_after);
        let mut events = vec![EventKind::Transferred {
            to_agent: r.to_agent,
            to_team: r.to_team,
            message_id,
        }];
        if after.assignee_id != before.assignee_id {
            events.push(EventKind::AssigneeChanged {
                from: before.assignee_id,
                to: after.assignee_id,
            });
        }
        if flag && !before.ping_pong {
            events.push(EventKind::PingPongFlagged {
                transfers_since_reply: since,
            });
            after.ping_pong = true;
        }
        after.updated_at = r.now;
        let change = message_change(&before, MessageKind::Reply, None)?;
        let (with_status, mut status_events) = apply_change(&after, &change, r.now)?;
        let mut after = with_status;
        events.append(&mut status_events);
        note_response(&mut after, MessageKind::Reply, r.now);
        save_ticket(&mut tx, &cfg, &before, &after, &events, r.actor, r.now).await?;
        db::query("UPDATE tickets SET transfers = transfers + 1, transfers_since_reply = $1, ping_pong = $2 WHERE id = $3")
            .bind(since)
            .bind(after.ping_pong)
            .bind(before.id.0)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(after)
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

    pub async fn refer(&self, r: crate::ReferralRequest) -> Result<Ticket> {
        let mut tx = self.begin().await?;
        let cfg = load_config(&mut tx).await?;
        let before = lock_ticket(&mut tx, r.ticket_id).await?;
        if !before.status.is_active() {
            return Err(LadderError::NotActive(before.status).into());
        }
        // The last stand belongs to the top rung (P10).
        if cfg.ladder.position(&before.rung) + 1 != cfg.ladder.rungs().len() {
            return Err(StoreError::Conflict(format!(
                "A referral is made from the top rung (`{}`); escalate the ticket there first",
                cfg.ladder.top().name
            )));
        }
        let row = db::query(
            "SELECT id, name, serves, contact, notes, active FROM alternatives WHERE id = $1",
        )
        .bind(r.alternative_id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or(StoreError::NotFound("alternative"))?;
        let alt = alternative(&row)?;
        if !alt.active {
            return Err(StoreError::NotFound("alternative"));
        }
        let text = match r.message {
            Some(m) => m,
            None => {
                let t = load_template(&mut tx, "referral").await?;
                let name = customer_name(&mut tx, &before).await?;
                t.render(|var| match var {
                    "customer_name" => name.clone().unwrap_or_else(|| "there".into()),
                    "ticket_number" => before.number.to_string(),
                    "subject" => before.subject.clone(),
                    "alternative_name" => alt.name.clone(),
                    "alternative_serves" => alt.serves.join(", "),
                    "alternative_contact" => alt.contact.clone(),
                    "reason" => r.reason.trim().to_owned(),
                    "agent_name" => r
                        .agent_name
                        .clone()
                        .unwrap_or_else(|| "The support team".into()),
                    _ => String::new(),
                })
            }
        };
        let (after, message_id) = tell_and_end(
            &mut tx,
            &cfg,
            &before,
            &text,
            Status::Closed,
            Outcome::Referred,
            vec![],
            r.channel,
            r.actor,
            r.now,
        )
        .await?;
        insert_event(
            &mut tx,
            Some(before.id),
            r.actor,
            &EventKind::Referred {
                alternative_id: alt.id,
                message_id,
            },
            r.now,
        )
        .await?;
        db::query("INSERT INTO referrals (ticket_id, customer_id, alternative_id, message_id, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(before.id.0)
            .bind(before.customer_id.0)
            .bind(alt.id)
            .bind(message_id.0)
            .bind(r.now.0)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The holder of a ticket passes it on, no reason asked (after abuse, P8).
    pub async fn hand_off(&self, ticket: TicketId, agent: AgentId, now: Millis) -> Result<Ticket> {
        let mut tx = self.begin().await?;
        let cfg = load_config(&mut tx).await?;
        let before = lock_ticket(&mut tx, ticket).await?;
        if before.assignee_id != Some(agent) {
            return Err(StoreError::Conflict(
                "Only the agent who holds a ticket can hand it off".into(),
            ));
        }
        let rung = cfg
            .ladder
            .get(&before.rung)
            .unwrap_or(cfg.ladder.first())
            .clone();
        let pool = candidates(&mut tx).await?;
        let to = choose_assignee(
            &rung,
            &before.tags,
            before.needs_experience,
            Some(agent),
            &pool,
        );
        let mut after = before.clone();
        after.assignee_id = to;
        after.updated_at = now;
        let events = [
            EventKind::HandedOff { from: agent, to },
            EventKind::AssigneeChanged {
                from: Some(agent),
                to,
            },
        ];
        save_ticket(
            &mut tx,
            &cfg,
            &before,
            &after,
            &events,
            Actor::Agent(agent),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A masked message in full, with the look recorded in the history.
    pub async fn reveal_message(
        &self,
        message: MessageId,
        actor: Actor,
        now: Millis,
    ) -> Result<Message> {
        let mut tx = self.begin().await?;
        let row = db::query(format!("SELECT {MESSAGE_COLS} FROM messages WHERE id = $1"))
            .bind(message.0)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound("message"))?;
        let m = decode::message(&row)?;
        // Who looked at hidden words is part of the record.
        insert_event(
            &mut tx,
            Some(m.ticket_id),
            actor,
            &EventKind::MessageRevealed { message_id: m.id },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(m)
    }

    pub async fn set_supervised(
        &self,
        customer: CustomerId,
        supervised: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<Customer> {
        let mut tx = self.begin().await?;
        let row = db::query("UPDATE customers SET supervised = $1 WHERE id = $2 RETURNING id, email, name, organization_id, supervised, created_at")
            .bind(supervised)
            .bind(customer.0)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound("customer"))?;
        let c = decode::customer(&row)?;
        insert_event(
            &mut tx,
            None,
            actor,
            &EventKind::SupervisionChanged {
                customer_id: customer,
                supervised,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(c)
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

    /// Opens the satisfaction survey for an ended ticket and posts the invitation;
    /// `false` when it already has one or did not end in a way that asks for one.
    pub async fn open_survey(
        &self,
        ticket: TicketId,
        token_hash: &str,
        invite: &str,
        now: Millis,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let t = lock_ticket(&mut tx, ticket).await?;
        let eligible = matches!(
            t.outcome,
            Some(Outcome::Resolved | Outcome::Explained | Outcome::Referred)
        );
        let exists: Option<i64> = db::query_scalar("SELECT id FROM surveys WHERE ticket_id = $1")
            .bind(ticket.0)
            .fetch_optional(&mut tx)
            .await?;
        if !eligible || exists.is_some() {
            return Ok(false);
        }
        db::query("INSERT INTO surveys (ticket_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(ticket.0)
            .bind(token_hash)
            .bind(now.0)
            .execute(&mut tx)
            .await?;
        // The invitation goes into the conversation even on a closed ticket: it
        // asks nothing of the desk and changes nothing about the case.
        let id = insert_message(
            &mut tx,
            ticket,
            MessageKind::Reply,
            recourse_domain::Channel::Api,
            Actor::System,
            invite,
            None,
            now,
        )
        .await?;
        insert_event(
            &mut tx,
            Some(ticket),
            Actor::System,
            &EventKind::MessageAdded {
                message_id: id,
                kind: MessageKind::Reply,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn survey_by_token(&self, token_hash: &str) -> Result<Option<crate::Survey>> {
        let row = db::query(format!("{SURVEY_SELECT} WHERE s.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(survey).transpose()
    }

    pub async fn answer_survey(
        &self,
        token_hash: &str,
        answer: SurveyAnswer,
        comment: Option<String>,
        now: Millis,
    ) -> Result<crate::Survey> {
        let mut tx = self.begin().await?;
        let row = db::query(format!("{SURVEY_SELECT} WHERE s.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound("survey"))?;
        let current = survey(&row)?;
        let week = recourse_domain::recovery::SURVEY_EDIT_DAYS * 24 * 3_600_000;
        if let Some(first) = current.answered_at
            && now.0 - first.0 > week
        {
            return Err(StoreError::Conflict(
                "This survey was answered more than a week ago and can no longer be changed".into(),
            ));
        }
        db::query("UPDATE surveys SET answered_at = COALESCE(answered_at, $1), product = $2, pleasantness = $3, competence = $4, recommend = $5, comment = $6 WHERE token_hash = $7")
            .bind(now.0)
            .bind(i64::from(answer.product))
            .bind(i64::from(answer.pleasantness))
            .bind(i64::from(answer.competence))
            .bind(i64::from(answer.recommend))
            .bind(&comment)
            .bind(token_hash)
            .execute(&mut tx)
            .await?;
        let service = (answer.pleasantness + answer.competence).div_ceil(2);
        insert_event(
            &mut tx,
            Some(current.ticket_id),
            Actor::Customer(current.customer_id),
            &EventKind::SurveyAnswered {
                product: answer.product,
                service,
                recommend: answer.recommend,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(crate::Survey {
            answered_at: current.answered_at.or(Some(now)),
            answer: Some(answer),
            comment,
            ..current
        })
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
