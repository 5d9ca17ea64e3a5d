-- What each followed peer publishes about itself, as last fetched: profile, service catalogue
-- (with each service's status and registration state) and label. JSON stored as text.
CREATE TABLE peer_directory (
    actor_id TEXT PRIMARY KEY NOT NULL,
    domain TEXT NOT NULL,
    name TEXT,
    host_profile TEXT,
    services TEXT,
    label TEXT,
    fetched_at TIMESTAMP NOT NULL
);
