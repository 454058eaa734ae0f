#!/usr/bin/env node
// STORE: costs as the database grows. Builds a store of --events marketplace events over WebSocket in
// --chunks equal chunks (each chunk signed first, untimed, then ingested, timed), and reports per
// chunk: ingest rate, relay CPU-s per 1k events, bytes on disk per stored event and the WAL's size.
// Then, on the full store: COUNT {"kinds":[5050]} time, and p50/p99 of the common marketplace
// queries (authors, #p jobs for a provider, #e results for a job, #k handlers, ids, kind+since, #t).
// The same queries also run once the store first holds --early-at events (20,000; at the end of the
// chunk that reaches it), untimed for ingest, so each query's p99 can be compared as the store grows.
// The mix: 40% kind 1 (t-tagged), 25% kind 5050 jobs (p-tagged to one of 20 providers), 15% kind 7000
// feedback and 15% kind 6050 results (e-tagged to a job), 5% kind 31990 handlers (k tags), from 1,000 keys,
// created within the last 6 hours (inside every retention window).
//
// usage: node store.mjs ws://127.0.0.1:PORT PID[,PID] [--events 100000] [--chunks 10] [--db-dir DIR]
//                       [--queries 200] [--counts 5] [--early-at 20000] [--out FILE]
import fs from 'node:fs';
import { parseArgs, connect, msgType, subIdOf, latStats, relayStat, nowMs, sleep, ingest, dirBytes, initSigning, finalizeEvent, generateSecretKey, getPublicKey } from './lib.mjs';

const { opt, pos } = parseArgs(process.argv.slice(2), { events: 100000, chunks: 10, 'db-dir': '', queries: 200, counts: 5, 'early-at': 20000, out: '' });
const [url, pidArg = ''] = pos;
if (!url) { console.error('usage: node store.mjs ws://host:port PID[,PID] [--events N] [--chunks 10] [--db-dir DIR] [--out FILE]'); process.exit(2); }
const pids = pidArg.split(',').filter(Boolean).map(Number);
await initSigning();
const keys = Array.from({ length: 1000 }, () => { const sk = generateSecretKey(); return { sk, pk: getPublicKey(sk) }; });
const providers = keys.slice(0, 20).map((k) => k.pk);
const now = Math.floor(Date.now() / 1000), span = 6 * 3600;
const sample = { jobIds: [], ids: [], jobs: 0 }; // kept for the queries
let lastJob = null;

function makeChunk(from, to) {
  const out = [];
  for (let i = from; i < to; i++) {
    const k = keys[(i * 7919) % keys.length], r = i % 20, created_at = now - span + Math.floor((i * span) / opt.events);
    let t;
    if (r < 8) t = { kind: 1, created_at, content: `note ${i} ${Math.random().toString(36).slice(2)}`, tags: [['t', `topic${i % 100}`], ['p', keys[(i * 13) % 1000].pk]] };
    else if (r < 13) t = { kind: 5050, created_at, content: JSON.stringify({ prompt: `summarise document ${i}` }), tags: [['i', `doc ${i}`, 'text'], ['bid', '1000'], ['p', providers[i % 20]]] };
    else if (r < 16 && lastJob) t = { kind: 7000, created_at, content: '', tags: [['status', 'processing'], ['e', lastJob.id], ['p', lastJob.pubkey]] };
    else if (r < 19 && lastJob) t = { kind: 6050, created_at, content: `result ${i}`, tags: [['e', lastJob.id], ['p', lastJob.pubkey], ['request', JSON.stringify(lastJob)], ['amount', '1000']] };
    else t = { kind: 31990, created_at, content: '{"name":"handler"}', tags: [['d', `h${i}`], ['k', String(5000 + (i % 50))], ['k', '5050']] };
    const ev = finalizeEvent(t, k.sk);
    if (ev.kind === 5050) { lastJob = ev; sample.jobs++; if (sample.jobIds.length < 5000) sample.jobIds.push(ev.id); }
    if (i % 97 === 0 && sample.ids.length < 5000) sample.ids.push(ev.id);
    out.push(JSON.stringify(['EVENT', ev]));
  }
  return out;
}

// The query client, connected when first needed (the early queries or the end).
let q = null;
let seq = 0;
const waiting = new Map();
function onMessage(d) {
  const s = d.toString('latin1'), ty = msgType(s);
  if (ty === 'EVENT') { const w = waiting.get(subIdOf(s)); if (w) w.events++; return; }
  if (ty === 'EOSE' || ty === 'CLOSED' || ty === 'COUNT') {
    const sid = subIdOf(s), w = waiting.get(sid); if (!w) return;
    waiting.delete(sid);
    if (ty === 'EOSE') q.send(JSON.stringify(['CLOSE', sid]));
    w.resolve({ ms: nowMs() - w.t, events: w.events, type: ty, raw: ty === 'EOSE' ? null : s.slice(0, 200) });
  }
}
async function ensureClient() {
  if (q) return;
  q = await connect(url, 60000);
  q.on('message', onMessage);
}
const ask = (verb, filter) => new Promise((resolve) => { const sid = `s${++seq}`; waiting.set(sid, { t: nowMs(), events: 0, resolve }); q.send(JSON.stringify([verb, sid, filter])); });
const pick = (arr, i) => arr[(i * 7919) % arr.length];
const types = {
  authors: (i) => ({ authors: [keys[(i * 31) % 1000].pk], limit: 50 }),
  p_jobs_for_provider: (i) => ({ kinds: [5050], '#p': [providers[i % 20]], limit: 20 }),
  e_results_for_job: (i) => ({ kinds: [6050, 7000], '#e': [pick(sample.jobIds, i)] }),
  k_handlers: (i) => ({ kinds: [31990], '#k': [String(5000 + (i % 50))], limit: 20 }),
  ids: (i) => ({ ids: [pick(sample.ids, i)] }),
  kind_since: (i) => ({ kinds: [1], since: now - span + ((i * 104729) % span), limit: 100 }),
  t_tag: (i) => ({ kinds: [1], '#t': [`topic${i % 100}`], limit: 50 }),
};
async function runQueries() {
  await ensureClient();
  const out = {};
  for (const [name, f] of Object.entries(types)) {
    const lat = []; let events = 0;
    for (let i = 0; i < opt.queries; i++) { const r = await ask('REQ', f(i)); lat.push(r.ms); events += r.events; }
    out[name] = { latencyMs: latStats(lat), avgEvents: +(events / opt.queries).toFixed(1) };
  }
  return out;
}

