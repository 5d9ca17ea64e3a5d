// FEP-8b32 object integrity proofs checked by an independent implementation:
// Fedify 1.5's `verifyObject` (the same call its inbox makes before it looks at
// HTTP Signatures). See README.md.
//
//   node proof.mjs verify < ACTIVITY.json
//     prints {"verified": true, "type": "Create", "id": ..., "actor": ...} when
//     Fedify accepts the activity's eddsa-jcs-2022 proof (it fetches the key
//     named by verificationMethod from the actor's document, over loopback), or
//     {"verified": false} when it does not; exit 0 either way, 1 on a failure.
//   node proof.mjs sign --seed-hex HEX --key-id URL --created ISO < ACTIVITY.json
//     prints the activity signed by Fedify's `signObject` with the Ed25519 key of
//     that 32-byte seed (the fixture tests/fixtures/proofs/fedify.json is made so).

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Temporal } from "@js-temporal/polyfill";
import { Activity, getDocumentLoader, signObject, verifyObject } from "@fedify/fedify";

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { "seed-hex": { type: "string" }, "key-id": { type: "string" }, created: { type: "string" } },
});
const command = positionals[0];
if (command !== "verify" && command !== "sign") {
  process.stderr.write("usage: node proof.mjs verify|sign [options] < ACTIVITY.json\n");
  process.exit(1);
}
const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
try {
  const json = JSON.parse(readFileSync(0, "utf8"));
  // Everything runs on loopback: the loader may fetch localhost (preloaded
  // contexts, such as data-integrity/v1 and multikey/v1, are not fetched).
  const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
  if (command === "sign") {
    const seed = Buffer.from(args["seed-hex"], "hex");
    // The public half, from a key made of the seed (PKCS#8 prefix for Ed25519).
    const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", true, ["sign"]);
    const jwk = await crypto.subtle.exportKey("jwk", privateKey);
    const key = await crypto.subtle.importKey("jwk", { ...jwk, d: b64url(seed) }, "Ed25519", true, ["sign"]);
    const object = await Activity.fromJsonLd(json, { documentLoader, contextLoader: documentLoader });
    const signed = await signObject(object, key, new URL(args["key-id"]), {
      contextLoader: documentLoader,
      created: Temporal.Instant.from(args.created),
    });
    process.stdout.write(JSON.stringify(await signed.toJsonLd({ contextLoader: documentLoader }), null, 2) + "\n");
    process.exit(0);
  }
  const activity = await verifyObject(Activity, json, { documentLoader, contextLoader: documentLoader });
  if (activity == null) {
    emit({ verified: false });
  } else {
    emit({
      verified: true,
      type: json.type,
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
    });
  }
} catch (error) {
  process.stderr.write(`proof.mjs: ${error?.stack ?? error}\n`);
  process.exit(1);
}
