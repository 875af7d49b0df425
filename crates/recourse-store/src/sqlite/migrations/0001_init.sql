-- Recourse schema, SQLite dialect. Times are Unix milliseconds (INTEGER).

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    domain      TEXT UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT,
    organization_id INTEGER REFERENCES organizations(id),
    created_at      INTEGER NOT NULL
);

CREATE TABLE teams (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);

CREATE TABLE agents (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
    experience     TEXT NOT NULL CHECK (experience IN ('junior', 'experienced', 'senior')),
    skills         TEXT NOT NULL DEFAULT '[]',
    team_id        INTEGER REFERENCES teams(id),
    capacity       INTEGER NOT NULL DEFAULT 20,
    active         INTEGER NOT NULL DEFAULT 1,
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    principal_kind  TEXT NOT NULL CHECK (principal_kind IN ('agent', 'customer')),
    principal_id    INTEGER NOT NULL,
    scope           TEXT NOT NULL DEFAULT 'full',
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,
    principal_kind  TEXT NOT NULL,
    principal_id    INTEGER NOT NULL,
    csrf_token      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE tickets (
    id           INTEGER PRIMARY KEY,
    number       INTEGER NOT NULL UNIQUE,
    subject      TEXT NOT NULL,
    need         TEXT,
    status       TEXT NOT NULL CHECK (status IN ('new', 'open', 'pending_customer', 'resolved', 'closed')),
    priority     TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    rung         TEXT NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    assignee_id  INTEGER REFERENCES agents(id),
    team_id      INTEGER REFERENCES teams(id),
    tags         TEXT NOT NULL DEFAULT '[]',
    outcome      TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX tickets_status ON tickets (status, id);
CREATE INDEX tickets_rung ON tickets (rung, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, id);
CREATE INDEX tickets_customer ON tickets (customer_id, id);

-- Tags again, one row each, so "tickets tagged X" is an index lookup.
CREATE TABLE ticket_tags (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (tag, ticket_id)
) WITHOUT ROWID;

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id),
    kind         TEXT NOT NULL CHECK (kind IN ('inbound', 'reply', 'note')),
    channel      TEXT NOT NULL,
    author_kind  TEXT NOT NULL,
    author_id    INTEGER,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);

CREATE TABLE interventions (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id),
    kind         TEXT NOT NULL,
    description  TEXT NOT NULL,
    result       TEXT NOT NULL CHECK (result IN ('accepted', 'declined', 'pending')),
    agent_id     INTEGER REFERENCES agents(id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX interventions_ticket ON interventions (ticket_id, id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER REFERENCES tickets(id),
    actor_kind  TEXT NOT NULL,
    actor_id    INTEGER,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX events_ticket ON events (ticket_id, id);
CREATE INDEX events_kind ON events (kind, at);

-- The event log is append-only: history that can be edited is not history.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- One document per subject and per message; `kind` lets customers' searches skip notes.
CREATE VIRTUAL TABLE search_docs USING fts5 (
    ticket_id UNINDEXED,
    kind UNINDEXED,
    subject,
    body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