let early = null;
const chunks = [], per = Math.ceil(opt.events / opt.chunks);
let stored = 0, totalCpu = 0, totalSecs = 0;
for (let c = 0; c < opt.chunks && stored < opt.events; c++) {
  const jsons = makeChunk(stored, Math.min(opt.events, stored + per));
  const r0 = relayStat(pids), t0 = nowMs();
  const res = await ingest(url, jsons);
  const secs = (nowMs() - t0) / 1000, r1 = relayStat(pids);
  stored += jsons.length;
  const cpu = r0 && r1 ? r1.cpuS - r0.cpuS : null;
  totalCpu += cpu ?? 0; totalSecs += secs;
  const files = dirBytes(opt['db-dir']);
  const total = Object.values(files).reduce((a, b) => a + b, 0);
  const wal = Object.entries(files).filter(([f]) => f.endsWith('-wal')).reduce((a, [, b]) => a + b, 0);
  const ch = { upTo: stored, events: jsons.length, okTrue: res.okTrue, okFalse: res.okFalse, rejectReasons: res.reasons, seconds: +secs.toFixed(2), eventsPerS: +(jsons.length / secs).toFixed(0),
    cpuS_per_1000: cpu === null ? null : +(cpu / jsons.length * 1000).toFixed(4), diskBytes: total, diskBytesPerEvent: +(total / stored).toFixed(0), walBytes: wal, relayRssMiB: r1?.rssMiB ?? null };
  chunks.push(ch);
  if (!early && stored >= opt['early-at']) {
    early = { atEvents: stored, queries: await runQueries() };
    q.terminate(); // a fresh client at the end: an idle one could be timed out during the long ingest
    q = null;
    console.log(`STORE | queries at ${stored} events, p50/p99 ms: ` + Object.entries(early.queries).map(([k, v]) => `${k} ${v.latencyMs.p50}/${v.latencyMs.p99}`).join('; '));
  }
  console.log(`STORE | ${stored} stored: ${ch.eventsPerS} ev/s, ${ch.cpuS_per_1000} CPU-s/1k, OK ${res.okTrue}/${jsons.length}, disk ${(total / 1048576).toFixed(1)} MiB (${ch.diskBytesPerEvent} B/event), WAL ${(wal / 1048576).toFixed(1)} MiB, RSS ${ch.relayRssMiB} MiB`);
}

// COUNT and queries on the full store
await ensureClient();
const countRuns = [];
let countAnswer = null;
for (let i = 0; i < opt.counts; i++) { const r = await Promise.race([ask('COUNT', { kinds: [5050] }), sleep(120000).then(() => ({ ms: 120000, type: 'timeout' }))]); countRuns.push(r.ms); countAnswer = r.raw ?? r.type; }
const queries = await runQueries();
q.terminate();
await sleep(2000);
const filesEnd = dirBytes(opt['db-dir']);
const totalEnd = Object.values(filesEnd).reduce((a, b) => a + b, 0);
const first = chunks[0], last = chunks[chunks.length - 1];
const result = { workloads: { STORE: { events: stored, jobs: sample.jobs, chunks, overallEventsPerS: +(stored / totalSecs).toFixed(0), cpuS_per_1000: +(totalCpu / stored * 1000).toFixed(4),
  lastOverFirstRate: +(last.eventsPerS / first.eventsPerS).toFixed(2), diskBytesPerEventAtEnd: +(totalEnd / stored).toFixed(0), filesAtEnd: filesEnd,
  count5050: { latencyMs: latStats(countRuns), answer: countAnswer }, queries, early } } };
console.log(`STORE | overall ${result.workloads.STORE.overallEventsPerS} ev/s, ${result.workloads.STORE.cpuS_per_1000} CPU-s/1k, last/first chunk rate ${result.workloads.STORE.lastOverFirstRate}, ${result.workloads.STORE.diskBytesPerEventAtEnd} B/event on disk at end | COUNT kinds:[5050] p50 ${latStats(countRuns).p50} ms -> ${countAnswer}`);
console.log('STORE | queries p50/p99 ms: ' + Object.entries(queries).map(([k, v]) => `${k} ${v.latencyMs.p50}/${v.latencyMs.p99} (${v.avgEvents} ev)`).join('; '));
if (opt.out) fs.writeFileSync(opt.out, JSON.stringify(result, null, 2) + '\n');
process.exit(0);
