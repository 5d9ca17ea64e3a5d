// Independent ActivityPub follower built on Fedify, used by Ronron's interop
// test.  It follows one handle and prints ONE JSON line per event on stdout;
// every log line goes to stderr.  See README.md for the protocol.
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import {
  Accept, Announce, Create, Delete, Endpoints, Follow, isActor, Object as APObject,
  Person, Reject, Undo, Update, createFederation, getTypeId, LanguageString,
  MemoryKvStore,
} from "@fedify/fedify";
import { configure, defaultTextFormatter } from "@logtape/logtape";

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const fail = (message) => {
  emit({ event: "error", message: String(message) });
  process.exit(1);
};

process.on("uncaughtException", fail).on("unhandledRejection", fail);

const { values: args } = parseArgs({
  options: {
    handle: { type: "string" },
    timeout: { type: "string", default: "60" },
    "rsa-bits": { type: "string", default: "2048" },
  },
});
const match = /^@?([^@]+)@([^@]+)$/.exec(args.handle ?? "");
if (!match) fail(`--handle must look like user@host:port, got ${args.handle}`);
if (!(Number(args.timeout) > 0)) fail(`--timeout must be a positive number of seconds`);
const [, user, host] = match;
setTimeout(() => fail(`timed out after ${args.timeout}s without a Delete`), Number(args.timeout) * 1000);

// Fedify logs through LogTape; LogTape's console sink would put info/debug on
// stdout, so write to stderr ourselves.  FOLLOWER_LOG=debug explains signature
// failures in detail.
await configure({
  contextLocalStorage: new AsyncLocalStorage(), // silences a LogTape meta warning
  sinks: { stderr: (record) => process.stderr.write(defaultTextFormatter(record)) },
  loggers: [
    { category: "fedify", lowestLevel: process.env.FOLLOWER_LOG ?? "info", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

const federation = createFederation({
  kv: new MemoryKvStore(),
  // Everything runs on loopback: let the document loader fetch localhost.
  allowPrivateAddress: true,
  // No `queue`: outgoing activities are sent (and incoming ones handled) inline,
  // so sendActivity throws on delivery failure, and a 2xx from our inbox means
  // the listener already ran.
});

// Same parameters as Fedify's generateCryptoKeyPair("RSASSA-PKCS1-v1_5"), which
// however always makes 4096-bit keys; we default to Mastodon's 2048.
const keyPair = await crypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: Number(args["rsa-bits"]), publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  true, ["sign", "verify"],
);
federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "follower") return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify interop follower",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey, // id is <actor>#main-key
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === "follower" ? [keyPair] : []));

// Fedify only calls these listeners for activities it has authenticated:
// handleInbox (federation/handler.js) checks, in order, a Linked Data
// signature, an Object Integrity Proof, and otherwise the HTTP Signature
// (Digest, Date window, key fetched from keyId, key owner == activity actor),
// answering 401 without calling any listener when none verifies.  We never set
// skipSignatureVerification, so `signatureVerified: true` is a fact here.
// `embeddedSignature` tells whether the body carried an LD signature or proof:
// when false, the HTTP Signature is what Fedify verified.
const embedded = new Set(); // ids of inbound activities with `signature`/`proof`
const verified = (activity) => ({
  id: activity.id?.href ?? null,
  actor: activity.actorId?.href ?? null,
  signatureVerified: true,
  embeddedSignature: embedded.has(activity.id?.href),
});
const noteFields = async (ctx, activity) => {
  // The embedded object, else fetched by id (signed GET, see README).
  const obj = await activity.getObject(ctx);
  const plain = obj?.contents.find((c) => !(c instanceof LanguageString));
  const langs = (obj?.contents ?? []).filter((c) => c instanceof LanguageString);
  return {
    objectId: obj?.id?.href ?? activity.objectId?.href ?? null,
    type: obj == null ? null : getTypeId(obj).hash.slice(1) || getTypeId(obj).href,
    content: (plain ?? obj?.contents[0])?.toString() ?? null,
    contentMap: langs.length ? Object.fromEntries(langs.map((c) => [c.language.compact(), c.toString()])) : null,
    updated: obj?.updated?.toString() ?? null,
    attributedTo: obj?.attributionId?.href ?? null,
  };
};
let sawDelete = false;
federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, (_ctx, a) => emit({ event: "accept", ...verified(a), object: a.objectId?.href ?? null }))
  .on(Reject, (_ctx, a) => emit({ event: "reject", ...verified(a), object: a.objectId?.href ?? null }))
  .on(Undo, (_ctx, a) => emit({ event: "undo", ...verified(a), object: a.objectId?.href ?? null }))
  .on(Create, async (ctx, a) => emit({ event: "create", ...verified(a), ...(await noteFields(ctx, a)) }))
  .on(Update, async (ctx, a) => emit({ event: "update", ...verified(a), ...(await noteFields(ctx, a)) }))
  // A Group's re-share (FEP-1b12): the object is a URL, fetched from its author's server.
  .on(Announce, async (ctx, a) => emit({ event: "announce", ...verified(a), ...(await noteFields(ctx, a)) }))
  .on(Delete, (ctx, a) => {
    // Not getObject(): the note is gone, and a Tombstone may or may not be embedded.
    emit({ event: "delete", ...verified(a), objectId: a.objectId?.href ?? null });
    sawDelete = true;
  })
  .onError((_ctx, error) => emit({ event: "error", message: `inbox: ${error?.message ?? error}` }));

