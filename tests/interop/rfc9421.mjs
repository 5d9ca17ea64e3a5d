// RFC 9421 HTTP Message Signatures from an independent implementation: Fedify's
// `signRequest` and `verifyRequest` (package alias `fedify-rfc9421`, Fedify
// 1.9, which has them; the follower keeps Fedify 1.5).  See README.md.
//
//   node rfc9421.mjs sign --url URL --key-file PKCS8.pem --key-id KEYID --body-file FILE
//     prints {"headers": [[name, value], ...]}: the headers Fedify adds to a POST
//     of FILE to URL (Content-Type application/activity+json) signed with RFC 9421.
//   node rfc9421.mjs peer
//     an inbox that accepts only RFC 9421 (`verifyRequest` with spec "rfc9421"):
//     prints {"event":"ready","inbox":URL}, then one {"event":"inbox",...} per POST.

// Node 20 lacks ArrayBuffer.prototype.transfer, which Fedify 1.9's base64 helper uses.
if (!ArrayBuffer.prototype.transfer) {
  ArrayBuffer.prototype.transfer = function (length = this.byteLength) {
    const out = new ArrayBuffer(length);
    new Uint8Array(out).set(new Uint8Array(this, 0, Math.min(length, this.byteLength)));
    return out;
  };
}
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { getDocumentLoader, signRequest, verifyRequest } from "fedify-rfc9421";

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    "key-file": { type: "string" },
    "key-id": { type: "string" },
    "body-file": { type: "string" },
  },
});

if (positionals[0] === "sign") {
  const pem = readFileSync(args["key-file"], "utf8");
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const key = await crypto.subtle.importKey(
    "pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"], // Fedify insists on extractable keys
  );
  const body = readFileSync(args["body-file"]);
  const request = new Request(args.url, {
    method: "POST",
    headers: { "Content-Type": "application/activity+json" },
    body,
  });
  const signed = await signRequest(request, key, new URL(args["key-id"]), { spec: "rfc9421" });
  emit({ headers: [...signed.headers] });
} else if (positionals[0] === "peer") {
  // Everything runs on loopback: the key (Ronron's actor) is fetched from localhost.
  const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
  let origin;
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const spec = headers.has("signature-input") ? "rfc9421" : "draft-cavage";
    const request = new Request(new URL(req.url, origin), {
      method: req.method,
      headers,
      body: req.method === "POST" ? body : undefined,
    });
    let key = null;
    let error = null;
    try {
      key = await verifyRequest(request, { spec: "rfc9421", documentLoader, contextLoader: documentLoader });
    } catch (e) {
      error = String(e?.message ?? e);
    }
    let activity = null;
    try { activity = JSON.parse(body.toString("utf8")); } catch { /* reported as null */ }
    emit({
      event: "inbox",
      spec,
      verified: key != null,
      keyId: key?.id?.href ?? null,
      type: activity?.type ?? null,
      id: activity?.id ?? null,
      error,
    });
    if (key == null) {
      res.writeHead(401, { "content-type": "text/plain" }).end("this inbox accepts only RFC 9421 signatures");
    } else {
      res.writeHead(202).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://localhost:${server.address().port}`;
  emit({ event: "ready", inbox: `${origin}/inbox` });
} else {
  process.stderr.write("usage: rfc9421.mjs sign|peer ...\n");
  process.exit(2);
}
