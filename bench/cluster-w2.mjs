#!/usr/bin/env node
// Cross-node W2: the shared generator's W2 (../shared/bench/load/run.mjs) split across two relays:
// pre-signed kind-5050 events published on one relay URL at a fixed rate, N subscribers on another,
// half of them REQ {kinds:[5050], since} and half also "#p":[one provider] (half the events name
// it), so 150 deliveries per event with 200 subscribers, as in run.mjs. Measures publish->receive
// latency per delivery and counts what never arrived. With the same URL twice it is the
// single-node figure to compare with.
//
// usage: node cluster-w2.mjs <publish ws://...> <subscribe ws://...> [pid,pid,...] [options]
//   --subs 200 --events 2000 --rate 500 --pubs 2 --out FILE
// Subscribers run in a worker thread so that reading 400,000 deliveries does not delay the sends;
// both threads stamp with performance.timeOrigin + now(), comparable across threads.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import fs from 'node:fs';
import { connect, msgType, latStats, relayStat, nowMs, sleep, parseArgs, initSigning, finalizeEvent, generateSecretKey, getPublicKey } from './lib.mjs';

const ID_RE = /"id"\s*:\s*"([0-9a-f]{64})"/;

if (!isMainThread) {
  const { url, nSubs, since, target, ids } = workerData;
  const index = new Map(ids.map((id, i) => [id, i]));
  const perSub = new Int32Array(nSubs);
  const recvIdx = new Int32Array(nSubs * ids.length), recvT = new Float64Array(nSubs * ids.length) // room for every delivery;
  let n = 0, unknown = 0, closed = 0, eose = 0;
  const conns = [];
  for (let i = 0; i < nSubs; i += 20) { // open in batches: 200 handshakes at once trip nobody's limits but cost a burst
    conns.push(...await Promise.all(Array.from({ length: Math.min(20, nSubs - i) }, () => connect(url))));
  }
  await new Promise((resolve) => {
    conns.forEach((ws, si) => {
      ws.on('message', (d) => {
        const t = nowMs(), s = d.toString(), type = msgType(s);
        if (type === 'EVENT') {
          const i = index.get(ID_RE.exec(s)?.[1]);
          if (i === undefined) { unknown++; return; }
          if (n < recvIdx.length) { recvIdx[n] = i; recvT[n] = t; n++; }
          perSub[si]++;
        } else if (type === 'EOSE') { if (++eose === nSubs) resolve(); }
        else if (type === 'CLOSED') closed++;
      });
      const f = { kinds: [5050], since };
      if (si % 2 === 1) f['#p'] = [target];
      ws.send(JSON.stringify(['REQ', 's' + si, f]));
    });
  });
  parentPort.postMessage({ type: 'ready' });
  parentPort.on('message', (m) => {
    if (m.type === 'count') parentPort.postMessage({ type: 'count', seq: m.seq, n });
    if (m.type === 'finish') {
      conns.forEach((ws) => ws.terminate());
      parentPort.postMessage({ type: 'result', n, unknown, closed, perSub, recvIdx: recvIdx.slice(0, n), recvT: recvT.slice(0, n) });
    }
  });
} else {
  const { opt, pos } = parseArgs(process.argv.slice(2), { subs: 200, events: 2000, rate: 500, pubs: 2, out: '' });
  const [pubUrl, subUrl, pidArg] = pos;
  if (!pubUrl || !subUrl) { console.error('usage: node cluster-w2.mjs <publish ws://...> <subscribe ws://...> [pids] [--subs N --events N --rate N --pubs N --out FILE]'); process.exit(2); }
  const pids = (pidArg || '').split(',').filter(Boolean).map(Number);
  await initSigning();
  const keys = Array.from({ length: 20 }, () => generateSecretKey());
  const providers = keys.slice(0, 10).map((k) => getPublicKey(k)), target = providers[0];
  const since = Math.floor(Date.now() / 1000) + 1; // no earlier event is replayed
  const events = Array.from({ length: opt.events }, (_, i) => finalizeEvent({ kind: 5050, created_at: since, content: '',
    tags: [['i', `Fan-out job ${i} ${Math.random().toString(36).slice(2)}`, 'text'], ['param', 'model', 'x'], ['bid', '1000'],
      ['p', i % 2 === 0 ? target : providers[1 + (i % (providers.length - 1))]]] }, keys[(i * 7 + 3) % keys.length]));
  const toTarget = Math.ceil(opt.events / 2);
  const jsons = events.map((e) => JSON.stringify(['EVENT', e]));

  const worker = new Worker(new URL(import.meta.url), { workerData: { url: subUrl, nSubs: opt.subs, since, target, ids: events.map((e) => e.id) } });
  const msgs = [];
  worker.on('message', (m) => msgs.push(m));
  worker.on('error', (e) => msgs.push({ type: 'error', error: String(e) }));
  const waitMsg = async (pred, ms) => { const end = nowMs() + ms; while (nowMs() < end) { const x = msgs.find((m) => pred(m) || m.type === 'error'); if (x) return x; await sleep(20); } return null; };
  const ready = await waitMsg((m) => m.type === 'ready', 90000);
  if (!ready || ready.type === 'error') throw new Error('subscribers failed: ' + JSON.stringify(ready));

  const pubs = await Promise.all(Array.from({ length: opt.pubs }, () => connect(pubUrl)));
  let okTrue = 0, okFalse = 0;
  pubs.forEach((ws) => ws.on('message', (d) => { const s = d.toString(); if (msgType(s) === 'OK') { if (/^\["OK",\s*"[0-9a-f]{64}",\s*true/.test(s)) okTrue++; else okFalse++; } }));
  await sleep(300);
  const cpu0 = relayStat(pids);
  const sendT = new Float64Array(opt.events), interval = 1000 / opt.rate, t0 = nowMs();
  let k = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (k < opt.events && t0 + k * interval <= now) { sendT[k] = nowMs(); pubs[k % opt.pubs].send(jsons[k]); k++; }
      if (k >= opt.events) return resolve();
      setTimeout(tick, Math.max(0, Math.min(interval, t0 + k * interval - nowMs())));
    };
    tick();
  });
  const tSent = nowMs(), expected = Math.ceil(opt.subs / 2) * opt.events + Math.floor(opt.subs / 2) * toTarget;
  // Wait for every delivery; give up 5 s after the last progress (30 s at most).
  let lastN = -1, lastProgress = nowMs(), seq = 0;
  while (nowMs() - tSent < 30000) {
    const q = ++seq; worker.postMessage({ type: 'count', seq: q });
    const c = await waitMsg((m) => m.type === 'count' && m.seq === q, 5000);
    const got = c?.n ?? lastN;
    if (got >= expected && okTrue + okFalse >= k) break;
    if (got > lastN) { lastN = got; lastProgress = nowMs(); } else if (nowMs() - lastProgress > 5000) break;
    await sleep(100);
  }
  await sleep(300); // duplicates, if any, arrive now
  const cpu1 = relayStat(pids);
  worker.postMessage({ type: 'finish' });
  const res = await waitMsg((m) => m.type === 'result', 30000);
  pubs.forEach((ws) => ws.terminate());
  await worker.terminate().catch(() => {});
  const lat = [];
  for (let j = 0; j < res.n; j++) lat.push(res.recvT[j] - sendT[res.recvIdx[j]]);
  const L = latStats(lat);
  let subsMissing = 0, subsExtra = 0;
  res.perSub.forEach((c, i) => { const want = i % 2 === 1 ? toTarget : opt.events; if (c < want) subsMissing++; if (c > want) subsExtra++; });
  const r = { publishUrl: pubUrl, subscribeUrl: subUrl, crossNode: pubUrl !== subUrl, subs: opt.subs, published: k,
    actualRatePerS: +(k / ((tSent - t0) / 1000)).toFixed(0), okTrue, okFalse, expectedDeliveries: expected, deliveries: res.n,
    lost: Math.max(0, expected - res.n), unknownEvents: res.unknown, closed: res.closed, subsMissingEvents: subsMissing, subsWithExtraEvents: subsExtra,
    latencyMs: L, relayCpuS: cpu0 && cpu1 ? +(cpu1.cpuS - cpu0.cpuS).toFixed(2) : null };
  console.log(`W2X | ${r.crossNode ? 'cross-node' : 'same node'} fan-out ${r.deliveries}/${expected} deliveries, lost ${r.lost} (${k} published @${r.actualRatePerS}/s, OK true=${okTrue} false=${okFalse}) latency ms p50=${L.p50} p90=${L.p90} p99=${L.p99} max=${L.max} | relay CPU ${r.relayCpuS}s`);
  if (opt.out) fs.writeFileSync(opt.out, JSON.stringify(r, null, 2));
  process.exit(0);
}
