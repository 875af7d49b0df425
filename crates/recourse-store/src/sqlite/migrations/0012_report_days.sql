-- The recovery report's figures per UTC day, team and outcome, kept by the database as
-- tickets end (or are reopened, or change after ending), so a report over whole days
-- sums a few rows per day instead of reading every ended ticket; only the partial days
-- at a range's edges are read ticket by ticket. `shard` (id % 8) spreads concurrent
-- writers over several rows of a day, so ending tickets on several nodes do not queue
-- on one counter. Ticket-level rules are the same as the report's own query.
CREATE TABLE report_days (
    day               BIGINT NOT NULL, -- ended_at / 86,400,000
    team_key          BIGINT NOT NULL, -- team_id, 0 for none
    outcome           TEXT NOT NULL,   -- '' for none
    shard             BIGINT NOT NULL,
    ended             BIGINT NOT NULL DEFAULT 0,
    inconsolable      BIGINT NOT NULL DEFAULT 0,
    started_negative  BIGINT NOT NULL DEFAULT 0,
    recovered         BIGINT NOT NULL DEFAULT 0,
    transfers         BIGINT NOT NULL DEFAULT 0,
    ping_pong         BIGINT NOT NULL DEFAULT 0,
    first_responses   BIGINT NOT NULL DEFAULT 0,
    first_response_ms BIGINT NOT NULL DEFAULT 0,
    resolution_ms     BIGINT NOT NULL DEFAULT 0,
    sla_met           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, team_key, outcome, shard)
);

INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met)
SELECT t.ended_at / 86400000, COALESCE(t.team_id, 0), COALESCE(t.outcome, ''), t.id % 8,
       SUM(1),
       SUM(CASE WHEN t.outcome = 'inconsolable' THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.first_demeanor IN ('frustrated', 'angry', 'abusive') AND t.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END),
       SUM(t.transfers),
       SUM(CASE WHEN t.ping_pong THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(COALESCE(t.first_response_at - t.created_at, 0)),
       SUM(t.ended_at - t.created_at),
       SUM(CASE WHEN t.sla_breached = 0 THEN 1 ELSE 0 END)
FROM tickets t WHERE t.ended_at IS NOT NULL
GROUP BY t.ended_at / 86400000, COALESCE(t.team_id, 0), COALESCE(t.outcome, ''), t.id % 8;

CREATE TRIGGER report_days_insert AFTER INSERT ON tickets WHEN new.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met)
    VALUES (
        new.ended_at / 86400000,
        COALESCE(new.team_id, 0),
        COALESCE(new.outcome, ''),
        new.id % 8,
        1,
        CASE WHEN new.outcome = 'inconsolable' THEN 1 ELSE 0 END,
        CASE WHEN new.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END,
        CASE WHEN new.first_demeanor IN ('frustrated', 'angry', 'abusive') AND new.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END,
        new.transfers,
        CASE WHEN new.ping_pong THEN 1 ELSE 0 END,
        CASE WHEN new.first_response_at IS NOT NULL THEN 1 ELSE 0 END,
        COALESCE(new.first_response_at - new.created_at, 0),
        new.ended_at - new.created_at,
        CASE WHEN new.sla_breached = 0 THEN 1 ELSE 0 END
    )
    ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
        ended = report_days.ended + excluded.ended,
        inconsolable = report_days.inconsolable + excluded.inconsolable,
        started_negative = report_days.started_negative + excluded.started_negative,
        recovered = report_days.recovered + excluded.recovered,
        transfers = report_days.transfers + excluded.transfers,
        ping_pong = report_days.ping_pong + excluded.ping_pong,
        first_responses = report_days.first_responses + excluded.first_responses,
        first_response_ms = report_days.first_response_ms + excluded.first_response_ms,
        resolution_ms = report_days.resolution_ms + excluded.resolution_ms,
        sla_met = report_days.sla_met + excluded.sla_met;
END;

