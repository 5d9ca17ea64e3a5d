-- The HTTP signature scheme each server last accepted from us (`draft-cavage` or `rfc9421`): the
-- delivery's double-knock tries it first, so a server that takes only one is asked once.
CREATE TABLE signature_schemes (
    domain TEXT PRIMARY KEY NOT NULL,
    scheme TEXT NOT NULL,
    learned_at TIMESTAMP NOT NULL
);
