ALTER TABLE timeline_items DROP COLUMN entry;
