-- The escalation ladder, SLA clocks, demeanor readings and webhooks.

-- Desk configuration as JSON documents (ladder, sla_policy, calendar, escalation_rules,
-- template:*), so each is read and written whole and validated by the domain crate.
CREATE TABLE settings (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

ALTER TABLE agents ADD COLUMN present BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN last_assigned_at BIGINT;

ALTER TABLE tickets ADD COLUMN needs_experience BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN first_response_due BIGINT;
ALTER TABLE tickets ADD COLUMN next_update_due BIGINT;
ALTER TABLE tickets ADD COLUMN resolution_due BIGINT;
ALTER TABLE tickets ADD COLUMN sla_paused_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_warned BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_breached BIGINT NOT NULL DEFAULT 0;
-- When the sweeper must next look at the ticket; NULL when nothing is pending, so the
-- partial index holds only tickets with a live clock.
ALTER TABLE tickets ADD COLUMN sla_next_at BIGINT;
CREATE INDEX tickets_sla_next ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;
-- Routing counts each agent's active tickets; this keeps that count off closed history.
CREATE INDEX tickets_active_load ON tickets (assignee_id) WHERE status IN ('new', 'open', 'pending_customer');

ALTER TABLE messages ADD COLUMN demeanor TEXT CHECK (demeanor IN ('pleased', 'neutral', 'frustrated', 'angry', 'abusive'));

-- Each move on the ladder. No agent column on purpose: escalation is blameless, and who
-- pressed the button lives only in the audit trail (events).
CREATE TABLE escalations (
    id                  BIGSERIAL PRIMARY KEY,
    ticket_id           BIGINT NOT NULL REFERENCES tickets(id),
    direction           TEXT NOT NULL CHECK (direction IN ('up', 'down')),
    from_rung           TEXT NOT NULL,
    to_rung             TEXT NOT NULL,
    reason              TEXT,
    note                TEXT,
    message_id          BIGINT REFERENCES messages(id),
    trigger_message_id  BIGINT REFERENCES messages(id),
    at                  BIGINT NOT NULL
);
CREATE INDEX escalations_ticket ON escalations (ticket_id, id);
CREATE INDEX escalations_at ON escalations (at);

CREATE TABLE webhooks (
    id          BIGSERIAL PRIMARY KEY,
    url         TEXT NOT NULL,
    -- Kept in clear: it signs payloads (HMAC), so it must be readable. Shown once.
    secret      TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT NOT NULL
);

-- The outbox: one row per event per webhook, written in the event's transaction.
CREATE TABLE webhook_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    webhook_id       BIGINT NOT NULL REFERENCES webhooks(id),
    event_id         BIGINT NOT NULL REFERENCES events(id),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    delivered_at     BIGINT,
    failed_at        BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
