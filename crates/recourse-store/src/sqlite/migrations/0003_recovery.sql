-- When the desk cannot help: can't-help records and their review, transfers and
-- ping-pong, the referral directory, agent protection, surveys, and what reports need.

ALTER TABLE tickets ADD COLUMN first_response_at INTEGER;
ALTER TABLE tickets ADD COLUMN ended_at INTEGER;
-- The first and the latest reading of the customer's messages: recovery is the move
-- from a negative first to a neutral or positive latest.
ALTER TABLE tickets ADD COLUMN first_demeanor TEXT;
ALTER TABLE tickets ADD COLUMN last_demeanor TEXT;
ALTER TABLE tickets ADD COLUMN transfers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN transfers_since_reply INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN ping_pong INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN review_pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_ended ON tickets (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX tickets_flagged ON tickets (id) WHERE ping_pong = 1 OR review_pending = 1;

ALTER TABLE customers ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN masked INTEGER NOT NULL DEFAULT 0;

CREATE TABLE cant_help (
    id                INTEGER PRIMARY KEY,
    ticket_id         INTEGER NOT NULL REFERENCES tickets(id),
    reason            TEXT NOT NULL,
    explanation       TEXT NOT NULL,
    partial_solution  TEXT,
    justification     TEXT,
    third_party_who   TEXT,
    third_party_why   TEXT,
    third_party_how   TEXT,
    handoff_summary   TEXT,
    state             TEXT NOT NULL CHECK (state IN ('sent', 'pending_review', 'approved', 'returned')),
    review_note       TEXT,
    message_id        INTEGER REFERENCES messages(id),
    created_at        INTEGER NOT NULL,
    reviewed_at       INTEGER
);
CREATE INDEX cant_help_ticket ON cant_help (ticket_id, id);
CREATE INDEX cant_help_pending ON cant_help (id) WHERE state = 'pending_review';

CREATE TABLE alternatives (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    serves      TEXT NOT NULL DEFAULT '[]',
    contact     TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

CREATE TABLE referrals (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id),
    customer_id     INTEGER NOT NULL REFERENCES customers(id),
    alternative_id  INTEGER NOT NULL REFERENCES alternatives(id),
    message_id      INTEGER REFERENCES messages(id),
    at              INTEGER NOT NULL
);
CREATE INDEX referrals_at ON referrals (at);
CREATE INDEX tickets_customer_created ON tickets (customer_id, created_at);

CREATE TABLE surveys (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER NOT NULL UNIQUE REFERENCES tickets(id),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    answered_at   INTEGER,
    product       INTEGER,
    pleasantness  INTEGER,
    competence    INTEGER,
    recommend     INTEGER,
    comment       TEXT
);
