-- The email channel: the addresses we receive for, every raw message as it arrived
-- (stored before we acknowledge it), Message-IDs for threading and de-duplication,
-- attachments, addresses that bounce, and the outbox of mail to send.

CREATE TABLE mailboxes (
    id          INTEGER PRIMARY KEY,
    address     TEXT NOT NULL UNIQUE,
    team_id     INTEGER REFERENCES teams(id),
    created_at  INTEGER NOT NULL
);

-- One row per message received, whole. `state` says what became of it; a message
-- that could not be handled stays here as `quarantined` with the reason.
CREATE TABLE inbound_mail (
    id             INTEGER PRIMARY KEY,
    source         TEXT NOT NULL,
    envelope_from  TEXT,
    envelope_to    TEXT NOT NULL DEFAULT '[]',
    raw            BLOB NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('received', 'ticket', 'threaded', 'auto_reply', 'bounce', 'duplicate', 'quarantined')),
    lease_until    INTEGER,
    message_id     TEXT,
    from_address   TEXT,
    subject        TEXT,
    body_text      TEXT,
    ticket_id      INTEGER REFERENCES tickets(id),
    message_ref    INTEGER REFERENCES messages(id),
    reason         TEXT,
    received_at    INTEGER NOT NULL,
    processed_at   INTEGER
);
CREATE INDEX inbound_mail_pending ON inbound_mail (id) WHERE state = 'received';
CREATE INDEX inbound_mail_state ON inbound_mail (state, id);

-- Every Message-ID we have seen or sent, once: a second delivery of the same message
-- finds its ID taken, and replies find their ticket through In-Reply-To/References.
CREATE TABLE mail_message_ids (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    ticket_id    INTEGER REFERENCES tickets(id),
    inbound_id   INTEGER REFERENCES inbound_mail(id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX mail_message_ids_ticket ON mail_message_ids (ticket_id, id);

CREATE TABLE mail_attachments (
    id            INTEGER PRIMARY KEY,
    inbound_id    INTEGER NOT NULL REFERENCES inbound_mail(id),
    ticket_id     INTEGER REFERENCES tickets(id),
    filename      TEXT,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    content       BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX mail_attachments_ticket ON mail_attachments (ticket_id, id);

-- Addresses whose mail bounced; automatic mail to them is held back.
CREATE TABLE mail_addresses (
    id              INTEGER PRIMARY KEY,
    address         TEXT NOT NULL UNIQUE,
    bouncing_since  INTEGER,
    bounce_reason   TEXT,
    bounce_count    INTEGER NOT NULL DEFAULT 0
);

-- The outbox: one row per reply to send, written in the reply's transaction.
CREATE TABLE outbound_mail (
    id               INTEGER PRIMARY KEY,
    ticket_id        INTEGER NOT NULL REFERENCES tickets(id),
    message_ref      INTEGER NOT NULL REFERENCES messages(id),
    to_address       TEXT NOT NULL,
    automatic        INTEGER NOT NULL DEFAULT 0,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'suppressed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    message_id       TEXT,
    last_error       TEXT,
    sent_at          INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX outbound_mail_due ON outbound_mail (next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbound_mail_ticket ON outbound_mail (ticket_id, id);
CREATE INDEX outbound_mail_automatic ON outbound_mail (to_address, sent_at) WHERE automatic = 1;
