-- Refusals of a throttled key are counted, not logged one by one: one audit row per key
-- and minute (summary_key), with the count in `refusals`. Other rows have no summary_key
-- and count one.
ALTER TABLE audit_events ADD COLUMN refusals INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_events ADD COLUMN summary_key TEXT;
CREATE UNIQUE INDEX audit_events_summary ON audit_events (summary_key)
    WHERE summary_key IS NOT NULL;
