DROP INDEX delivery_processes_name;
DROP TABLE delivery_processes;
DROP INDEX deliveries_locked_by;
ALTER TABLE deliveries DROP COLUMN locked_by;
