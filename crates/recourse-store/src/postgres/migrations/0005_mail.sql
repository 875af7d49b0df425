-- The email channel: the addresses we receive for, every raw message as it arrived
-- (stored before we acknowledge it), Message-IDs for threading and de-duplication,
-- attachments, addresses that bounce, and the outbox of mail to send.

CREATE TABLE mailboxes (
    id          BIGSERIAL PRIMARY KEY,
    address     TEXT NOT NULL UNIQUE,
    team_id     BIGINT REFERENCES teams(id),
    created_at  BIGINT NOT NULL
);

-- One row per message received, whole. `state` says what became of it; a message
-- that could not be handled stays here as `quarantined` with the reason.
CREATE TABLE inbound_mail (
    id             BIGSERIAL PRIMARY KEY,
    source         TEXT NOT NULL,
    envelope_from  TEXT,
    envelope_to    TEXT NOT NULL DEFAULT '[]',
    raw            BYTEA NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('received', 'ticket', 'threaded', 'auto_reply', 'bounce', 'duplicate', 'quarantined')),
    lease_until    BIGINT,
    message_id     TEXT,
    from_address   TEXT,
    subject        TEXT,
    body_text      TEXT,
    ticket_id      BIGINT REFERENCES tickets(id),
    message_ref    BIGINT REFERENCES messages(id),
    reason         TEXT,
    received_at    BIGINT NOT NULL,
    processed_at   BIGINT
);
CREATE INDEX inbound_mail_pending ON inbound_mail (id) WHERE state = 'received';
CREATE INDEX inbound_mail_state ON inbound_mail (state, id);

-- Every Message-ID we have seen or sent, once: a second delivery of the same message
-- finds its ID taken, and replies find their ticket through In-Reply-To/References.
CREATE TABLE mail_message_ids (
    id           BIGSERIAL PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    ticket_id    BIGINT REFERENCES tickets(id),
    inbound_id   BIGINT REFERENCES inbound_mail(id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX mail_message_ids_ticket ON mail_message_ids (ticket_id, id);

CREATE TABLE mail_attachments (
    id            BIGSERIAL PRIMARY KEY,
    inbound_id    BIGINT NOT NULL REFERENCES inbound_mail(id),
    ticket_id     BIGINT REFERENCES tickets(id),
    filename      TEXT,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    content       BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX mail_attachments_ticket ON mail_attachments (ticket_id, id);

-- Addresses whose mail bounced; automatic mail to them is held back.
CREATE TABLE mail_addresses (
    id              BIGSERIAL PRIMARY KEY,
    address         TEXT NOT NULL UNIQUE,
    bouncing_since  BIGINT,
    bounce_reason   TEXT,
    bounce_count    BIGINT NOT NULL DEFAULT 0
);

-- The outbox: one row per reply to send, written in the reply's transaction.
CREATE TABLE outbound_mail (
    id               BIGSERIAL PRIMARY KEY,
    ticket_id        BIGINT NOT NULL REFERENCES tickets(id),
    message_ref      BIGINT NOT NULL REFERENCES messages(id),
    to_address       TEXT NOT NULL,
    automatic        BOOLEAN NOT NULL DEFAULT FALSE,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'suppressed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    message_id       TEXT,
    last_error       TEXT,
    sent_at          BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX outbound_mail_due ON outbound_mail (next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbound_mail_ticket ON outbound_mail (ticket_id, id);
CREATE INDEX outbound_mail_automatic ON outbound_mail (to_address, sent_at) WHERE automatic;
