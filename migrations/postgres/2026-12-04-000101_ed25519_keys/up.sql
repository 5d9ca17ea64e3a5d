-- Our actors' Ed25519 keys (FEP-521a `assertionMethod` Multikeys), which sign object integrity
-- proofs (FEP-8b32, `eddsa-jcs-2022`). One per actor kind, as in `local_keys`; made at first start.
CREATE TABLE local_ed25519_keys (
    kind TEXT PRIMARY KEY NOT NULL,
    -- The PKCS#8 v2 document, base64.
    private_key_pkcs8 TEXT NOT NULL,
    -- The public key as a Multikey: `z` + base58btc(0xed 0x01 ‖ key).
    public_key_multibase TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
