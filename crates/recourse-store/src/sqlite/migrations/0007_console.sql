-- The agent console: canned replies, and the indexes that keep its queue counts cheap.

-- Saved answers with {{variables}} (checked against the canned-reply variables when
-- written), rendered for a ticket before they reach the composer.
CREATE TABLE canned_replies (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL UNIQUE,
    body        TEXT NOT NULL,
    created_by  INTEGER REFERENCES agents(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The "flagged" queue: live tickets (ended_at is NULL exactly while a ticket is
-- active) passed around, waiting for a can't-help review, or whose customer's latest
-- message read as abusive. The condition is repeated word for word in the query
-- (console_sql.rs) so the planner can use this index; it holds only live flagged
-- tickets, so it stays small however much history the desk keeps.
CREATE INDEX tickets_console_flagged ON tickets (id)
    WHERE ended_at IS NULL AND (ping_pong = TRUE OR review_pending = TRUE OR last_demeanor = 'abusive');
-- …and the tickets of customers under supervision (few customers; their tickets come
-- through tickets_customer).
CREATE INDEX customers_supervised ON customers (id) WHERE supervised = TRUE;
-- The managers' queues, counted the same way: live tickets passed around, and tickets
-- whose can't-help waits for review. (The older tickets_flagged index spells its
-- condition differently on each backend, so one shared query cannot name it.)
CREATE INDEX tickets_console_ping_pong ON tickets (id) WHERE ended_at IS NULL AND ping_pong = TRUE;
CREATE INDEX tickets_console_review ON tickets (id) WHERE review_pending = TRUE;
