-- Row triggers do not fire on TRUNCATE, which would otherwise empty the append-only
-- event log in one statement (directly, or through `TRUNCATE tickets CASCADE`).
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
