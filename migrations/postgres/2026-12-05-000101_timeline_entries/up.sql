-- What the timeline shows of a peer's post, written with its index row (JSON: content, url, reply,
-- window, machine-readable part, title, hashtags, last change), so a page is read from the index
-- alone. NULL for our own bulletins (read from `bulletins`) and, until start-up fills them, for
-- rows indexed before this migration.
ALTER TABLE timeline_items ADD COLUMN entry TEXT;
