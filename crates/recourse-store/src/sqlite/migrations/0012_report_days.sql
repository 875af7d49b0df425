-- The recovery report's figures per UTC day, team and outcome, kept by the database as
-- tickets end (or are reopened, or change after ending) and as their surveys are
-- answered, so a report over whole days sums a few rows per day instead of reading
-- every ended ticket; only the partial days at a range's edges are read ticket by ticket.
-- `shard` (id % 8) spreads concurrent writers over several rows of a day, so ending
-- tickets on several nodes does not queue on one counter. The rules are the report's own.
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

INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
SELECT t.ended_at / 86400000,
       COALESCE(t.team_id, 0),
       COALESCE(t.outcome, ''),
       t.id % 8,
       SUM(1),
       SUM(CASE WHEN t.outcome = 'inconsolable' THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.first_demeanor IN ('frustrated', 'angry', 'abusive') AND t.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END),
       SUM(t.transfers),
       SUM(CASE WHEN t.ping_pong THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(COALESCE(t.first_response_at - t.created_at, 0)),
       SUM(t.ended_at - t.created_at),
       SUM(CASE WHEN t.sla_breached = 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(COALESCE(v.product, 0)),
       SUM(COALESCE(v.pleasantness, 0)),
       SUM(COALESCE(v.competence, 0)),
       SUM(CASE WHEN v.recommend >= 9 THEN 1 ELSE 0 END),
       SUM(CASE WHEN v.recommend <= 6 THEN 1 ELSE 0 END)
FROM tickets t LEFT JOIN surveys v ON v.ticket_id = t.id AND v.answered_at IS NOT NULL
WHERE t.ended_at IS NOT NULL
GROUP BY t.ended_at / 86400000, COALESCE(t.team_id, 0), COALESCE(t.outcome, ''), t.id % 8
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

CREATE TRIGGER report_days_ticket_added AFTER INSERT ON tickets WHEN new.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT new.ended_at / 86400000,
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
           CASE WHEN new.sla_breached = 0 THEN 1 ELSE 0 END,
           0,
           0,
           0,
           0,
           0,
           0
    WHERE TRUE
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

-- A ticket's figures (and its survey's) move out of where they were and into where they are.
CREATE TRIGGER report_days_ticket_changed AFTER UPDATE ON tickets
WHEN old.ended_at IS NOT NULL OR new.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT old.ended_at / 86400000,
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
           -(CASE WHEN old.sla_breached = 0 THEN 1 ELSE 0 END),
           -(CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END),
           -(COALESCE(v.product, 0)),
           -(COALESCE(v.pleasantness, 0)),
           -(COALESCE(v.competence, 0)),
           -(CASE WHEN v.recommend >= 9 THEN 1 ELSE 0 END),
           -(CASE WHEN v.recommend <= 6 THEN 1 ELSE 0 END)
    FROM (SELECT 1) LEFT JOIN surveys v ON v.ticket_id = old.id AND v.answered_at IS NOT NULL
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
        sla_met = report_days.sla_met + excluded.sla_met,
        survey_answers = report_days.survey_answers + excluded.survey_answers,
        product_sum = report_days.product_sum + excluded.product_sum,
        pleasantness_sum = report_days.pleasantness_sum + excluded.pleasantness_sum,
        competence_sum = report_days.competence_sum + excluded.competence_sum,
        promoters = report_days.promoters + excluded.promoters,
        detractors = report_days.detractors + excluded.detractors;
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT new.ended_at / 86400000,
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
           CASE WHEN new.sla_breached = 0 THEN 1 ELSE 0 END,
           CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END,
           COALESCE(v.product, 0),
           COALESCE(v.pleasantness, 0),
           COALESCE(v.competence, 0),
           CASE WHEN v.recommend >= 9 THEN 1 ELSE 0 END,
           CASE WHEN v.recommend <= 6 THEN 1 ELSE 0 END
    FROM (SELECT 1) LEFT JOIN surveys v ON v.ticket_id = new.id AND v.answered_at IS NOT NULL
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
        sla_met = report_days.sla_met + excluded.sla_met,
        survey_answers = report_days.survey_answers + excluded.survey_answers,
        product_sum = report_days.product_sum + excluded.product_sum,
        pleasantness_sum = report_days.pleasantness_sum + excluded.pleasantness_sum,
        competence_sum = report_days.competence_sum + excluded.competence_sum,
        promoters = report_days.promoters + excluded.promoters,
        detractors = report_days.detractors + excluded.detractors;
END;

CREATE TRIGGER report_days_ticket_removed AFTER DELETE ON tickets WHEN old.ended_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT old.ended_at / 86400000,
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
           -(CASE WHEN old.sla_breached = 0 THEN 1 ELSE 0 END),
           -(CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END),
           -(COALESCE(v.product, 0)),
           -(COALESCE(v.pleasantness, 0)),
           -(COALESCE(v.competence, 0)),
           -(CASE WHEN v.recommend >= 9 THEN 1 ELSE 0 END),
           -(CASE WHEN v.recommend <= 6 THEN 1 ELSE 0 END)
    FROM (SELECT 1) LEFT JOIN surveys v ON v.ticket_id = old.id AND v.answered_at IS NOT NULL
    WHERE TRUE
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

-- A survey answered (or changed, or removed) counts on its ticket's day, once the ticket has ended.
CREATE TRIGGER report_days_survey_added AFTER INSERT ON surveys WHEN new.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT t.ended_at / 86400000,
           COALESCE(t.team_id, 0),
           COALESCE(t.outcome, ''),
           t.id % 8,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           CASE WHEN new.answered_at IS NOT NULL THEN 1 ELSE 0 END,
           COALESCE(new.product, 0),
           COALESCE(new.pleasantness, 0),
           COALESCE(new.competence, 0),
           CASE WHEN new.recommend >= 9 THEN 1 ELSE 0 END,
           CASE WHEN new.recommend <= 6 THEN 1 ELSE 0 END
    FROM tickets t WHERE t.id = new.ticket_id AND t.ended_at IS NOT NULL AND new.answered_at IS NOT NULL
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

CREATE TRIGGER report_days_survey_changed AFTER UPDATE ON surveys WHEN old.answered_at IS NOT NULL OR new.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT t.ended_at / 86400000,
           COALESCE(t.team_id, 0),
           COALESCE(t.outcome, ''),
           t.id % 8,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           -(CASE WHEN old.answered_at IS NOT NULL THEN 1 ELSE 0 END),
           -(COALESCE(old.product, 0)),
           -(COALESCE(old.pleasantness, 0)),
           -(COALESCE(old.competence, 0)),
           -(CASE WHEN old.recommend >= 9 THEN 1 ELSE 0 END),
           -(CASE WHEN old.recommend <= 6 THEN 1 ELSE 0 END)
    FROM tickets t WHERE t.id = old.ticket_id AND t.ended_at IS NOT NULL AND old.answered_at IS NOT NULL
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
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT t.ended_at / 86400000,
           COALESCE(t.team_id, 0),
           COALESCE(t.outcome, ''),
           t.id % 8,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           CASE WHEN new.answered_at IS NOT NULL THEN 1 ELSE 0 END,
           COALESCE(new.product, 0),
           COALESCE(new.pleasantness, 0),
           COALESCE(new.competence, 0),
           CASE WHEN new.recommend >= 9 THEN 1 ELSE 0 END,
           CASE WHEN new.recommend <= 6 THEN 1 ELSE 0 END
    FROM tickets t WHERE t.id = new.ticket_id AND t.ended_at IS NOT NULL AND new.answered_at IS NOT NULL
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

CREATE TRIGGER report_days_survey_removed AFTER DELETE ON surveys WHEN old.answered_at IS NOT NULL BEGIN
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT t.ended_at / 86400000,
           COALESCE(t.team_id, 0),
           COALESCE(t.outcome, ''),
           t.id % 8,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           -(CASE WHEN old.answered_at IS NOT NULL THEN 1 ELSE 0 END),
           -(COALESCE(old.product, 0)),
           -(COALESCE(old.pleasantness, 0)),
           -(COALESCE(old.competence, 0)),
           -(CASE WHEN old.recommend >= 9 THEN 1 ELSE 0 END),
           -(CASE WHEN old.recommend <= 6 THEN 1 ELSE 0 END)
    FROM tickets t WHERE t.id = old.ticket_id AND t.ended_at IS NOT NULL AND old.answered_at IS NOT NULL
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