CREATE TRIGGER report_days_update AFTER UPDATE ON tickets
WHEN old.ended_at IS NOT NULL OR new.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met)
    SELECT
        old.ended_at / 86400000,
        COALESCE(old.team_id, 0),
        COALESCE(old.outcome, ''),
        old.id % 8,
        -(1),
        -(CASE WHEN old.outcome = 'inconsolable' THEN 1 ELSE 0 END),
        -(CASE WHEN old.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END),
        -(CASE WHEN old.first_demeanor IN ('frustrated', 'angry', 'abusive') AND old.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END),
        -(old.transfers),
        -(CASE WHEN old.ping_pong THEN 1 ELSE 0 END),
        -(CASE WHEN old.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
        -(COALESCE(old.first_response_at - old.created_at, 0)),
        -(old.ended_at - old.created_at),
        -(CASE WHEN old.sla_breached = 0 THEN 1 ELSE 0 END)
    WHERE old.ended_at IS NOT NULL
    ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
        ended = report_days.ended + excluded.ended,
        inconsolable = report_days.inconsolable + excluded.inconsolable,
        started_negative = report_days.started_negative + excluded.started_negative,
        recovered = report_days.recovered + excluded.recovered,
        transfers = report_days.transfers + excluded.transfers,
        ping_pong = report_days.ping_pong + excluded.ping_pong,
        first_responses = report_days.first_responses + excluded.first_responses,
        first_response_ms = report_days.first_response_ms + excluded.first_response_ms,
        resolution_ms = report_days.resolution_ms + excluded.resolution_ms,
        sla_met = report_days.sla_met + excluded.sla_met;
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met)
    SELECT
        new.ended_at / 86400000,
        COALESCE(new.team_id, 0),
        COALESCE(new.outcome, ''),
        new.id % 8,
        1,
        CASE WHEN new.outcome = 'inconsolable' THEN 1 ELSE 0 END,
        CASE WHEN new.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END,
        CASE WHEN new.first_demeanor IN ('frustrated', 'angry', 'abusive') AND new.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END,
        new.transfers,
        CASE WHEN new.ping_pong THEN 1 ELSE 0 END,
        CASE WHEN new.first_response_at IS NOT NULL THEN 1 ELSE 0 END,
        COALESCE(new.first_response_at - new.created_at, 0),
        new.ended_at - new.created_at,
        CASE WHEN new.sla_breached = 0 THEN 1 ELSE 0 END
    WHERE new.ended_at IS NOT NULL
    ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
        ended = report_days.ended + excluded.ended,
        inconsolable = report_days.inconsolable + excluded.inconsolable,
        started_negative = report_days.started_negative + excluded.started_negative,
        recovered = report_days.recovered + excluded.recovered,
        transfers = report_days.transfers + excluded.transfers,
        ping_pong = report_days.ping_pong + excluded.ping_pong,
        first_responses = report_days.first_responses + excluded.first_responses,
        first_response_ms = report_days.first_response_ms + excluded.first_response_ms,
        resolution_ms = report_days.resolution_ms + excluded.resolution_ms,
        sla_met = report_days.sla_met + excluded.sla_met;
END;

CREATE TRIGGER report_days_delete AFTER DELETE ON tickets WHEN old.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met)
    VALUES (
        old.ended_at / 86400000,
        COALESCE(old.team_id, 0),
        COALESCE(old.outcome, ''),
        old.id % 8,
        -(1),
        -(CASE WHEN old.outcome = 'inconsolable' THEN 1 ELSE 0 END),
        -(CASE WHEN old.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END),
        -(CASE WHEN old.first_demeanor IN ('frustrated', 'angry', 'abusive') AND old.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END),
        -(old.transfers),
        -(CASE WHEN old.ping_pong THEN 1 ELSE 0 END),
        -(CASE WHEN old.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
        -(COALESCE(old.first_response_at - old.created_at, 0)),
        -(old.ended_at - old.created_at),
        -(CASE WHEN old.sla_breached = 0 THEN 1 ELSE 0 END)
    )
    ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
        ended = report_days.ended + excluded.ended,
        inconsolable = report_days.inconsolable + excluded.inconsolable,
        started_negative = report_days.started_negative + excluded.started_negative,
        recovered = report_days.recovered + excluded.recovered,
        transfers = report_days.transfers + excluded.transfers,
        ping_pong = report_days.ping_pong + excluded.ping_pong,
        first_responses = report_days.first_responses + excluded.first_responses,
        first_response_ms = report_days.first_response_ms + excluded.first_response_ms,
        resolution_ms = report_days.resolution_ms + excluded.resolution_ms,
        sla_met = report_days.sla_met + excluded.sla_met;
END;