// node:http <-> Fetch API bridge.  Requests are rebuilt on `http://localhost:PORT`
// whatever address was dialled, so Fedify's URLs use the host name `localhost`.
let origin;
const server = createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const isPost = req.method === "POST";
    if (isPost) {
      try {
        const json = JSON.parse(body.toString("utf8"));
        if (json?.signature != null || json?.proof != null) embedded.add(json.id);
      } catch { /* Fedify answers 400 itself */ }
    }
    const response = await federation.fetch(
      new Request(new URL(req.url, origin), { method: req.method, headers, body: isPost ? body : undefined }),
      { contextData: undefined },
    );
    const text = Buffer.from(await response.arrayBuffer());
    if (isPost && response.status >= 400) {
      emit({ event: "error", message: `inbox ${req.url} answered ${response.status}: ${text.toString("utf8")}` });
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    // Exit only once the Delete's delivery has been answered, so the sender sees a 202.
    res.end(text, () => sawDelete && setImmediate(() => process.exit(0)));
  } catch (error) {
    console.error(error);
    res.writeHead(500).end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
origin = `http://localhost:${server.address().port}`;
const ctx = federation.createContext(new URL(origin), undefined);

try {
  // Fedify's lookupWebFinger always uses https for acct: URIs, so the loopback
  // (plain http) WebFinger request is made here by hand.
  const wf = new URL(`http://${host}/.well-known/webfinger`);
  wf.searchParams.set("resource", `acct:${user}@${host}`);
  const jrdResponse = await fetch(wf, { headers: { Accept: "application/jrd+json" } });
  if (!jrdResponse.ok) throw new Error(`WebFinger ${wf} answered ${jrdResponse.status}`);
  const jrd = await jrdResponse.json();
  const self = jrd.links?.find((l) => l.rel === "self" && l.type === "application/activity+json");
  if (!self?.href) throw new Error(`WebFinger ${wf}: no self link of type application/activity+json`);
  const { document } = await ctx.documentLoader(self.href);
  const actor = await APObject.fromJsonLd(document, ctx);
  if (!isActor(actor) || actor.id == null || actor.inboxId == null) {
    throw new Error(`${self.href} is not an actor with an id and an inbox`);
  }
  emit({ event: "ready", actor: ctx.getActorUri("follower").href, target: actor.id.href });

  const follow = new Follow({
    id: new URL(`/follows/${crypto.randomUUID()}`, origin),
    actor: ctx.getActorUri("follower"),
    object: actor.id,
  });
  // Signs with the RSA key: draft-cavage HTTP Signature + Digest (and Fedify
  // also embeds an RsaSignature2017 LD signature in the body).
  await ctx.sendActivity({ identifier: "follower" }, actor, follow);
  emit({ event: "followed", target: actor.id.href, id: follow.id.href });
} catch (error) {
  fail(error?.cause ? `${error.message}: ${error.cause.message ?? error.cause}` : error?.message ?? error);
}
