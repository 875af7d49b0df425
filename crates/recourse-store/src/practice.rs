//! The practice desk's rows: the scenarios agents rehearse on and each attempt. These
//! tables stand apart from tickets, customers, the outbox and the reports: practice
//! never touches a real case.

use crate::rows::*;

/// A rehearsal scenario: an upset customer's message and what a good answer offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeScenario {
    pub id: i64,
    /// The library's key for a shipped scenario; `None` for one an admin wrote.
    pub slug: Option<String>,
    /// frontline_recovery, repeated_contact, cant_help, abuse, referral or inconsolable.
    pub kind: String,
    pub subject: String,
    /// What the case is about (delivery, refund, billing, repair, account, other).
    pub topic: String,
    pub customer_message: String,
    /// What the customer needs, in their terms.
    pub need: String,
    /// What a good answer offers, for the trainee to read after trying.
    pub good_answer: String,
    pub example_answer: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A scenario to create or replace; the caller has checked its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPracticeScenario {
    pub slug: Option<String>,
    pub kind: String,
    pub subject: String,
    pub topic: String,
    pub customer_message: String,
    pub need: String,
    pub good_answer: String,
    pub example_answer: String,
}

/// One rehearsal: an agent's reply to a scenario and what the coach made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeAttempt {
    pub id: i64,
    pub agent_id: AgentId,
    pub scenario_id: i64,
    pub reply: String,
    /// 0 to 100.
    pub score: i64,
    /// The coach's flag identifiers.
    pub flags: Vec<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPracticeAttempt {
    pub agent_id: AgentId,
    pub scenario_id: i64,
    pub reply: String,
    pub score: i64,
    pub flags: Vec<String>,
}

/// Attempts and their summed score in one group (a scenario kind, or a day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeTally {
    /// The scenario kind, or the day as days since 1970-01-01 (UTC) in decimal.
    pub key: String,
    pub attempts: i64,
    pub score_sum: i64,
}

impl PracticeTally {
    /// The average score, 0 to 100.
    pub fn average(&self) -> f64 {
        if self.attempts == 0 {
            0.0
        } else {
            self.score_sum as f64 / self.attempts as f64
        }
    }
}

const SCENARIO_COLS: &str = "id, slug, kind, subject, topic, customer_message, need, good_answer, example_answer, created_at, updated_at";
const ATTEMPT_COLS: &str = "id, agent_id, scenario_id, reply, score, flags, created_at";
const DAY_MS: i64 = 86_400_000;

fn scenario(r: &Row) -> Result<PracticeScenario> {
    Ok(PracticeScenario {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        kind: r.try_get("kind")?,
        subject: r.try_get("subject")?,
        topic: r.try_get("topic")?,
        customer_message: r.try_get("customer_message")?,
        need: r.try_get("need")?,
        good_answer: r.try_get("good_answer")?,
        example_answer: r.try_get("example_answer")?,
        created_at: Millis(r.try_get("created_at")?),
        updated_at: Millis(r.try_get("updated_at")?),
    })
}

fn attempt(r: &Row) -> Result<PracticeAttempt> {
    let flags: String = r.try_get("flags")?;
    Ok(PracticeAttempt {
        id: r.try_get("id")?,
        agent_id: AgentId(r.try_get("agent_id")?),
        scenario_id: r.try_get("scenario_id")?,
        reply: r.try_get("reply")?,
        score: r.try_get("score")?,
        flags: flags.split_whitespace().map(str::to_owned).collect(),
        created_at: Millis(r.try_get("created_at")?),
    })
}

fn tally(r: &Row) -> Result<PracticeTally> {
    Ok(PracticeTally {
        key: r.try_get("k")?,
        attempts: r.try_get("n")?,
        score_sum: r.try_get::<Option<i64>, _>("s")?.unwrap_or(0),
    })
}

impl Store {
    pub async fn count_practice_scenarios(&self) -> Result<i64> {
        db::query_scalar::<i64>("SELECT COUNT(*) FROM practice_scenarios")
            .fetch_one(self.reader())
            .await
    }

