-- Which events a webhook receives: ' kind other_kind ' (a space at each end, so one
-- name matches with LIKE), or '' for every event.
ALTER TABLE webhooks ADD COLUMN events TEXT NOT NULL DEFAULT '';
