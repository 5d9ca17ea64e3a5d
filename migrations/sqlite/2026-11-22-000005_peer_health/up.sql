-- Since when an inbox has been failing without a success, and since when it is paused (its
-- deliveries wait, without using up attempts, until its server sends us something signed).
ALTER TABLE inbox_health ADD COLUMN failing_since TIMESTAMP;
ALTER TABLE inbox_health ADD COLUMN paused_at TIMESTAMP;
CREATE INDEX received_by_actor ON received_activities (actor_id, received_at);
