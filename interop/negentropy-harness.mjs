// The reference negentropy conformance-harness line protocol (hoytech/negentropy test/js/harness.js),
// served by NDK's NIP-77 engine (@nostr-dev-kit/sync), so Java tests can reconcile against it:
//   in:  item,<created_at>,<hex id> | seal | initiate | msg,<hex>
//   out: have,<hex id> | need,<hex id> | msg,<hex> | done
// FRAMESIZELIMIT in the environment sets this side's frame size limit.
import readline from 'node:readline';
import { Negentropy, NegentropyStorage, uint8ArrayToHex, hexToUint8Array } from '@nostr-dev-kit/sync';

const frameSizeLimit = process.env.FRAMESIZELIMIT ? parseInt(process.env.FRAMESIZELIMIT, 10) : 0;
const storage = new NegentropyStorage();
let ne;
let initiator = false;

// Lines are processed strictly in order: the engine's methods are async.
const lines = readline.createInterface({ input: process.stdin, terminal: false });
for await (const line of lines) {
  const parts = line.trim().split(',');
  switch (parts[0]) {
    case 'item':
      storage.insert(parseInt(parts[1], 10), parts[2]);
      break;
    case 'seal':
      storage.seal();
      ne = new Negentropy(storage, frameSizeLimit);
      break;
    case 'initiate':
      initiator = true;
      process.stdout.write(`msg,${uint8ArrayToHex(await ne.initiate())}\n`);
      break;
    case 'msg': {
      const r = await ne.reconcile(hexToUint8Array(parts[1]));
      let out = '';
      if (initiator) {
        for (const id of r.have) out += `have,${uint8ArrayToHex(id)}\n`;
        for (const id of r.need) out += `need,${uint8ArrayToHex(id)}\n`;
      }
      out += r.nextMessage === undefined ? 'done\n' : `msg,${uint8ArrayToHex(r.nextMessage)}\n`;
      process.stdout.write(out);
      break;
    }
    default:
      throw new Error(`unknown command: ${parts[0]}`);
  }
}
