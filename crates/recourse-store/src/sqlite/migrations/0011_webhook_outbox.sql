-- The webhook outbox is written by the database in the event's own statement: every
-- event gets a delivery row per active webhook that asked for its kind (`events` is
-- ' kind other_kind ', or '' for all). Same transaction as the event, so a committed
-- event is never left unsent, and no extra round trip for the writer.
CREATE TRIGGER webhook_outbox AFTER INSERT ON events BEGIN
    INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at)
    SELECT w.id, new.id, new.at, new.at FROM webhooks w
    WHERE w.active = TRUE AND (w.events = '' OR instr(w.events, ' ' || new.kind || ' ') > 0);
END;
