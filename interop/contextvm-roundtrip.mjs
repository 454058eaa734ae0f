// A real MCP server and MCP client talking through one Nostr relay with ContextVM's SDK.
// Usage: node contextvm-roundtrip.mjs <relay ws url> <plain|encrypted> [timeout seconds, default 60]
// Prints one JSON line with what the client saw; exits 0 only if the round trip worked.
// Driven by relay-server's ContextVmInteropTest, which also watches the relay for the events.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { NostrServerTransport, NostrClientTransport } from '@contextvm/sdk/transport';
import { EncryptionMode, GiftWrapMode } from '@contextvm/sdk/core';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { z } from 'zod';

const [relayUrl, mode, timeoutArg] = process.argv.slice(2);
const timeoutSeconds = Number(timeoutArg ?? 60);
if (!relayUrl || !['plain', 'encrypted'].includes(mode)) {
  console.error('usage: node contextvm-roundtrip.mjs <relay ws url> <plain|encrypted> [timeout seconds]');
  process.exit(2);
}
const encryption = mode === 'encrypted' ? EncryptionMode.REQUIRED : EncryptionMode.DISABLED;
// PERSISTENT: NIP-59 kind 1059 gift wraps (EPHEMERAL would use 21059).
const giftWrapMode = GiftWrapMode.PERSISTENT;

const timeout = setTimeout(() => {
  console.log(JSON.stringify({ ok: false, mode, error: `timed out after ${timeoutSeconds} s` }));
  process.exit(1);
}, timeoutSeconds * 1000);

const serverKey = Buffer.from(generateSecretKey()).toString('hex');
const clientKey = Buffer.from(generateSecretKey()).toString('hex');
const serverPubkey = getPublicKey(Buffer.from(serverKey, 'hex'));

const server = new McpServer({ name: 'nexus-interop-calculator', version: '1.0.0' });
server.registerTool('add', {
  description: 'Adds two numbers',
  inputSchema: { a: z.number(), b: z.number() },
}, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));

const serverTransport = new NostrServerTransport({
  signer: serverKey,
  relayHandler: [relayUrl],
  encryptionMode: encryption,
  giftWrapMode,
  isAnnouncedServer: false, // announcing would also publish to public bootstrap relays
  publishRelayList: false,   // kind 10002 is for announced servers
  logLevel: 'error',
});
const clientTransport = new NostrClientTransport({
  signer: clientKey,
  relayHandler: [relayUrl],
  serverPubkey,
  encryptionMode: encryption,
  giftWrapMode,
  logLevel: 'error',
});
const client = new Client({ name: 'nexus-interop-client', version: '1.0.0' });

try {
  await server.connect(serverTransport);
  // The SDK's connect() resolves before its REQ has reached the relay: relay-side traces of a failed run showed
  // the client's first request (an ephemeral kind 25910) fanned out 4 ms before the server's REQ arrived, so it
  // had no subscriber, and an ephemeral event is not kept for later ones. A real server is up long before its clients.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await client.connect(clientTransport);
  const tools = await client.listTools();
  const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
  const text = sum.content?.[0]?.text;
  const ok = text === '5' && tools.tools.some((t) => t.name === 'add');
  console.log(JSON.stringify({ ok, mode, serverPubkey, tools: tools.tools.map((t) => t.name), sum: text }));
  await client.close();
  await server.close();
  clearTimeout(timeout);
  process.exit(ok ? 0 : 1);
} catch (e) {
  console.log(JSON.stringify({ ok: false, mode, error: String(e?.message ?? e) }));
  process.exit(1);
}
