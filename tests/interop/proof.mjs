// FEP-8b32 object integrity proofs checked by an independent implementation:
// Fedify 1.5's `verifyObject` (the same call its inbox makes before it looks at
// HTTP Signatures). See README.md.
//
//   node proof.mjs verify < ACTIVITY.json
//     prints {"verified": true, "type": "Create", "id": ..., "actor": ...} when
//     Fedify accepts the activity's eddsa-jcs-2022 proof (it fetches the key
//     named by verificationMethod from the actor's document, over loopback), or
//     {"verified": false} when it does not; exit 0 either way, 1 on a failure.

import { readFileSync } from "node:fs";
import { Activity, getDocumentLoader, verifyObject } from "@fedify/fedify";

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const command = process.argv[2];
if (command !== "verify") {
  process.stderr.write("usage: node proof.mjs verify < ACTIVITY.json\n");
  process.exit(1);
}
try {
  const json = JSON.parse(readFileSync(0, "utf8"));
  // Everything runs on loopback: the loader may fetch localhost (preloaded
  // contexts, such as data-integrity/v1 and multikey/v1, are not fetched).
  const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
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
