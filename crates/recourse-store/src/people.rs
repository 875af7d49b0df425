use crate::rows::*;

impl Store {
    pub async fn upsert_customer(
        &self,
        email: &EmailAddress,
        name: Option<&str>,
        now: Millis,
    ) -> Result<Customer> {
        let row = db::query(UPSERT_CUSTOMER)
            .bind(email.as_str())
            .bind(name)
            .bind(email.domain())
            .bind(now.0)
            .fetch_one(self.writer())
            .await?;
        decode::customer(&row)
    }

    pub async fn get_customer(&self, id: CustomerId) -> Result<Customer> {
        let row = db::query(
            "SELECT id, email, name, organization_id, supervised, created_at FROM customers WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound("customer"))?;
        decode::customer(&row)
    }

    pub async fn customer_by_email(&self, email: &EmailAddress) -> Result<Option<Customer>> {
        let row = db::query(
            "SELECT id, email, name, organization_id, supervised, created_at FROM customers WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(decode::customer).transpose()
    }

    pub async fn create_organization(
        &self,
        name: &str,
        domain: Option<&str>,
        now: Millis,
    ) -> Result<Organization> {
        let id: i64 = db::query_scalar(
            "INSERT INTO organizations (name, domain, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(domain)
        .bind(now.0)
        .fetch_one(self.writer())
        .await
        .map_err(|e| map_unique(e, "an organization with that domain"))?;
        Ok(Organization {
            id: OrganizationId(id),
            name: name.to_owned(),
            domain: domain.map(str::to_owned),
            created_at: now,
        })
    }

    pub async fn create_team(&self, name: &str) -> Result<Team> {
        let id: i64 = db::query_scalar("INSERT INTO teams (name) VALUES ($1) RETURNING id")
            .bind(name)
            .fetch_one(self.writer())
            .await
            .map_err(|e| map_unique(e, "a team with that name"))?;
        Ok(Team {
            id: TeamId(id),
            name: name.to_owned(),
        })
    }

    pub async fn list_teams(&self) -> Result<Vec<Team>> {
        let rows = db::query("SELECT id, name FROM teams ORDER BY name")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Team {
                    id: TeamId(r.try_get("id")?),
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    pub async fn create_agent(&self, a: NewAgent) -> Result<Agent> {
        let skills: Vec<String> = a.skills.iter().map(|s| s.as_str().to_owned()).collect();
        let row = db::query(format!(
            "INSERT INTO agents (email, name, role, experience, skills, team_id, capacity, active, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $9) RETURNING {AGENT_COLS}"
        ))
        .bind(a.email.as_str())
        .bind(a.name.as_str())
        .bind(a.role.as_str())
        .bind(a.experience.as_str())
        .bind(decode::tags_json(&skills))
        .bind(a.team_id.map(|t| t.0))
        .bind(i64::from(a.capacity))
        .bind(&a.password_hash)
        .bind(a.now.0)
        .fetch_one(self.writer())
        .await
        .map_err(|e| map_unique(e, "an agent with that email"))?;
        decode::agent(&row)
    }

    pub async fn get_agent(&self, id: AgentId) -> Result<Agent> {
        let row = db::query(format!("SELECT {AGENT_COLS} FROM agents WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound("agent"))?;
        decode::agent(&row)
    }

    pub async fn list_agents(&self) -> Result<Vec<Agent>> {
        let rows = db::query(format!("SELECT {AGENT_COLS} FROM agents ORDER BY name, id"))
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(decode::agent).collect()
    }

    /// The agent and their password hash, for login.
    pub async fn agent_credentials(&self, email: &EmailAddress) -> Result<Option<(Agent, String)>> {
        let row = db::query(format!(
            "SELECT {AGENT_COLS}, password_hash FROM agents WHERE email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(self.reader())
        .await?;
        match row {
            Some(r) => Ok(Some((decode::agent(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    pub async fn set_agent_password(&self, id: AgentId, password_hash: &str) -> Result<()> {
        let done = db::query("UPDATE agents SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.0)
            .execute(self.writer())
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound("agent"));
        }
        Ok(())
    }

    /// Changes an agent's role, experience, team, capacity or whether they may sign in,
    /// and records the change. Switching an agent off also marks them away.
    pub async fn update_agent(
        &self,
        id: AgentId,
        c: crate::AgentChange,
        actor: Actor,
        now: Millis,
    ) -> Result<Agent> {
        let mut tx = self.begin().await?;
        // Switching someone off also marks them away, so routing passes them by.
        let row = db::query(format!(
            "UPDATE agents SET role = COALESCE($1, role), experience = COALESCE($2, experience),
               team_id = CASE WHEN $3 THEN $4 ELSE team_id END, capacity = COALESCE($5, capacity),
               active = COALESCE($6, active), present = CASE WHEN $6 = FALSE THEN FALSE ELSE present END
             WHERE id = $7 RETURNING {AGENT_COLS}"
        ))
        .bind(c.role.map(|r| r.as_str()))
        .bind(c.experience.map(|e| e.as_str()))
        .bind(c.team_id.is_some())
        .bind(c.team_id.flatten().map(|t| t.0))
        .bind(c.capacity.map(i64::from))
        .bind(c.active)
        .bind(id.0)
        .fetch_optional(&mut tx)
        .await
        .map_err(|e| map_unique(e, "that agent"))?
        .ok_or(StoreError::NotFound("agent"))?;
        let agent = decode::agent(&row)?;
        let kind = EventKind::AgentChanged {
            agent_id: agent.id,
            role: agent.role,
            experience: agent.experience,
            team_id: agent.team_id,
            capacity: agent.capacity,
            active: agent.active,
        };
        insert_event(&mut tx, None, actor, &kind, now).await?;
        tx.commit().await?;
        Ok(agent)
    }

    /// How many open (not resolved or closed) tickets each agent holds; agents holding
    /// none are left out.
    pub async fn open_tickets_by_agent(&self) -> Result<Vec<(AgentId, i64)>> {
        let rows: Vec<(i64, i64)> = db::query_as(
            "SELECT assignee_id, COUNT(*) FROM tickets
             WHERE assignee_id IS NOT NULL AND status IN ('new', 'open', 'pending_customer')
             GROUP BY assignee_id",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(|(a, n)| (AgentId(a), n)).collect())
    }

    pub async fn create_api_token(&self, t: NewApiToken) -> Result<ApiToken> {
        let (kind, pid) = t.principal.parts();
        let id: i64 = db::query_scalar(
            "INSERT INTO api_tokens (token_hash, name, principal_kind, principal_id, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&t.token_hash)
        .bind(&t.name)
        .bind(kind)
        .bind(pid)
        .bind(&t.scope)
        .bind(t.now.0)
        .fetch_one(self.writer())
        .await
        .map_err(|e| map_unique(e, "that token"))?;
        Ok(ApiToken {
            id,
            principal: t.principal,
            name: t.name,
            scope: t.scope,
            created_at: t.now,
            revoked_at: None,
        })
    }

    pub async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let row = db::query("SELECT id, name, principal_kind, principal_id, scope, created_at, revoked_at FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?;
        let Some(r) = row else { return Ok(None) };
        decode::api_token(&r).map(Some)
    }

    pub async fn revoke_api_token(&self, id: i64, now: Millis) -> Result<()> {
        let done =
            db::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
                .bind(now.0)
                .bind(id)
                .execute(self.writer())
                .await?;
        if done == 0 {
            return Err(StoreError::NotFound("token"));
        }
        Ok(())
    }

    /// Every token, newest first (hashes are not returned).
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = db::query("SELECT id, name, principal_kind, principal_id, scope, created_at, revoked_at FROM api_tokens ORDER BY id DESC")
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(decode::api_token).collect()
    }

    pub async fn create_session(&self, s: NewSession) -> Result<()> {
        let (kind, pid) = s.principal.parts();
        let mut tx = self.begin().await?;
        // Expired sessions are swept whenever a new one starts, so the table stays small.
        db::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(s.now.0)
            .execute(&mut tx)
            .await?;
        db::query("INSERT INTO sessions (id_hash, principal_kind, principal_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&s.id_hash)
            .bind(kind)
            .bind(pid)
            .bind(&s.csrf_token)
            .bind(s.now.0)
            .bind(s.expires_at.0)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session_by_hash(&self, id_hash: &str, now: Millis) -> Result<Option<Session>> {
        let row = db::query("SELECT principal_kind, principal_id, csrf_token, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2")
            .bind(id_hash)
            .bind(now.0)
            .fetch_optional(self.reader())
            .await?;
        let Some(r) = row else { return Ok(None) };
        decode::session(&r).map(Some)
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        db::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
