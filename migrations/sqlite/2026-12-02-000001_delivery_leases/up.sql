-- Who holds a delivery's lease: the id of a running process (one per start), so that a process
-- restarted after a crash takes back at once what its previous life was sending, and never what
-- another live process holds.
ALTER TABLE deliveries ADD COLUMN locked_by TEXT;
CREATE INDEX deliveries_locked_by ON deliveries (locked_by) WHERE locked_by IS NOT NULL;
-- The processes that lease deliveries: `name` is stable across restarts (host name and listen
-- address), `id` is new at every start; `seen_at` is the last heartbeat.
CREATE TABLE delivery_processes (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    seen_at TIMESTAMP NOT NULL
);
CREATE INDEX delivery_processes_name ON delivery_processes (name);
