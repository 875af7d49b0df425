-- The escalation ladder, SLA clocks, demeanor readings and webhooks.

-- Desk configuration as JSON documents (ladder, sla_policy, calendar, escalation_rules,
-- template:*), so each is read and written whole and validated by the domain crate.
CREATE TABLE settings (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

ALTER TABLE agents ADD COLUMN present INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agents ADD COLUMN last_assigned_at INTEGER;

ALTER TABLE tickets ADD COLUMN needs_experience INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN first_response_due INTEGER;
ALTER TABLE tickets ADD COLUMN next_update_due INTEGER;
ALTER TABLE tickets ADD COLUMN resolution_due INTEGER;
ALTER TABLE tickets ADD COLUMN sla_paused_at INTEGER;
ALTER TABLE tickets ADD COLUMN sla_warned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_breached INTEGER NOT NULL DEFAULT 0;
-- When the sweeper must next look at the ticket; NULL when nothing is pending, so the
-- partial index holds only tickets with a live clock.
ALTER TABLE tickets ADD COLUMN sla_next_at INTEGER;
CREATE INDEX tickets_sla_next ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;
-- Routing counts each agent's active tickets; this keeps that count off closed history.
CREATE INDEX tickets_active_load ON tickets (assignee_id) WHERE status IN ('new', 'open', 'pending_customer');

ALTER TABLE messages ADD COLUMN demeanor TEXT CHECK (demeanor IN ('pleased', 'neutral', 'frustrated', 'angry', 'abusive'));

-- Each move on the ladder. No agent column on purpose: escalation is blameless, and who
-- pressed the button lives only in the audit trail (events).
CREATE TABLE escalations (
    id                  INTEGER PRIMARY KEY,
    ticket_id           INTEGER NOT NULL REFERENCES tickets(id),
    direction           TEXT NOT NULL CHECK (direction IN ('up', 'down')),
    from_rung           TEXT NOT NULL,
    to_rung             TEXT NOT NULL,
    reason              TEXT,
    note                TEXT,
    message_id          INTEGER REFERENCES messages(id),
    trigger_message_id  INTEGER REFERENCES messages(id),
    at                  INTEGER NOT NULL
);
CREATE INDEX escalations_ticket ON escalations (ticket_id, id);
CREATE INDEX escalations_at ON escalations (at);

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    -- Kept in clear: it signs payloads (HMAC), so it must be readable. Shown once.
    secret      TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

-- The outbox: one row per event per webhook, written in the event's transaction.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks(id),
    event_id         INTEGER NOT NULL REFERENCES events(id),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    delivered_at     INTEGER,
    failed_at        INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
