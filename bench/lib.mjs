// Helpers shared by Nexus's own workloads (store.mjs, jobs.mjs); same measuring rules as
// ../shared/bench/load/run.mjs: relay CPU = utime+stime from /proc/PID/stat summed over the PIDs, RSS = VmRSS.
import fs from 'node:fs';
import { execSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { setNostrWasm, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/wasm';
import { initNostrWasm } from 'nostr-wasm';

export const nowMs = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { finalizeEvent, generateSecretKey, getPublicKey };
export async function initSigning() { setNostrWasm(await initNostrWasm()); }

export function parseArgs(argv, defaults) {
  const opt = { ...defaults }, pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const k = a.slice(2);
      if (!(k in opt)) { console.error('unknown option ' + a); process.exit(2); }
      if (typeof opt[k] === 'boolean') opt[k] = true;
      else opt[k] = typeof opt[k] === 'number' ? Number(argv[++i]) : argv[++i];
    } else pos.push(a);
  }
  return { opt, pos };
}

export function connect(url, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: 64 * 1024 * 1024 });
    ws.once('open', () => { ws.removeAllListeners('error'); ws.on('error', () => {}); resolve(ws); });
    ws.once('error', reject);
  });
}

export function msgType(s) {
  const m = /^\[\s*"([A-Z]+)"/.exec(s.length > 24 ? s.slice(0, 24) : s);
  return m ? m[1] : '?';
}
export function subIdOf(s) {
  const a = s.indexOf('"', s.indexOf(',') + 1);
  return s.slice(a + 1, s.indexOf('"', a + 1));
}

export function latStats(arr) {
  const s = Float64Array.from(arr).sort();
  const pct = (p) => (s.length ? +s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))].toFixed(3) : null);
  return { n: s.length, p50: pct(50), p90: pct(90), p99: pct(99), max: s.length ? +s[s.length - 1].toFixed(3) : null };
}

let CLK_TCK = 100;
try { CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100; } catch {}
export function relayStat(pids) {
  let cpu = 0, rss = 0;
  for (const pid of pids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      cpu += (Number(f[11]) + Number(f[12])) / CLK_TCK;
      rss += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] || 0);
    } catch { return null; }
  }
  return { cpuS: cpu, rssMiB: +(rss / 1024).toFixed(1) };
}

/** Sends pre-serialized EVENT messages over C connections, W in flight each; resolves with OK counts. */
export async function ingest(url, jsons, C = 8, WIN = 200) {
  const conns = await Promise.all(Array.from({ length: C }, () => connect(url)));
  let okTrue = 0, okFalse = 0; const reasons = {};
  await Promise.all(conns.map((ws, ci) => new Promise((resolve) => {
    const list = []; for (let i = ci; i < jsons.length; i += C) list.push(jsons[i]);
    let next = 0, inflight = 0, done = 0;
    const pump = () => { while (inflight < WIN && next < list.length) { ws.send(list[next++]); inflight++; } if (done >= list.length) resolve(); };
    ws.on('message', (d) => {
      const s = d.toString();
      if (msgType(s) !== 'OK') return;
      inflight--; done++;
      if (/^\["OK",\s*"[0-9a-f]{64}",\s*true/.test(s)) okTrue++; else { okFalse++; const r = JSON.parse(s)[3]?.slice(0, 60); reasons[r] = (reasons[r] || 0) + 1; }
      pump();
    });
    pump();
  })));
  conns.forEach((ws) => ws.terminate());
  return { okTrue, okFalse, reasons };
}

/** Bytes of the files in a directory (the relay's database files), by name; a store that is a directory (LMDB's) counts as its files. */
export function dirBytes(dir) {
  const out = {};
  if (!dir) return out;
  try {
    for (const f of fs.readdirSync(dir)) {
      const st = fs.statSync(`${dir}/${f}`);
      if (st.isFile()) out[f] = st.size;
      else if (st.isDirectory()) for (const g of fs.readdirSync(`${dir}/${f}`)) { const sub = fs.statSync(`${dir}/${f}/${g}`); if (sub.isFile()) out[`${f}/${g}`] = sub.size; }
    }
  } catch {}
  return out;
}
