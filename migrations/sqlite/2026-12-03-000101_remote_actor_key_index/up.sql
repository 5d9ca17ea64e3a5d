-- Inbox requests look the signer up by keyId (GoToSocial's has no fragment to strip).
CREATE INDEX remote_actors_public_key_id ON remote_actors (public_key_id);
