-- The customer portal: one-time sign-in links sent by email, and attachments that
-- customers upload with their messages (kept beside those that arrive by mail).

-- A sign-in link is also its own small outbox: the row is queued when a customer asks,
-- and the sender draws the random token only when it mails the link, so the token
-- itself is never stored; only its SHA-256 is, with the expiry and when it was used.
CREATE TABLE portal_links (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers(id),
    to_address       TEXT NOT NULL,
    token_hash       TEXT UNIQUE,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'suppressed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    expires_at       INTEGER,
    used_at          INTEGER,
    sent_at          INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX portal_links_due ON portal_links (next_attempt_at) WHERE state = 'queued';
CREATE INDEX portal_links_customer ON portal_links (customer_id, created_at);

-- Attachments uploaded in the portal belong to a message and to no received mail, so
-- `inbound_id` becomes optional and `message_ref` says which message carried the file.
-- SQLite cannot drop NOT NULL in place: the table is rebuilt with the same ids.
CREATE TABLE mail_attachments_new (
    id            INTEGER PRIMARY KEY,
    inbound_id    INTEGER REFERENCES inbound_mail(id),
    ticket_id     INTEGER REFERENCES tickets(id),
    filename      TEXT,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    content       BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    message_ref   INTEGER REFERENCES messages(id)
);
INSERT INTO mail_attachments_new (id, inbound_id, ticket_id, filename, content_type, size, sha256, content, created_at)
    SELECT id, inbound_id, ticket_id, filename, content_type, size, sha256, content, created_at FROM mail_attachments;
DROP TABLE mail_attachments;
ALTER TABLE mail_attachments_new RENAME TO mail_attachments;
CREATE INDEX mail_attachments_ticket ON mail_attachments (ticket_id, id);
