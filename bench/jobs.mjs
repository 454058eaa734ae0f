#!/usr/bin/env node
// JOBS: "job traffic first under load". W1-style social ingest (kind 1, 8 connections, 200 in flight
// each) saturates the relay while another client publishes kind-5050 job requests at --rate/s,
// p-tagged to a provider that is subscribed to {"kinds":[5050],"#p":[me],"since":now}. Reports the
// p50/p99 of the job's OK (send -> OK true) and of its delivery to the provider (send -> EVENT),
// first with the relay idle (baseline), then under the social flood. The job client runs in its own
// worker thread so the flood's client-side work does not delay its clock.
//
// usage: node jobs.mjs ws://127.0.0.1:PORT PID[,PID...] [--seconds 10] [--rate 50] [--social 180000] [--out FILE]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import fs from 'node:fs';
import { parseArgs, connect, msgType, latStats, relayStat, nowMs, sleep, initSigning, finalizeEvent, generateSecretKey, getPublicKey } from './lib.mjs';

const ID_RE = /"id"\s*:\s*"([0-9a-f]{64})"/;

if (!isMainThread) {
  // job client: publisher + provider, one phase per message from the main thread
  const { url, provider, jobs, since } = workerData; // jobs: [{id, json}], all created at `since`
  const sendT = new Map(), okT = new Map(), delivT = new Map();
  let okFalse = 0;
  const prov = await connect(url), pub = await connect(url);
  prov.on('message', (d) => {
    const t = nowMs(), s = d.toString('latin1');
    if (msgType(s) === 'EVENT') { const m = ID_RE.exec(s); if (m && !delivT.has(m[1])) delivT.set(m[1], t); }
    else if (msgType(s) === 'EOSE') parentPort.postMessage({ type: 'ready' });
  });
  pub.on('message', (d) => {
    const t = nowMs(), s = d.toString('latin1');
    if (msgType(s) !== 'OK') return;
    const m = /^\["OK",\s*"([0-9a-f]{64})",\s*(true|false)/.exec(s);
    if (m && m[2] === 'true') okT.set(m[1], t); else okFalse++;
  });
  prov.send(JSON.stringify(['REQ', 'jobs', { kinds: [5050], '#p': [provider], since }]));
  let next = 0;
  parentPort.on('message', async (m) => {
    if (m.type !== 'phase') return;
    const ids = [], interval = 1000 / m.rate, t0 = nowMs(), end = t0 + m.seconds * 1000;
    for (let k = 0; nowMs() < end && next < jobs.length; k++) {
      const wait = t0 + k * interval - nowMs();
      if (wait > 0) await sleep(wait);
      const j = jobs[next++]; sendT.set(j.id, nowMs()); pub.send(j.json); ids.push(j.id);
    }
    const deadline = nowMs() + 30000;
    while (nowMs() < deadline && ids.some((id) => !okT.has(id) || !delivT.has(id))) await sleep(50);
    const ok = [], deliv = []; let missingOk = 0, missingDelivery = 0;
    for (const id of ids) {
      if (okT.has(id)) ok.push(okT.get(id) - sendT.get(id)); else missingOk++;
      if (delivT.has(id)) deliv.push(delivT.get(id) - sendT.get(id)); else missingDelivery++;
    }
    parentPort.postMessage({ type: 'phase', name: m.name, published: ids.length, okFalse, missingOk, missingDelivery,
      okLatencyMs: latStats(ok), deliveryLatencyMs: latStats(deliv) });
  });
} else {
  const { opt, pos } = parseArgs(process.argv.slice(2), { seconds: 10, rate: 50, social: 180000, 'baseline-seconds': 3, out: '' });
  const [url, pidArg = ''] = pos;
  if (!url) { console.error('usage: node jobs.mjs ws://host:port PID[,PID] [--seconds 10] [--rate 50] [--social 180000] [--out FILE]'); process.exit(2); }
  const pids = pidArg.split(',').filter(Boolean).map(Number);
  await initSigning();
  const keys = Array.from({ length: 200 }, () => { const sk = generateSecretKey(); return { sk, pk: getPublicKey(sk) }; });
  const provider = keys[0].pk, now = Math.floor(Date.now() / 1000);
  const nJobs = Math.ceil(opt.rate * (opt.seconds + opt['baseline-seconds'])) + 10;
  const jobs = Array.from({ length: nJobs }, (_, i) => {
    const ev = finalizeEvent({ kind: 5050, created_at: now, content: '', tags: [['i', `job ${i} ${Math.random()}`, 'text'], ['bid', '1000'], ['p', provider]] }, keys[1 + (i % 50)].sk);
    return { id: ev.id, json: JSON.stringify(['EVENT', ev]) };
  });
  const social = Array.from({ length: opt.social }, (_, i) => JSON.stringify(['EVENT', finalizeEvent({ kind: 1, created_at: now - 600 + (i % 600),
    content: `social note ${i} ${Math.random().toString(36).slice(2)}`, tags: [['t', 'bench'], ['p', keys[(i * 7) % 200].pk]] }, keys[i % 200].sk)]));
  console.log(`-- pre-signed ${nJobs} jobs and ${opt.social} social events`);

  const worker = new Worker(new URL(import.meta.url), { workerData: { url, provider, jobs, since: now } });
  const inbox = []; let wake = null;
  worker.on('message', (m) => { inbox.push(m); wake?.(); });
  const next = async (type) => { for (;;) { const i = inbox.findIndex((m) => m.type === type); if (i >= 0) return inbox.splice(i, 1)[0]; await new Promise((r) => { wake = r; setTimeout(r, 200); }); } };
  await next('ready');

  // phase 1: jobs alone
  worker.postMessage({ type: 'phase', name: 'idle', rate: opt.rate, seconds: opt['baseline-seconds'] });
  const idle = await next('phase');

  // phase 2: jobs while social ingest saturates the relay
  const C = 8, WIN = 200;
  const conns = await Promise.all(Array.from({ length: C }, () => connect(url)));
  let acked = 0, stop = false;
  const r0 = relayStat(pids), t0 = nowMs();
  let sent = 0;
  const floodDone = Promise.all(conns.map((ws, ci) => new Promise((resolve) => {
    let inflight = 0;
    const pump = () => { while (!stop && inflight < WIN && sent < social.length) { ws.send(social[sent++]); inflight++; } if (inflight === 0) resolve(); };
    ws.on('message', (d) => { if (msgType(d.toString('latin1', 0, 12)) === 'OK') { inflight--; acked++; pump(); } });
    pump();
  })));
  await sleep(500); // the flood is on before the first job
  worker.postMessage({ type: 'phase', name: 'loaded', rate: opt.rate, seconds: opt.seconds });
  const loaded = await next('phase');
  const tJobsDone = nowMs();
  stop = true;
  await Promise.race([floodDone, sleep(30000)]);
  const r1 = relayStat(pids), secs = (nowMs() - t0) / 1000;
  conns.forEach((ws) => ws.terminate());
  await worker.terminate();
  const floodLasted = sent < social.length || tJobsDone - t0 < secs * 1000; // did the flood outlast the jobs?
  const result = { workloads: { JOBS: { rate: opt.rate, idle, loaded, socialAcked: acked, socialPerS: +(acked / secs).toFixed(0), socialExhausted: sent >= social.length,
    floodCoveredJobs: sent < social.length, relayCpuS: r0 && r1 ? +(r1.cpuS - r0.cpuS).toFixed(2) : null, relayRssMiB: r1?.rssMiB ?? null } } };
  void floodLasted;
  const L = loaded, I = idle;
  console.log(`JOBS | idle: OK p50 ${I.okLatencyMs.p50} p99 ${I.okLatencyMs.p99} ms, delivery p50 ${I.deliveryLatencyMs.p50} p99 ${I.deliveryLatencyMs.p99} ms (${I.published} jobs)`
    + ` | under social flood (${result.workloads.JOBS.socialPerS} ev/s${result.workloads.JOBS.socialExhausted ? ', flood ran out before the jobs ended: raise --social' : ''}):`
    + ` OK p50 ${L.okLatencyMs.p50} p99 ${L.okLatencyMs.p99} ms, delivery p50 ${L.deliveryLatencyMs.p50} p99 ${L.deliveryLatencyMs.p99} ms (${L.published} jobs, missing OK ${L.missingOk}, missing delivery ${L.missingDelivery})`);
  if (opt.out) fs.writeFileSync(opt.out, JSON.stringify(result, null, 2) + '\n');
  process.exit(0);
}
