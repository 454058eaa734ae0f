// One-screen summary of a run.mjs JSON result beside strfry's figures and Nexus's targets.
import fs from 'node:fs';
import os from 'node:os';

const [file, jvmFlags = ''] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const w = r.workloads;
const fmt = (v, d = 0) => (v === null || v === undefined ? '-' : Number(v).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const rows = [];
const mark = (ok) => (ok === null ? '  ' : ok ? 'ok' : 'NO');
if (w.W1) {
  const cpu = w.W1.relay.cpuS_per_1000_events;
  rows.push(['W1 ingest', `${fmt(w.W1.eventsPerS)} ev/s, ${fmt(cpu, 3)} CPU-s/1k (${w.W1.okTrue}/${w.W1.events} OK)`,
    '5,411 ev/s, 0.31', '>= 8,000 ev/s, <= 0.25', mark(w.W1.eventsPerS >= 8000 && cpu !== undefined && cpu <= 0.25 && w.W1.okTrue === w.W1.events)]);
}
if (w.W2) {
  const L = w.W2.latencyMs;
  rows.push(['W2 fan-out', `${fmt(w.W2.deliveries)}/${fmt(w.W2.expectedDeliveries)}, p50 ${fmt(L.p50, 1)} ms, p99 ${fmt(L.p99, 1)} ms`,
    '300,000/300,000, p50 61, p99 276', 'zero lost, p99 <= 50 ms', mark(w.W2.deliveries === w.W2.expectedDeliveries && L.p99 <= 50)]);
}
if (w.W3) {
  const L = w.W3.latencyMs;
  rows.push(['W3 queries', `${fmt(w.W3.queriesPerS)} q/s, p50 ${fmt(L.p50, 1)} ms, p99 ${fmt(L.p99, 1)} ms`,
    '3,007 q/s, p50 9.5, p99 32', '>= 3,000 q/s, p99 <= 32 ms', mark(w.W3.queriesPerS >= 3000 && L.p99 <= 32)]);
}
if (w.W4) {
  rows.push(['W4 idle', `${fmt(w.W4.eose)}/${fmt(w.W4.target)} EOSE, ${fmt(w.W4.relayRssPerConnKiB, 1)} KiB/conn, RSS ${fmt(w.W4.relayRssWithConnsMiB)} -> ${fmt(w.W4.relayRssAfterCloseMiB)} MiB after close`,
    '5,000/5,000, 82 KiB/conn', 'all EOSE, <= 40 KiB/conn', mark(w.W4.allEose && w.W4.relayRssPerConnKiB <= 40)]);
}
const head = ['workload', 'Nexus (this run)', 'strfry (issue #5)', 'target', ''];
const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(width[i])).join(' | ') + ' |';
console.log(`\nNexus benchmark ${r.startedAt} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${r.host.node}, JVM flags: ${jvmFlags}`);
console.log(line(head));
console.log('|' + width.map((n) => '-'.repeat(n + 2)).join('|') + '|');
for (const row of rows) console.log(line(row));
