use crate::rows::*;

impl Store {
    /// Bulk path for scale runs and benchmarks: `spec.count` open tickets with one
    /// inbound message each, written set-wise (no per-ticket events or routing).
    pub async fn seed_tickets(&self, spec: &crate::SeedSpec) -> Result<u64> {
        let mut tx = self.begin().await?;
        let (base_number, last_id): (i64, i64) =
            db::query_as("SELECT COALESCE(MAX(number), 1000), COALESCE(MAX(id), 0) FROM tickets")
                .fetch_one(&mut tx)
                .await?;
        let at = spec.created_at.0;
        // Due tickets' first response was due an hour after creation; the
        // rest owe theirs a year out, one millisecond apart.
        let year = 365 * 24 * 3_600_000i64;
        // Tickets spread over customers of their own, `tickets_per_customer`
        // each (as on a real desk, where the planners see many customers), or
        // all for `customer_id`.
        let per = spec.tickets_per_customer;
        if per > 0 {
            db::query(
                "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
                 INSERT INTO customers (email, created_at) SELECT 'seeded-' || ($2 + n) || '@example.com', $3 FROM seq",
            )
            .bind((spec.count + per - 1) / per)
            .bind(base_number)
            .bind(at)
            .execute(&mut tx)
            .await?;
        }
        let customer = if per > 0 {
            format!(
                "COALESCE((SELECT id FROM customers WHERE email = 'seeded-' || ($2 + 1 + (n - 1) / {per}) || '@example.com'), $4)"
            )
        } else {
            "$4".to_owned()
        };
        let open_sql = format!("WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
             INSERT INTO tickets (number, subject, status, priority, rung, customer_id, tags, created_at, updated_at,
                                  first_response_due, resolution_due, sla_next_at)
             SELECT $2 + n, 'Seeded ticket ' || n, 'open', 'normal', $3, {customer}, '[]', $5, $5,
                    CASE WHEN n <= $6 THEN $5 + 3600000 ELSE $7 + n END, $7 + n,
                    CASE WHEN n <= $6 THEN $5 + 3600000 ELSE $7 + n - 1800000 END
             FROM seq");
        // Ended: 2% inconsolable, then referred, explained and resolved; every
        // fifth customer started angry and every tenth ended calm; a quarter
        // were transferred once; one in twenty-five breached an SLA clock.
        let ended_sql = format!("WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
             INSERT INTO tickets (number, subject, status, priority, rung, customer_id, tags, created_at, updated_at,
                                  outcome, ended_at, first_response_at, first_demeanor, last_demeanor, transfers, sla_breached)
             SELECT $2 + n, 'Seeded ticket ' || n, 'closed', 'normal', $3, {customer}, '[]', $5, $5 + 3600000 + (n * 86) % 86400000,
                    CASE WHEN n % 50 = 0 THEN 'inconsolable' WHEN n % 50 < 3 THEN 'referred' WHEN n % 50 < 8 THEN 'explained' ELSE 'resolved' END,
                    $5 + 3600000 + (n * 86) % 86400000, $5 + 600000,
                    CASE WHEN n % 5 = 0 THEN 'angry' ELSE 'neutral' END,
                    CASE WHEN n % 10 = 0 THEN 'neutral' WHEN n % 5 = 0 THEN 'angry' ELSE 'neutral' END,
                    CASE WHEN n % 4 = 0 THEN 1 ELSE 0 END, CASE WHEN n % 25 = 0 THEN 1 ELSE 0 END
             FROM seq");
        let query = db::query(if spec.ended { ended_sql } else { open_sql })
            .bind(spec.count)
            .bind(base_number)
            .bind(&spec.rung)
            .bind(spec.customer_id.0)
            .bind(at);
        let query = if spec.ended {
            query
        } else {
            query.bind(spec.due).bind(at + year)
        };
        let done = query.execute(&mut tx).await?;
        db::query(
            "WITH RECURSIVE k(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM k WHERE m < $2)
             INSERT INTO messages (ticket_id, kind, channel, author_kind, author_id, body, created_at)
             SELECT t.id, 'inbound', 'email', 'customer', t.customer_id,
                    'Seeded message ' || k.m || ' for ' || t.subject, t.created_at + (k.m - 1) * 60000
             FROM tickets t CROSS JOIN k WHERE t.id > $1 AND k.m <= $2
             ORDER BY t.id, k.m",
        )
        .bind(last_id)
        .bind(spec.messages)
        .execute(&mut tx)
        .await?;
        if self.backend == Backend::Postgres {
            crate::postgres::after_seed(&mut tx).await?;
        }
        let _ = last_id;
        tx.commit().await?;
        Ok(done)
    }

    pub async fn count_rows(&self, table: &str) -> Result<i64> {
        let t = crate::table::by_name(table).ok_or(StoreError::NotFound("table"))?;
        db::query_scalar(format!("SELECT COUNT(*) FROM {}", t.name))
            .fetch_one(self.reader())
            .await
    }

    pub async fn export_rows(
        &self,
        table: &Table,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TableRow>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE id > $1 ORDER BY id LIMIT $2",
            table.column_list(),
            table.name
        );
        let rows = db::query(sql)
            .bind(after)
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, col))| {
                        Ok(match col {
                            Col::Int => Cell::Int(r.try_get(i)?),
                            Col::Text => Cell::Text(r.try_get(i)?),
                            Col::Bool => Cell::Bool(r.try_get(i)?),
                            Col::Bytes => Cell::Bytes(r.try_get(i)?),
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Writes rows with their ids kept; used by `db copy` into an empty database.
    pub async fn import_rows(&self, table: &Table, rows: &[TableRow]) -> Result<()> {
        let mut tx = self.begin().await?;
        for row in rows {
            let mut qb = SqlBuilder::new(format!(
                "INSERT INTO {} ({}) VALUES (",
                table.name,
                table.column_list()
            ));
            let mut sep = qb.separated(", ");
            for cell in row {
                match cell {
                    Cell::Int(v) => sep.push_bind(*v),
                    Cell::Text(v) => sep.push_bind(v.clone()),
                    Cell::Bool(v) => sep.push_bind(*v),
                    Cell::Bytes(v) => sep.push_bind(v.clone()),
                };
            }
            qb.push(")");
            qb.build().execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Brings id sequences and derived indexes up to date after an import.
    pub async fn finish_import(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => crate::sqlite::finish_import(self).await,
            Backend::Postgres => crate::postgres::finish_import(self).await,
        }
    }
}
