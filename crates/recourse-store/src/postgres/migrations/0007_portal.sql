-- The customer portal: one-time sign-in links sent by email, and attachments that
-- customers upload with their messages (kept beside those that arrive by mail).

-- A sign-in link is also its own small outbox: the row is queued when a customer asks,
-- and the sender draws the random token only when it mails the link, so the token
-- itself is never stored; only its SHA-256 is, with the expiry and when it was used.
CREATE TABLE portal_links (
    id               BIGSERIAL PRIMARY KEY,
    customer_id      BIGINT NOT NULL REFERENCES customers(id),
    to_address       TEXT NOT NULL,
    token_hash       TEXT UNIQUE,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'suppressed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    expires_at       BIGINT,
    used_at          BIGINT,
    sent_at          BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX portal_links_due ON portal_links (next_attempt_at) WHERE state = 'queued';
CREATE INDEX portal_links_customer ON portal_links (customer_id, created_at);

-- Attachments uploaded in the portal belong to a message and to no received mail.
ALTER TABLE mail_attachments ALTER COLUMN inbound_id DROP NOT NULL;
ALTER TABLE mail_attachments ADD COLUMN message_ref BIGINT REFERENCES messages(id);
