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

-- New tickets are counted per statement, from the statement's new rows grouped by
-- day: a bulk insert (a seed, `db copy`) then updates each day's row once, instead of
-- once per ticket inside one transaction (which would leave a long chain of row
-- versions to walk on every update). New tickets have no survey yet.
CREATE FUNCTION report_days_tickets_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
           0,
           0,
           0,
           0,
           0,
           0
    FROM new_rows t WHERE t.ended_at IS NOT NULL
    GROUP BY t.ended_at / 86400000, COALESCE(t.team_id, 0), COALESCE(t.outcome, ''), t.id % 8
    ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
        ended = report_days.ended + EXCLUDED.ended,
        inconsolable = report_days.inconsolable + EXCLUDED.inconsolable,
        started_negative = report_days.started_negative + EXCLUDED.started_negative,
        recovered = report_days.recovered + EXCLUDED.recovered,
        transfers = report_days.transfers + EXCLUDED.transfers,
        ping_pong = report_days.ping_pong + EXCLUDED.ping_pong,
        first_responses = report_days.first_responses + EXCLUDED.first_responses,
        first_response_ms = report_days.first_response_ms + EXCLUDED.first_response_ms,
        resolution_ms = report_days.resolution_ms + EXCLUDED.resolution_ms,
        sla_met = report_days.sla_met + EXCLUDED.sla_met,
        survey_answers = report_days.survey_answers + EXCLUDED.survey_answers,
        product_sum = report_days.product_sum + EXCLUDED.product_sum,
        pleasantness_sum = report_days.pleasantness_sum + EXCLUDED.pleasantness_sum,
        competence_sum = report_days.competence_sum + EXCLUDED.competence_sum,
        promoters = report_days.promoters + EXCLUDED.promoters,
        detractors = report_days.detractors + EXCLUDED.detractors;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_days_tickets_added AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_days_tickets_added();

