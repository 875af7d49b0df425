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

-- Adds (sign 1) or takes out (sign -1) the figures of the given tickets; the one place
-- the sum is written.
CREATE FUNCTION report_days_add(ids BIGINT[], sign BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_days (day, team_key, outcome, shard, ended, inconsolable, started_negative, recovered, transfers, ping_pong, first_responses, first_response_ms, resolution_ms, sla_met, survey_answers, product_sum, pleasantness_sum, competence_sum, promoters, detractors)
    SELECT day, team_key, outcome, shard, sign * SUM(ended), sign * SUM(inconsolable), sign * SUM(started_negative), sign * SUM(recovered), sign * SUM(transfers), sign * SUM(ping_pong), sign * SUM(first_responses), sign * SUM(first_response_ms), sign * SUM(resolution_ms), sign * SUM(sla_met), sign * SUM(survey_answers), sign * SUM(product_sum), sign * SUM(pleasantness_sum), sign * SUM(competence_sum), sign * SUM(promoters), sign * SUM(detractors)
    FROM report_ticket_figures WHERE ticket_id = ANY(ids)
    GROUP BY day, team_key, outcome, shard
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
$$;

SELECT report_days_add(ARRAY(SELECT ticket_id FROM report_ticket_figures), 1);

-- New tickets are counted per statement, from the statement's new rows: a bulk insert
-- (a seed, `db copy`) then updates each day's row once, instead of once per ticket in
-- one transaction (which leaves a growing chain of row versions to walk).
CREATE FUNCTION report_days_tickets_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- New tickets are open but for bulk loads: usually there is nothing to count.
    IF EXISTS (SELECT 1 FROM new_rows WHERE ended_at IS NOT NULL) THEN
        PERFORM report_days_add(ARRAY(SELECT id FROM new_rows WHERE ended_at IS NOT NULL), 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER report_days_tickets_added AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_days_tickets_added();

-- Any other change to an ended ticket, or to a survey, takes the ticket's figures out
-- before it and puts them back after it. Open tickets' updates pay nothing.
CREATE FUNCTION report_days_take_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tickets' THEN
        PERFORM report_days_add(ARRAY[OLD.id], -1);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM report_days_add(ARRAY[NEW.ticket_id], -1);
    ELSE
        PERFORM report_days_add(ARRAY[OLD.ticket_id], -1);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE FUNCTION report_days_put_back() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tickets' THEN
        PERFORM report_days_add(ARRAY[NEW.id], 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_days_add(ARRAY[OLD.ticket_id], 1);
    ELSE
        PERFORM report_days_add(ARRAY[NEW.ticket_id], 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER report_days_ticket_changing BEFORE UPDATE OR DELETE ON tickets
    FOR EACH ROW WHEN (OLD.ended_at IS NOT NULL) EXECUTE FUNCTION report_days_take_out();
CREATE TRIGGER report_days_ticket_changed AFTER UPDATE ON tickets
    FOR EACH ROW WHEN (NEW.ended_at IS NOT NULL) EXECUTE FUNCTION report_days_put_back();
CREATE TRIGGER report_days_survey_changing BEFORE INSERT OR UPDATE OR DELETE ON surveys
    FOR EACH ROW EXECUTE FUNCTION report_days_take_out();
CREATE TRIGGER report_days_survey_changed AFTER INSERT OR UPDATE OR DELETE ON surveys
    FOR EACH ROW EXECUTE FUNCTION report_days_put_back();
