-- Bearer tokens for the JSON admin API. Only the SHA-256 of a secret is stored; a revoked token
-- stays listed (with revoked_at) so the admin can see what existed.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_by_hash ON api_tokens (token_hash);
