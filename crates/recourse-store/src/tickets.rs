use crate::rows::*;

impl Store {
    pub async fn get_ticket(&self, id: TicketId) -> Result<Ticket> {
        let row = db::query(format!("SELECT {TICKET_COLS} FROM tickets WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound("ticket"))?;
        decode::ticket(&row)
    }

    /// Newest first; `filter.before` is the cursor (an id), and up to `filter.limit` come back.
    pub async fn list_tickets(&self, f: &TicketFilter) -> Result<Vec<Ticket>> {
        let mut qb = SqlBuilder::new(format!("SELECT {TICKET_COLS} FROM tickets t WHERE 1 = 1"));
        push_filter(&mut qb, f);
        qb.push(" ORDER BY t.id DESC LIMIT ").push_bind(f.limit);
        let rows = qb.build().fetch_all(self.reader()).await?;
        rows.iter().map(decode::ticket).collect()
    }

    pub async fn add_intervention(&self, i: NewIntervention) -> Result<Intervention> {
        let mut tx = self.begin().await?;
        let before = lock_ticket(&mut tx, i.ticket_id).await?;
        if before.status == recourse_domain::Status::Closed {
            return Err(recourse_domain::ChangeError::from(
                recourse_domain::TransitionError::Closed,
            )
            .into());
        }
        let id: i64 = db::query_scalar(
            "INSERT INTO interventions (ticket_id, kind, description, result, agent_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(i.ticket_id.0)
        .bind(i.kind.as_str())
        .bind(i.description.as_str())
        .bind(i.result.as_str())
        .bind(i.agent_id.map(|a| a.0))
        .bind(i.now.0)
        .fetch_one(&mut tx)
        .await?;
        let actor = i.agent_id.map(Actor::Agent).unwrap_or(Actor::System);
        let kind = EventKind::InterventionRecorded {
            intervention_id: InterventionId(id),
            kind: i.kind,
            result: i.result,
        };
        let after = Ticket {
            updated_at: i.now,
            ..before.clone()
        };
        let cfg = load_config(&mut tx).await?;
        save_ticket(&mut tx, &cfg, &before, &after, &[kind], actor, i.now).await?;
        tx.commit().await?;
        Ok(Intervention {
            id: InterventionId(id),
            ticket_id: i.ticket_id,
            kind: i.kind,
            description: i.description.into_inner(),
            result: i.result,
            agent_id: i.agent_id,
            created_at: i.now,
        })
    }

    pub async fn messages(&self, ticket: TicketId) -> Result<Vec<Message>> {
        let rows = db::query(format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE ticket_id = $1 ORDER BY id"
        ))
        .bind(ticket.0)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(decode::message).collect()
    }

    pub async fn interventions(&self, ticket: TicketId) -> Result<Vec<Intervention>> {
        let rows = db::query("SELECT id, ticket_id, kind, description, result, agent_id, created_at FROM interventions WHERE ticket_id = $1 ORDER BY id")
            .bind(ticket.0)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(decode::intervention).collect()
    }

    pub async fn events(&self, ticket: TicketId) -> Result<Vec<Event>> {
        let rows = db::query("SELECT id, ticket_id, actor_kind, actor_id, data, at FROM events WHERE ticket_id = $1 ORDER BY id")
            .bind(ticket.0)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(decode::event).collect()
    }

    /// Full-text search over subjects and message bodies, best match first.
    pub async fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        match self.backend {
            Backend::Sqlite => crate::sqlite::search(self, q).await,
            Backend::Postgres => crate::postgres::search(self, q).await,
        }
    }

    /// Stores a setting (already validated by the caller) and records who changed it.
    pub async fn put_setting(
        &self,
        key: &str,
        value: &str,
        actor: Actor,
        now: Millis,
    ) -> Result<()> {
        self.write_setting(key, Some(value), actor, now).await
    }

    /// Removes a setting so its default applies again.
    pub async fn reset_setting(&self, key: &str, actor: Actor, now: Millis) -> Result<()> {
        self.write_setting(key, None, actor, now).await
    }

    pub async fn desk_config(&self) -> Result<DeskConfig> {
        let conn = &mut self.reader();
        load_config(&mut *conn).await
    }
}
