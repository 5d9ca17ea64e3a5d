DROP INDEX received_by_actor;
ALTER TABLE inbox_health DROP COLUMN paused_at;
ALTER TABLE inbox_health DROP COLUMN failing_since;