    /// Adds the library's scenarios whose slug is not stored yet, in one transaction
    /// (two nodes seeding at once leave one copy of each). Returns how many were added.
    pub async fn seed_practice_scenarios(
        &self,
        library: &[NewPracticeScenario],
        now: Millis,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut added = 0;
        for s in library {
            added += db::query(
                "INSERT INTO practice_scenarios (slug, kind, subject, topic, customer_message, need, good_answer, example_answer, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (slug) DO NOTHING",
            )
            .bind(&s.slug)
            .bind(&s.kind)
            .bind(&s.subject)
            .bind(&s.topic)
            .bind(&s.customer_message)
            .bind(&s.need)
            .bind(&s.good_answer)
            .bind(&s.example_answer)
            .bind(now.0)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Every scenario, by kind then id.
    pub async fn practice_scenarios(&self) -> Result<Vec<PracticeScenario>> {
        let rows = db::query(format!(
            "SELECT {SCENARIO_COLS} FROM practice_scenarios ORDER BY kind, id"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(scenario).collect()
    }

    pub async fn practice_scenario(&self, id: i64) -> Result<PracticeScenario> {
        let row = db::query(format!(
            "SELECT {SCENARIO_COLS} FROM practice_scenarios WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound("practice scenario"))?;
        scenario(&row)
    }

    /// Creates (`id: None`) or replaces a scenario (its slug is kept on replace).
    pub async fn save_practice_scenario(
        &self,
        id: Option<i64>,
        s: NewPracticeScenario,
        now: Millis,
    ) -> Result<PracticeScenario> {
        let row = match id {
            None => db::query(format!(
                "INSERT INTO practice_scenarios (slug, kind, subject, topic, customer_message, need, good_answer, example_answer, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {SCENARIO_COLS}"
            ))
            .bind(&s.slug)
            .bind(&s.kind)
            .bind(&s.subject)
            .bind(&s.topic)
            .bind(&s.customer_message)
            .bind(&s.need)
            .bind(&s.good_answer)
            .bind(&s.example_answer)
            .bind(now.0)
            .fetch_one(self.writer())
            .await
            .map_err(|e| map_unique(e, "a scenario with that key"))?,
            Some(id) => db::query(format!(
                "UPDATE practice_scenarios SET kind = $1, subject = $2, topic = $3, customer_message = $4, need = $5, good_answer = $6, example_answer = $7, updated_at = $8
                 WHERE id = $9 RETURNING {SCENARIO_COLS}"
            ))
            .bind(&s.kind)
            .bind(&s.subject)
            .bind(&s.topic)
            .bind(&s.customer_message)
            .bind(&s.need)
            .bind(&s.good_answer)
            .bind(&s.example_answer)
            .bind(now.0)
            .bind(id)
            .fetch_optional(self.writer())
            .await?
            .ok_or(StoreError::NotFound("practice scenario"))?,
        };
        scenario(&row)
    }

    pub async fn insert_practice_attempt(
        &self,
        a: NewPracticeAttempt,
        now: Millis,
    ) -> Result<PracticeAttempt> {
        let row = db::query(format!(
            "INSERT INTO practice_attempts (agent_id, scenario_id, reply, score, flags, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ATTEMPT_COLS}"
        ))
        .bind(a.agent_id.0)
        .bind(a.scenario_id)
        .bind(&a.reply)
        .bind(a.score)
        .bind(a.flags.join(" "))
        .bind(now.0)
        .fetch_one(self.writer())
        .await
        .map_err(|e| map_unique(e, "that attempt"))?;
        attempt(&row)
    }

    /// One agent's attempts, newest first.
    pub async fn practice_attempts_of(
        &self,
        agent: AgentId,
        limit: i64,
    ) -> Result<Vec<PracticeAttempt>> {
        let rows = db::query(format!(
            "SELECT {ATTEMPT_COLS} FROM practice_attempts WHERE agent_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(agent.0)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(attempt).collect()
    }

    /// Attempts and scores by scenario kind: one agent's (`Some`), or the whole team's
    /// together (`None`), never split by person.
    pub async fn practice_by_kind(&self, agent: Option<AgentId>) -> Result<Vec<PracticeTally>> {
        let mut qb = SqlBuilder::new(
            "SELECT s.kind AS k, COUNT(*) AS n, SUM(CAST(a.score AS INTEGER)) AS s
             FROM practice_attempts a JOIN practice_scenarios s ON s.id = a.scenario_id WHERE 1 = 1",
        );
        if let Some(a) = agent {
            qb.push(" AND a.agent_id = ").push_bind(a.0);
        }
        qb.push(" GROUP BY s.kind ORDER BY s.kind");
        let rows = qb.build().fetch_all(self.reader()).await?;
        rows.iter().map(tally).collect()
    }

    /// Attempts and scores by day (UTC) since `since`, oldest first: one agent's, or the
    /// team's together.
    pub async fn practice_by_day(
        &self,
        agent: Option<AgentId>,
        since: Millis,
    ) -> Result<Vec<PracticeTally>> {
        let mut qb = SqlBuilder::new(format!(
            "SELECT CAST(a.created_at / {DAY_MS} AS TEXT) AS k, COUNT(*) AS n, SUM(CAST(a.score AS INTEGER)) AS s
             FROM practice_attempts a WHERE a.created_at >= "
        ));
        qb.push_bind(since.0);
        if let Some(a) = agent {
            qb.push(" AND a.agent_id = ").push_bind(a.0);
        }
        qb.push(format!(
            " GROUP BY a.created_at / {DAY_MS} ORDER BY a.created_at / {DAY_MS}"
        ));
        let rows = qb.build().fetch_all(self.reader()).await?;
        rows.iter().map(tally).collect()
    }
}
