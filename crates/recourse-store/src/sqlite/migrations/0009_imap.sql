-- How far the IMAP poller has read each folder it watches (account = user@host/folder).
-- A UID means something only under its folder's UIDVALIDITY; when that changes the
-- folder is read again from the start, and Message-IDs keep old messages from doubling.
CREATE TABLE imap_cursors (
    id          INTEGER PRIMARY KEY,
    account     TEXT NOT NULL UNIQUE,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
