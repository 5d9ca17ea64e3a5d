-- The federated timeline's index: one row per post shown (ours and our peers'), with the columns
-- its filters need; the content stays in `bulletins` or `remote_posts`.
CREATE TABLE timeline_items (
    id TEXT PRIMARY KEY NOT NULL,
    actor_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    is_local BOOLEAN NOT NULL,
    kind TEXT NOT NULL,
    change_type TEXT,
    impact TEXT,
    lang TEXT,
    published_at TIMESTAMP NOT NULL
);
CREATE INDEX timeline_recent ON timeline_items (published_at, id);
CREATE INDEX timeline_by_kind ON timeline_items (kind, published_at, id);
CREATE INDEX timeline_by_domain ON timeline_items (domain, published_at, id);
CREATE INDEX timeline_by_lang ON timeline_items (lang, published_at, id);
CREATE INDEX timeline_by_impact ON timeline_items (impact, published_at, id);

-- Services a timeline item is about (by lower-case name), for the service filter.
CREATE TABLE timeline_services (
    service TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (service, published_at, item_id)
);
CREATE INDEX timeline_services_item ON timeline_services (item_id);
