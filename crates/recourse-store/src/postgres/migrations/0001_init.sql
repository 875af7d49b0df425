-- Recourse schema, PostgreSQL dialect. Times are Unix milliseconds (BIGINT), as on SQLite,
-- so that `db copy` moves values unchanged and ordering is identical on both.

CREATE TABLE organizations (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    domain      TEXT UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE customers (
    id              BIGSERIAL PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT,
    organization_id BIGINT REFERENCES organizations(id),
    created_at      BIGINT NOT NULL
);

CREATE TABLE teams (
    id    BIGSERIAL PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);

CREATE TABLE agents (
    id             BIGSERIAL PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
    experience     TEXT NOT NULL CHECK (experience IN ('junior', 'experienced', 'senior')),
    skills         TEXT NOT NULL DEFAULT '[]',
    team_id        BIGINT REFERENCES teams(id),
    capacity       BIGINT NOT NULL DEFAULT 20,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id              BIGSERIAL PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    principal_kind  TEXT NOT NULL CHECK (principal_kind IN ('agent', 'customer')),
    principal_id    BIGINT NOT NULL,
    scope           TEXT NOT NULL DEFAULT 'full',
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,
    principal_kind  TEXT NOT NULL,
    principal_id    BIGINT NOT NULL,
    csrf_token      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE SEQUENCE ticket_number_seq START 1001;

CREATE TABLE tickets (
    id           BIGSERIAL PRIMARY KEY,
    number       BIGINT NOT NULL UNIQUE DEFAULT nextval('ticket_number_seq'),
    subject      TEXT NOT NULL,
    need         TEXT,
    status       TEXT NOT NULL CHECK (status IN ('new', 'open', 'pending_customer', 'resolved', 'closed')),
    priority     TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    rung         TEXT NOT NULL,
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    assignee_id  BIGINT REFERENCES agents(id),
    team_id      BIGINT REFERENCES teams(id),
    tags         TEXT NOT NULL DEFAULT '[]',
    outcome      TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    search       tsvector GENERATED ALWAYS AS (to_tsvector('english', subject)) STORED
);
CREATE INDEX tickets_status ON tickets (status, id);
CREATE INDEX tickets_rung ON tickets (rung, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, id);
CREATE INDEX tickets_customer ON tickets (customer_id, id);
CREATE INDEX tickets_search ON tickets USING GIN (search);

CREATE TABLE ticket_tags (
    ticket_id  BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (tag, ticket_id)
);

CREATE TABLE messages (
    id           BIGSERIAL PRIMARY KEY,
    ticket_id    BIGINT NOT NULL REFERENCES tickets(id),
    kind         TEXT NOT NULL CHECK (kind IN ('inbound', 'reply', 'note')),
    channel      TEXT NOT NULL,
    author_kind  TEXT NOT NULL,
    author_id    BIGINT,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    search       tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);
CREATE INDEX messages_search ON messages USING GIN (search);

CREATE TABLE interventions (
    id           BIGSERIAL PRIMARY KEY,
    ticket_id    BIGINT NOT NULL REFERENCES tickets(id),
    kind         TEXT NOT NULL,
    description  TEXT NOT NULL,
    result       TEXT NOT NULL CHECK (result IN ('accepted', 'declined', 'pending')),
    agent_id     BIGINT REFERENCES agents(id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX interventions_ticket ON interventions (ticket_id, id);

CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    ticket_id   BIGINT REFERENCES tickets(id),
    actor_kind  TEXT NOT NULL,
    actor_id    BIGINT,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX events_ticket ON events (ticket_id, id);
CREATE INDEX events_kind ON events (kind, at);

-- The event log is append-only: history that can be edited is not history.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END;
$$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
