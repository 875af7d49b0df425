-- When the desk cannot help: can't-help records and their review, transfers and
-- ping-pong, the referral directory, agent protection, surveys, and what reports need.

ALTER TABLE tickets ADD COLUMN first_response_at BIGINT;
ALTER TABLE tickets ADD COLUMN ended_at BIGINT;
-- The first and the latest reading of the customer's messages: recovery is the move
-- from a negative first to a neutral or positive latest.
ALTER TABLE tickets ADD COLUMN first_demeanor TEXT;
ALTER TABLE tickets ADD COLUMN last_demeanor TEXT;
ALTER TABLE tickets ADD COLUMN transfers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN transfers_since_reply BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN ping_pong BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN review_pending BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX tickets_ended ON tickets (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX tickets_flagged ON tickets (id) WHERE ping_pong OR review_pending;

ALTER TABLE customers ADD COLUMN supervised BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE messages ADD COLUMN masked BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE cant_help (
    id                BIGSERIAL PRIMARY KEY,
    ticket_id         BIGINT NOT NULL REFERENCES tickets(id),
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
    message_id        BIGINT REFERENCES messages(id),
    created_at        BIGINT NOT NULL,
    reviewed_at       BIGINT
);
CREATE INDEX cant_help_ticket ON cant_help (ticket_id, id);
CREATE INDEX cant_help_pending ON cant_help (id) WHERE state = 'pending_review';

CREATE TABLE alternatives (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    serves      TEXT NOT NULL DEFAULT '[]',
    contact     TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE referrals (
    id              BIGSERIAL PRIMARY KEY,
    ticket_id       BIGINT NOT NULL REFERENCES tickets(id),
    customer_id     BIGINT NOT NULL REFERENCES customers(id),
    alternative_id  BIGINT NOT NULL REFERENCES alternatives(id),
    message_id      BIGINT REFERENCES messages(id),
    at              BIGINT NOT NULL
);
CREATE INDEX referrals_at ON referrals (at);
CREATE INDEX tickets_customer_created ON tickets (customer_id, created_at);

CREATE TABLE surveys (
    id            BIGSERIAL PRIMARY KEY,
    ticket_id     BIGINT NOT NULL UNIQUE REFERENCES tickets(id),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    answered_at   BIGINT,
    product       BIGINT,
    pleasantness  BIGINT,
    competence    BIGINT,
    recommend     BIGINT,
    comment       TEXT
);
