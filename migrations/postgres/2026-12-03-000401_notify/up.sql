-- Subscribers outside the fediverse: email addresses (double opt-in) and webhooks, and the
-- durable queue of what is sent to them (its rows are also the webhooks' delivery log).
CREATE TABLE email_subscribers (
    id TEXT PRIMARY KEY NOT NULL,
    -- Personal data: shown only in the admin, included in `export --all`.
    email TEXT NOT NULL,
    lang TEXT NOT NULL,
    -- `all` bulletins, or only service `changes`.
    scope TEXT NOT NULL,
    -- Space-separated service slugs; empty: every service.
    services TEXT NOT NULL,
    -- The secret of the confirmation and unsubscribe links.
    token TEXT NOT NULL,
    -- SHA-256 of the client address that asked, while unconfirmed (the form's rate limit).
    requested_from TEXT,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP
);
CREATE UNIQUE INDEX email_subscribers_by_email ON email_subscribers (email);
CREATE UNIQUE INDEX email_subscribers_by_token ON email_subscribers (token);
CREATE INDEX email_subscribers_by_requester ON email_subscribers (requested_from, created_at);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- Space-separated filters; empty: everything.
    events TEXT NOT NULL,
    kinds TEXT NOT NULL,
    services TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    -- `email` (target: email_subscribers.id) or `webhook` (target: webhooks.id).
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    event TEXT NOT NULL,
    bulletin_id TEXT,
    -- A webhook's JSON body as it is sent (frozen when queued); empty for email.
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_target ON notifications (target, id);
