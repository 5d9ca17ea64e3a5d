-- Web admin accounts (`ronron admin create`), their sessions and failed logins (for throttling).
CREATE TABLE admins (
    username TEXT PRIMARY KEY NOT NULL,
    -- argon2id PHC string
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A session is known by the SHA-256 of its cookie, so a leaked database cannot be replayed.
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES admins (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX admin_sessions_by_user ON admin_sessions (username);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at);
CREATE INDEX login_failures_by_ip ON login_failures (ip, at);
