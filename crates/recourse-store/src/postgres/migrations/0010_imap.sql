-- How far the IMAP poller has read each folder it watches (account = user@host/folder).
-- A UID means something only under its folder's UIDVALIDITY; when that changes the
-- folder is read again from the start, and Message-IDs keep old messages from doubling.
CREATE TABLE imap_cursors (
    id          BIGSERIAL PRIMARY KEY,
    account     TEXT NOT NULL UNIQUE,
    uidvalidity BIGINT NOT NULL,
    last_uid    BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