-- A change to a ticket that has ended (or ends now) moves its figures, and its survey's:
-- out of where they were, into where they are. Row by row, and only for ended tickets,
-- so the ordinary updates of open tickets pay nothing.
CREATE FUNCTION report_days_ticket_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.ended_at IS NOT NULL THEN
        INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
        SELECT OLD.ended_at / 86400000,
               COALESCE(OLD.team_id, 0),
               COALESCE(OLD.outcome, ''),
               OLD.id % 8,
               -(1),
               -(CASE WHEN OLD.outcome = 'inconsolable' THEN 1 ELSE 0 END),
               -(CASE WHEN OLD.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END),
               -(CASE WHEN OLD.first_demeanor IN ('frustrated', 'angry', 'abusive') AND OLD.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END),
               -(OLD.transfers),
               -(CASE WHEN OLD.ping_pong THEN 1 ELSE 0 END),
               -(CASE WHEN OLD.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
               -(COALESCE(OLD.first_response_at - OLD.created_at, 0)),
               -(OLD.ended_at - OLD.created_at),
               -(CASE WHEN OLD.sla_breached = 0 THEN 1 ELSE 0 END),
               -(CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END),
               -(COALESCE(v.product, 0)),
               -(COALESCE(v.pleasantness, 0)),
               -(COALESCE(v.competence, 0)),
               -(CASE WHEN v.recommend >= 9 THEN 1 ELSE 0 END),
               -(CASE WHEN v.recommend <= 6 THEN 1 ELSE 0 END)
        FROM (SELECT 1) AS one LEFT JOIN surveys v ON v.ticket_id = OLD.id AND v.answered_at IS NOT NULL
        ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
            ended = report_days.ended + EXCLUDED.ended,
            inconsolable = report_days.inconsolable + EXCLUDED.inconsolable,
            started_negative = report_days.started_negative + EXCLUDED.started_negative,
            recovered = report_days.recovered + EXCLUDED.recovered,
            transfers = report_days.transfers + EXCLUDED.transfers,
            ping_pong = report_days.ping_pong + EXCLUDED.ping_pong,
            first_responses = report_days.first_responses + EXCLUDED.first_responses,
            first_response_ms = report_days.first_response_ms + EXCLUDED.first_response_ms,
            resolution_ms = report_days.resolution_ms + EXCLUDED.resolution_ms,
            sla_met = report_days.sla_met + EXCLUDED.sla_met,
            survey_answers = report_days.survey_answers + EXCLUDED.survey_answers,
            product_sum = report_days.product_sum + EXCLUDED.product_sum,
            pleasantness_sum = report_days.pleasantness_sum + EXCLUDED.pleasantness_sum,
            competence_sum = report_days.competence_sum + EXCLUDED.competence_sum,
            promoters = report_days.promoters + EXCLUDED.promoters,
            detractors = report_days.detractors + EXCLUDED.detractors;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.ended_at IS NOT NULL THEN
        INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
        SELECT NEW.ended_at / 86400000,
               COALESCE(NEW.team_id, 0),
               COALESCE(NEW.outcome, ''),
               NEW.id % 8,
               1,
               CASE WHEN NEW.outcome = 'inconsolable' THEN 1 ELSE 0 END,
               CASE WHEN NEW.first_demeanor IN ('frustrated', 'angry', 'abusive') THEN 1 ELSE 0 END,
               CASE WHEN NEW.first_demeanor IN ('frustrated', 'angry', 'abusive') AND NEW.last_demeanor IN ('neutral', 'pleased') THEN 1 ELSE 0 END,
               NEW.transfers,
               CASE WHEN NEW.ping_pong THEN 1 ELSE 0 END,
               CASE WHEN NEW.first_response_at IS NOT NULL THEN 1 ELSE 0 END,
               COALESCE(NEW.first_response_at - NEW.created_at, 0),
               NEW.ended_at - NEW.created_at,
               CASE WHEN NEW.sla_breached = 0 THEN 1 ELSE 0 END,
               CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END,
               COALESCE(v.product, 0),
               COALESCE(v.pleasantness, 0),
               COALESCE(v.competence, 0),
               CASE WHEN v.recommend >= 9 THEN 1 ELSE 0 END,
               CASE WHEN v.recommend <= 6 THEN 1 ELSE 0 END
        FROM (SELECT 1) AS one LEFT JOIN surveys v ON v.ticket_id = NEW.id AND v.answered_at IS NOT NULL
        ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
            ended = report_days.ended + EXCLUDED.ended,
            inconsolable = report_days.inconsolable + EXCLUDED.inconsolable,
            started_negative = report_days.started_negative + EXCLUDED.started_negative,
            recovered = report_days.recovered + EXCLUDED.recovered,
            transfers = report_days.transfers + EXCLUDED.transfers,
            ping_pong = report_days.ping_pong + EXCLUDED.ping_pong,
            first_responses = report_days.first_responses + EXCLUDED.first_responses,
            first_response_ms = report_days.first_response_ms + EXCLUDED.first_response_ms,
            resolution_ms = report_days.resolution_ms + EXCLUDED.resolution_ms,
            sla_met = report_days.sla_met + EXCLUDED.sla_met,
            survey_answers = report_days.survey_answers + EXCLUDED.survey_answers,
            product_sum = report_days.product_sum + EXCLUDED.product_sum,
            pleasantness_sum = report_days.pleasantness_sum + EXCLUDED.pleasantness_sum,
            competence_sum = report_days.competence_sum + EXCLUDED.competence_sum,
            promoters = report_days.promoters + EXCLUDED.promoters,
            detractors = report_days.detractors + EXCLUDED.detractors;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_days_ticket_changed AFTER UPDATE ON tickets
    FOR EACH ROW WHEN (OLD.ended_at IS NOT NULL OR NEW.ended_at IS NOT NULL) EXECUTE FUNCTION report_days_ticket_changed();
CREATE TRIGGER report_days_ticket_removed AFTER DELETE ON tickets
    FOR EACH ROW WHEN (OLD.ended_at IS NOT NULL) EXECUTE FUNCTION report_days_ticket_changed();

-- A survey answered (or changed, or removed) counts on its ticket's day, once the
-- ticket has ended.
CREATE FUNCTION report_days_survey_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.answered_at IS NOT NULL THEN
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
               -(CASE WHEN OLD.answered_at IS NOT NULL THEN 1 ELSE 0 END),
               -(COALESCE(OLD.product, 0)),
               -(COALESCE(OLD.pleasantness, 0)),
               -(COALESCE(OLD.competence, 0)),
               -(CASE WHEN OLD.recommend >= 9 THEN 1 ELSE 0 END),
               -(CASE WHEN OLD.recommend <= 6 THEN 1 ELSE 0 END)
        FROM tickets t WHERE t.id = OLD.ticket_id AND t.ended_at IS NOT NULL
        ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
            ended = report_days.ended + EXCLUDED.ended,
            inconsolable = report_days.inconsolable + EXCLUDED.inconsolable,
            started_negative = report_days.started_negative + EXCLUDED.started_negative,
            recovered = report_days.recovered + EXCLUDED.recovered,
            transfers = report_days.transfers + EXCLUDED.transfers,
            ping_pong = report_days.ping_pong + EXCLUDED.ping_pong,
            first_responses = report_days.first_responses + EXCLUDED.first_responses,
            first_response_ms = report_days.first_response_ms + EXCLUDED.first_response_ms,
            resolution_ms = report_days.resolution_ms + EXCLUDED.resolution_ms,
            sla_met = report_days.sla_met + EXCLUDED.sla_met,
            survey_answers = report_days.survey_answers + EXCLUDED.survey_answers,
            product_sum = report_days.product_sum + EXCLUDED.product_sum,
            pleasantness_sum = report_days.pleasantness_sum + EXCLUDED.pleasantness_sum,
            competence_sum = report_days.competence_sum + EXCLUDED.competence_sum,
            promoters = report_days.promoters + EXCLUDED.promoters,
            detractors = report_days.detractors + EXCLUDED.detractors;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.answered_at IS NOT NULL THEN
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
               CASE WHEN NEW.answered_at IS NOT NULL THEN 1 ELSE 0 END,
               COALESCE(NEW.product, 0),
               COALESCE(NEW.pleasantness, 0),
               COALESCE(NEW.competence, 0),
               CASE WHEN NEW.recommend >= 9 THEN 1 ELSE 0 END,
               CASE WHEN NEW.recommend <= 6 THEN 1 ELSE 0 END
        FROM tickets t WHERE t.id = NEW.ticket_id AND t.ended_at IS NOT NULL
        ON CONFLICT (day, team_key, outcome, shard) DO UPDATE SET
            ended = report_days.ended + EXCLUDED.ended,
            inconsolable = report_days.inconsolable + EXCLUDED.inconsolable,
            started_negative = report_days.started_negative + EXCLUDED.started_negative,
            recovered = report_days.recovered + EXCLUDED.recovered,
            transfers = report_days.transfers + EXCLUDED.transfers,
            ping_pong = report_days.ping_pong + EXCLUDED.ping_pong,
            first_responses = report_days.first_responses + EXCLUDED.first_responses,
            first_response_ms = report_days.first_response_ms + EXCLUDED.first_response_ms,
            resolution_ms = report_days.resolution_ms + EXCLUDED.resolution_ms,
            sla_met = report_days.sla_met + EXCLUDED.sla_met,
            survey_answers = report_days.survey_answers + EXCLUDED.survey_answers,
            product_sum = report_days.product_sum + EXCLUDED.product_sum,
            pleasantness_sum = report_days.pleasantness_sum + EXCLUDED.pleasantness_sum,
            competence_sum = report_days.competence_sum + EXCLUDED.competence_sum,
            promoters = report_days.promoters + EXCLUDED.promoters,
            detractors = report_days.detractors + EXCLUDED.detractors;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_days_survey_changed AFTER INSERT OR UPDATE OR DELETE ON surveys
    FOR EACH ROW EXECUTE FUNCTION report_days_survey_changed();
