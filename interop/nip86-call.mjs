// One NIP-86 management call, authorized with NIP-98 by nostr-tools (a library nobody on the team wrote):
//   NEXUS_ADMIN_SECRET_KEY=<64 hex> node nip86-call.mjs http://127.0.0.1:7777/ banpubkey '["<pubkey>","spam"]'
// Prints the relay's JSON answer; exit code 0 only for HTTP 200 without an "error".
import { finalizeEvent } from 'nostr-tools/pure'
import { getToken } from 'nostr-tools/nip98'

const [url, method, paramsJson = '[]'] = process.argv.slice(2)
const secret = process.env.NEXUS_ADMIN_SECRET_KEY
if (!url || !method || !/^[0-9a-f]{64}$/.test(secret ?? '')) {
  console.error('usage: NEXUS_ADMIN_SECRET_KEY=<64 hex> node nip86-call.mjs <http(s) relay url> <method> [params as a JSON array]')
  process.exit(2)
}
const secretKey = Uint8Array.from(Buffer.from(secret, 'hex'))
const payload = { method, params: JSON.parse(paramsJson) }
// The payload tag is the SHA-256 of JSON.stringify(payload): send exactly that string as the body.
const authorization = await getToken(url, 'POST', (template) => finalizeEvent(template, secretKey), true, payload)
const res = await fetch(url, {
  method: 'POST',
  headers: { 'Content-Type': 'application/nostr+json+rpc', Authorization: authorization },
  body: JSON.stringify(payload),
})
const text = await res.text()
console.log(text)
let answer = {}
try { answer = JSON.parse(text) } catch { }
process.exit(res.status === 200 && answer.error == null ? 0 : 1)
