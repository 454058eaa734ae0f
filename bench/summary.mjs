// One table from a bench/run.sh results directory: each measure with the ratio Nexus/strfry first
// (when strfry ran), the target, then both figures. With --rounds N the directory holds
// round-1 ... round-N, each a full side-by-side; the table then shows medians over the rounds (the
// ratio column is the median of the per-round ratios, beside their range), because on a small shared
// machine one run's ratio moves by a fifth between runs.
//   node bench/summary.mjs bench/results/<stamp> [NEXUS_JAVA_OPTS]
import fs from 'node:fs';
import os from 'node:os';

const [dir, javaOpts = ''] = process.argv.slice(2);
const read = (d, relay) => {
  const w = {};
  for (const part of ['load', 'jobs', 'store']) {
    const f = `${d}/${relay}-${part}.json`;
    if (fs.existsSync(f)) { const j = JSON.parse(fs.readFileSync(f, 'utf8')); Object.assign(w, j.workloads); if (j.relayAtStart) w.atStart = j.relayAtStart; }
  }
  // W3LONG ran W1 and W3 again on a relay of its own: only its W3 is kept, under a name of its own.
  const long = `${d}/${relay}-w3long.json`;
  if (fs.existsSync(long)) w.W3long = JSON.parse(fs.readFileSync(long, 'utf8')).workloads.W3;
  const idle = `${d}/${relay}-idle-memory.json`;
  if (fs.existsSync(idle)) w.idleMemory = JSON.parse(fs.readFileSync(idle, 'utf8'));
  const m = `${d}/${relay}-load-metrics.txt`;
  if (fs.existsSync(m)) w.fanOutDelay = fanOutDelay(fs.readFileSync(m, 'utf8'));
  return w;
};
// Nexus's nexus_fanout_delay_seconds histogram (Prometheus text): the bucket bound that holds 99% of the
// records, in ms (a bound, not an interpolation), and their count. Null when nothing was recorded.
function fanOutDelay(text) {
  const buckets = [...text.matchAll(/^nexus_fanout_delay_seconds_bucket\{le="([^"]+)"\} ([0-9.eE+]+)$/gm)]
    .map((x) => ({ le: x[1] === '+Inf' ? Infinity : Number(x[1]), n: Number(x[2]) })).sort((a, b) => a.le - b.le);
  const count = buckets.length ? buckets[buckets.length - 1].n : 0;
  if (!count) return null;
  const p99 = buckets.find((b) => b.n >= 0.99 * count);
  return { count, p99BoundMs: p99.le * 1000 };
}
const roundDirs = fs.readdirSync(dir).filter((n) => /^round-\d+$/.test(n)).sort((x, y) => Number(x.slice(6)) - Number(y.slice(6))).map((n) => `${dir}/${n}`);
const rounds = (roundDirs.length ? roundDirs : [dir]).map((d) => ({ nx: read(d, 'nexus'), sf: read(d, 'strfry') }));
const nx = rounds[0].nx;
const haveStrfry = rounds.some((r) => Object.keys(r.sf).length > 0);
const median = (xs) => {
  const v = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const fmt = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? '-' : Number(v).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const rows = [];
const multi = rounds.length > 1;
// get(w) -> number; target text. Several rounds: medians of each relay's figure and of the per-round ratios.
function row(name, get, d, target, unit = '') {
  const val = (w) => { try { const v = get(w); return v === undefined || Number.isNaN(v) ? null : v; } catch { return null; } };
  const as = rounds.map((r) => val(r.nx)), bs = rounds.map((r) => val(r.sf));
  const a = median(as), b = median(bs);
  if (a === null) return;
  const ratios = rounds.map((_, i) => (as[i] !== null && bs[i] ? as[i] / bs[i] : null)).filter((x) => x !== null);
  const ratio = haveStrfry && ratios.length ? `${median(ratios).toFixed(2)}x` : '-';
  const range = ratios.length > 1 ? `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}` : '-';
  rows.push([name, ratio, ...(multi ? [range] : []), target, `${fmt(a, d)}${unit}`, haveStrfry ? `${fmt(b, d)}${unit}` : '-']);
}
row('W1 ingest, ev/s', (w) => w.W1.eventsPerS, 0, '');
row('W1 relay CPU-s per 1k events', (w) => w.W1.relay.cpuS_per_1000_events, 3, '<= 0.5x');
row('W2 deliveries (of expected)', (w) => w.W2.deliveries / w.W2.expectedDeliveries, 3, 'all (1.000)');
row('W2 latency p50, ms', (w) => w.W2.latencyMs.p50, 1, '');
row('W2 latency p99, ms', (w) => w.W2.latencyMs.p99, 1, '<= 20 ms where strfry ~190');
row('W2 relay CPU-s per 1k deliveries', (w) => w.W2.relay.cpuS_per_1000_deliveries, 4, '<= 0.5x');
row('W2 relay fan-out to socket p99 (bucket bound), ms', (w) => w.fanOutDelay.p99BoundMs, 1, 'Nexus metric');
row('W2 client CPU-s', (w) => w.W2.clientCpuS, 2, '<= 1.0x');
row('W3 queries/s', (w) => w.W3.queriesPerS, 0, '>= 1.5x');
row('W3 latency p99, ms', (w) => w.W3.latencyMs.p99, 1, '<= 0.5x');
row(`W3LONG (${fmt(nx.W3long?.queries)} queries) queries/s`, (w) => w.W3long.queriesPerS, 0, '>= 1.5x');
row('W3LONG latency p99, ms', (w) => w.W3long.latencyMs.p99, 1, '<= 0.5x');
row('W3LONG relay CPU-s per 1k queries', (w) => w.W3long.relay.cpuS_per_1000_queries, 3, 'report');
row('W4 relay RSS idle at start, MiB', (w) => w.atStart.rssMiB, 1, 'report (strfry ~14)');
row('W4 relay PSS idle at start, MiB', (w) => w.idleMemory.pssMiB, 1, 'report (shared pages once)');
row('W4 relay RSS with idle conns, MiB', (w) => w.W4.relayRssWithConnsMiB, 1, '<= 0.5x');
row('W4 EOSE received (of opened)', (w) => w.W4.eose / w.W4.target, 3, 'all (1.000)');
row('JOBS idle: OK p99, ms', (w) => w.JOBS.idle.okLatencyMs.p99, 1, '');
row('JOBS idle: delivery p99, ms', (w) => w.JOBS.idle.deliveryLatencyMs.p99, 1, '');
row('JOBS under flood: OK p99, ms', (w) => w.JOBS.loaded.okLatencyMs.p99, 1, '<= 50 ms');
row('JOBS under flood: delivery p99, ms', (w) => w.JOBS.loaded.deliveryLatencyMs.p99, 1, '<= 50 ms');
row('JOBS flood ingest, ev/s', (w) => w.JOBS.socialPerS, 0, '');
row('STORE ingest overall, ev/s', (w) => w.STORE.overallEventsPerS, 0, '');
row('STORE ingest first chunk, ev/s', (w) => w.STORE.chunks[0].eventsPerS, 0, '');
row('STORE ingest last chunk, ev/s', (w) => w.STORE.chunks.at(-1).eventsPerS, 0, '');
row('STORE last/first chunk rate', (w) => w.STORE.lastOverFirstRate, 2, '>= 0.80');
row('STORE relay CPU-s per 1k events', (w) => w.STORE.cpuS_per_1000, 3, '<= 0.5x');
row('STORE bytes on disk per event (end)', (w) => w.STORE.diskBytesPerEventAtEnd, 0, 'report');
row('STORE largest WAL seen, MiB', (w) => Math.max(...w.STORE.chunks.map((c) => c.walBytes)) / 1048576, 1, 'bounded');
row('STORE COUNT kinds:[5050] p50, ms', (w) => w.STORE.count5050.latencyMs.p50, 1, 'milliseconds');
for (const q of ['authors', 'p_jobs_for_provider', 'e_results_for_job', 'k_handlers', 'ids', 'kind_since', 't_tag']) {
  row(`STORE query ${q} p99, ms`, (w) => w.STORE.queries[q].latencyMs.p99, 2, 'report');
}
// Growth: each query's p99 on the full store over its p99 when the store first held 20,000 events.
for (const q of ['authors', 'p_jobs_for_provider', 'e_results_for_job', 'k_handlers', 'ids', 'kind_since', 't_tag']) {
  row(`STORE query ${q} p99, end / at ${fmt(nx.STORE?.early?.atEvents)}`, (w) => w.STORE.queries[q].latencyMs.p99 / w.STORE.early.queries[q].latencyMs.p99, 2, '<= 2.0');
}
const head = multi ? ['measure', 'Nexus/strfry (median)', 'range', 'target', 'Nexus (median)', 'strfry (median)'] : ['measure', 'Nexus/strfry', 'target', 'Nexus', 'strfry'];
const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(width[i])).join(' | ') + ' |';
const roundsN = multi ? `, ${rounds.length} interleaved rounds` : '';
const storeN = nx.STORE ? `, store of ${fmt(nx.STORE.events)} events` : '';
console.log(`\nbench ${dir.split('/').pop()} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}; Nexus: java -jar nexus.jar${javaOpts ? ' with NEXUS_JAVA_OPTS=' + javaOpts : ' (no JVM flags)'}${storeN}${roundsN}${haveStrfry ? '' : '; strfry: not run (set STRFRY)'}`);
console.log(line(head));
console.log('|' + width.map((n) => '-'.repeat(n + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
