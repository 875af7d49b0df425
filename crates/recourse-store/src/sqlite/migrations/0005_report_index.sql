-- The recovery report scans ended tickets by date; this index holds every column the
-- scan reads, so it never touches the (much wider) ticket rows.
CREATE INDEX tickets_report ON tickets (
    ended_at, team_id, outcome, first_demeanor, last_demeanor, transfers, ping_pong,
    first_response_at, created_at, sla_breached
) WHERE ended_at IS NOT NULL;
