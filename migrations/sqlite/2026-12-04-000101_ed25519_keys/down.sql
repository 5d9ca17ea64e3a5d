DROP TABLE local_ed25519_keys;
