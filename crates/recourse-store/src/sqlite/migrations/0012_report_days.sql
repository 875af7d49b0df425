-- The recovery report's figures per UTC day, team and outcome, kept by the database as
-- tickets end (or are reopened, or change after ending) and as their surveys are
-- answered, so a report over whole days sums a few rows per day instead of reading
-- every ended ticket; only the partial days at a range's edges are read ticket by
-- ticket. `shard` (id % 8) spreads concurrent writers over several rows of a day, so
-- ending tickets on several nodes does not queue on one counter.
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
    survey_answers    BIGINT NOT NULL DEFAULT 0,
    product_sum       BIGINT NOT NULL DEFAULT 0,
    pleasantness_sum  BIGINT NOT NULL DEFAULT 0,
    competence_sum    BIGINT NOT NULL DEFAULT 0,
    promoters         BIGINT NOT NULL DEFAULT 0,
    detractors        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, team_key, outcome, shard)
);

-- One ended ticket's figures, its answered survey's included: the report's own rules,
-- written once. Every change below takes a ticket's figures out before it and puts
-- them back after it.
CREATE VIEW report_ticket_figures AS
SELECT t.id AS ticket_id, t.ended_at / 86400000 AS day, COALESCE(t.team_id, 0) AS team_key,
       COALESCE(t.outcome, '') AS outcome, t.id % 8 AS shard,
       1 AS ended,
       CASE WHEN t.outcome = 'inconsolable' THEN 1 ELSE 0 END AS inconsolable,
       CASE WHEN t.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END AS started_negative,
       CASE WHEN t.first_demeanor IN ('frustrated', 'angry', 'abusive') AND t.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END AS recovered,
       t.transfers AS transfers,
       CASE WHEN t.ping_pong THEN 1 ELSE 0 END AS ping_pong,
       CASE WHEN t.first_response_at IS NOT NULL THEN 1 ELSE 0 END AS first_responses,
       COALESCE(t.first_response_at - t.created_at, 0) AS first_response_ms,
       t.ended_at - t.created_at AS resolution_ms,
       CASE WHEN t.sla_breached = 0 THEN 1 ELSE 0 END AS sla_met,
       CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END AS survey_answers,
       COALESCE(v.product, 0) AS product_sum,
       COALESCE(v.pleasantness, 0) AS pleasantness_sum,
       COALESCE(v.competence, 0) AS competence_sum,
       CASE WHEN v.recommend >= 9 THEN 1 ELSE 0 END AS promoters,
       CASE WHEN v.recommend <= 6 THEN 1 ELSE 0 END AS detractors
FROM tickets t LEFT JOIN surveys v ON v.ticket_id = t.id AND v.answered_at IS NOT NULL
WHERE t.ended_at IS NOT NULL;

-- Signed figures go through this view; its trigger adds them up, so the sum is written
-- once.
CREATE VIEW report_days_change AS SELECT 1 AS sign, * FROM report_ticket_figures WHERE 0;

CREATE TRIGGER report_days_change_add INSTEAD OF INSERT ON report_days_change BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    VALUES (new.day, new.team_key, new.outcome, new.shard,
        new.sign * new.ended, new.sign * new.inconsolable, new.sign * new.started_negative, new.sign * new.recovered, new.sign * new.transfers, new.sign * new.ping_pong, new.sign * new.first_responses, new.sign * new.first_response_ms, new.sign * new.resolution_ms, new.sign * new.sla_met, new.sign * new.survey_answers, new.sign * new.product_sum, new.sign * new.pleasantness_sum, new.sign * new.competence_sum, new.sign * new.promoters, new.sign * new.detractors)
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
        sla_met = report_days.sla_met + excluded.sla_met,
        survey_answers = report_days.survey_answers + excluded.survey_answers,
        product_sum = report_days.product_sum + excluded.product_sum,
        pleasantness_sum = report_days.pleasantness_sum + excluded.pleasantness_sum,
        competence_sum = report_days.competence_sum + excluded.competence_sum,
        promoters = report_days.promoters + excluded.promoters,
        detractors = report_days.detractors + excluded.detractors;
END;

INSERT INTO report_days_change SELECT 1, * FROM report_ticket_figures;

CREATE TRIGGER report_days_ticket_added AFTER INSERT ON tickets WHEN new.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT 1, * FROM report_ticket_figures WHERE ticket_id = new.id;
END;
CREATE TRIGGER report_days_ticket_changing BEFORE UPDATE ON tickets WHEN old.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT -1, * FROM report_ticket_figures WHERE ticket_id = old.id;
END;
CREATE TRIGGER report_days_ticket_changed AFTER UPDATE ON tickets WHEN new.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT 1, * FROM report_ticket_figures WHERE ticket_id = new.id;
END;
CREATE TRIGGER report_days_ticket_removing BEFORE DELETE ON tickets WHEN old.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT -1, * FROM report_ticket_figures WHERE ticket_id = old.id;
END;
CREATE TRIGGER report_days_survey_added_before BEFORE INSERT ON surveys WHEN new.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT -1, * FROM report_ticket_figures WHERE ticket_id = new.ticket_id;
END;
CREATE TRIGGER report_days_survey_added_after AFTER INSERT ON surveys WHEN new.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT 1, * FROM report_ticket_figures WHERE ticket_id = new.ticket_id;
END;
CREATE TRIGGER report_days_survey_changed_before BEFORE UPDATE ON surveys WHEN old.answered_at IS NOT NULL OR new.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT -1, * FROM report_ticket_figures WHERE ticket_id = old.ticket_id;
END;
CREATE TRIGGER report_days_survey_changed_after AFTER UPDATE ON surveys WHEN old.answered_at IS NOT NULL OR new.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT 1, * FROM report_ticket_figures WHERE ticket_id = new.ticket_id;
END;
CREATE TRIGGER report_days_survey_removed_before BEFORE DELETE ON surveys WHEN old.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT -1, * FROM report_ticket_figures WHERE ticket_id = old.ticket_id;
END;
CREATE TRIGGER report_days_survey_removed_after AFTER DELETE ON surveys WHEN old.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days_change SELECT 1, * FROM report_ticket_figures WHERE ticket_id = old.ticket_id;
END;
