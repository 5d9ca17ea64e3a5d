-- Servers this instance refuses: nothing is accepted from them, nothing is sent to them.
CREATE TABLE domain_blocks (
    domain TEXT PRIMARY KEY NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
