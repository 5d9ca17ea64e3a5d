-- Keys of the actors this instance signs as ('host' and 'instance').
CREATE TABLE local_keys (
    kind TEXT PRIMARY KEY NOT NULL,
    private_key_pem TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE bulletins (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    content_html TEXT NOT NULL,
    in_reply_to TEXT,
    extra TEXT,
    created_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP
);
CREATE INDEX bulletins_published ON bulletins (published_at, id);

CREATE TABLE followers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    actor_id TEXT NOT NULL UNIQUE,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    status TEXT NOT NULL,
    follow_activity_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE following (
    actor_id TEXT PRIMARY KEY NOT NULL,
    inbox TEXT NOT NULL,
    follow_activity_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE remote_actors (
    id TEXT PRIMARY KEY NOT NULL,
    actor_type TEXT NOT NULL,
    preferred_username TEXT NOT NULL,
    name TEXT,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    outbox TEXT,
    public_key_id TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    raw TEXT NOT NULL,
    fetched_at TIMESTAMP NOT NULL
);

-- Activities we published, kept so a retry sends the same bytes and the id resolves.
CREATE TABLE activities (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- The durable delivery queue: one row per (activity, inbox).
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    inbox TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX deliveries_pending ON deliveries (status, inbox, id);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

CREATE TABLE inbox_health (
    inbox TEXT PRIMARY KEY NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    last_success_at TIMESTAMP,
    last_failure_at TIMESTAMP,
    last_error TEXT
);

-- Ids of activities received, so a redelivery is stored once.
CREATE TABLE received_activities (
    id TEXT PRIMARY KEY NOT NULL,
    actor_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE remote_posts (
    id TEXT PRIMARY KEY NOT NULL,
    actor_id TEXT NOT NULL,
    object_type TEXT NOT NULL,
    content_html TEXT NOT NULL,
    summary TEXT,
    url TEXT,
    lang TEXT,
    in_reply_to TEXT,
    published_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    raw TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX remote_posts_timeline ON remote_posts (published_at, id);
CREATE INDEX remote_posts_actor ON remote_posts (actor_id);

-- Deleted remote objects: a late Create must not bring them back.
CREATE TABLE tombstones (
    object_id TEXT PRIMARY KEY NOT NULL,
    actor_id TEXT NOT NULL,
    deleted_at TIMESTAMP NOT NULL
);
