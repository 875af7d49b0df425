-- The practice desk: scenarios agents rehearse on (seeded from the library shipped with
-- the desk, then edited by admins) and each attempt's reply and score. Nothing here
-- refers to a ticket or a customer: practice never touches real cases.
CREATE TABLE practice_scenarios (
    id               BIGSERIAL PRIMARY KEY,
    -- The library's key for a shipped scenario; NULL for one an admin wrote.
    slug             TEXT UNIQUE,
    kind             TEXT NOT NULL,
    subject          TEXT NOT NULL,
    topic            TEXT NOT NULL,
    customer_message TEXT NOT NULL,
    need             TEXT NOT NULL,
    good_answer      TEXT NOT NULL,
    example_answer   TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE practice_attempts (
    id          BIGSERIAL PRIMARY KEY,
    agent_id    BIGINT NOT NULL REFERENCES agents(id),
    scenario_id BIGINT NOT NULL REFERENCES practice_scenarios(id),
    reply       TEXT NOT NULL,
    -- 0 to 100.
    score       BIGINT NOT NULL,
    -- The coach's flags, space separated identifiers ('' when none).
    flags       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX practice_attempts_agent ON practice_attempts (agent_id, created_at);
CREATE INDEX practice_attempts_created ON practice_attempts (created_at);
