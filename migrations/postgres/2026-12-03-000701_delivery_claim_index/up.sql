-- The claim walks due pending jobs in (next_attempt_at, id) order and stops after one batch:
-- with `id` in the index (and only pending rows in it) no sort of every pending row is needed,
-- so a claim costs the same at 10 or 10,000 pending jobs.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
