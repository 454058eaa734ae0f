// rust-nostr's client (npm @rust-nostr/nostr-sdk, WASM) runs `sync` (NIP-77) in both directions
// against the relay given as argv[2]. It first saves argv[3] own notes in its local database, so the
// relay lacks those and it lacks whatever the relay holds. Prints one JSON line per sync:
// {"local":[ids only we had],"remote":[ids only the relay had],"sent":[...],"received":[...],"failed":[...]}
// rust-nostr's default in-memory database keeps no events, and its persistent one is IndexedDB:
// fake-indexeddb provides IndexedDB under node, so the client has a local set to reconcile.
import 'fake-indexeddb/auto';
import { loadWasmSync, Client, ClientBuilder, NostrDatabase, NostrSigner, Keys, EventBuilder, Filter, Kind, SyncOptions, SyncDirection, Duration } from '@rust-nostr/nostr-sdk';

loadWasmSync();
const [url, ownCount] = [process.argv[2], parseInt(process.argv[3] ?? '0', 10)];
const keys = Keys.generate();
const database = await NostrDatabase.indexeddb(`nexus-interop-${process.pid}`);
const client = new ClientBuilder().signer(NostrSigner.keys(keys)).database(database).build();
await client.addRelay(url);
await client.connect();
await client.waitForConnection(Duration.fromSecs(10));

for (let i = 0; i < ownCount; i++) {
  const event = new EventBuilder(new Kind(1), `rust-nostr note ${i}`).signWithKeys(keys);
  await client.database.save_event(event);
}

console.error(`rust-nostr local database holds ${await client.database.count(new Filter().kind(new Kind(1)))} kind-1 events before syncing`);
const ids = (list) => list.map((id) => id.toHex()).sort();
for (let round = 0; round < 2; round++) {
  const opts = new SyncOptions().direction(SyncDirection.Both).initialTimeout(Duration.fromSecs(10));
  const out = await client.sync(new Filter().kind(new Kind(1)), opts);
  const r = out.report;
  console.log(JSON.stringify({
    local: ids(r.local), remote: ids(r.remote), sent: ids(r.sent), received: ids(r.received),
    failed: out.failed.map((f) => `${f.url}: ${f.error}`),
  }));
}
await client.shutdown();
process.exit(0);
