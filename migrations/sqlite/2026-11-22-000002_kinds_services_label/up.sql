-- Service changes: queryable columns for the scheduler and status derivation; the rest of the
-- machine-readable part stays in `extra` (JSON).
ALTER TABLE bulletins ADD COLUMN change_type TEXT;
ALTER TABLE bulletins ADD COLUMN state TEXT;
ALTER TABLE bulletins ADD COLUMN starts_at TIMESTAMP;
ALTER TABLE bulletins ADD COLUMN ends_at TIMESTAMP;
-- NULL until the bulletin has been federated (scheduled bulletins wait for their publication time).
ALTER TABLE bulletins ADD COLUMN federated_at TIMESTAMP;
UPDATE bulletins SET federated_at = published_at;
CREATE INDEX bulletins_changes ON bulletins (change_type, state);
CREATE INDEX bulletins_unfederated ON bulletins (federated_at, published_at);

-- Texts in the host's other languages (the main one stays on `bulletins`).
CREATE TABLE bulletin_translations (
    bulletin_id TEXT NOT NULL REFERENCES bulletins (id),
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    content_html TEXT NOT NULL,
    PRIMARY KEY (bulletin_id, lang)
);

CREATE TABLE services (
    slug TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    software TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    audience TEXT NOT NULL,
    registration TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);

-- Which services a service change is about.
CREATE TABLE bulletin_services (
    bulletin_id TEXT NOT NULL REFERENCES bulletins (id),
    service_slug TEXT NOT NULL REFERENCES services (slug),
    PRIMARY KEY (bulletin_id, service_slug)
);
CREATE INDEX bulletin_services_by_service ON bulletin_services (service_slug);

CREATE TABLE label_grades (
    criterion TEXT PRIMARY KEY NOT NULL,
    grade TEXT NOT NULL,
    comment TEXT,
    evidence TEXT,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE label_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    criterion TEXT NOT NULL,
    old_grade TEXT,
    new_grade TEXT NOT NULL,
    comment TEXT,
    evidence TEXT,
    bulletin_id TEXT,
    changed_at TIMESTAMP NOT NULL
);

-- Small key/value state: the profile as edited from the CLI, the last profile federated.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

ALTER TABLE remote_posts ADD COLUMN kind TEXT;
ALTER TABLE remote_posts ADD COLUMN meta TEXT;

-- The outbox looks up each bulletin's Create.
CREATE INDEX activities_object ON activities (object_id, kind);
