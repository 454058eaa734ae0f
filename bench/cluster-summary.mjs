#!/usr/bin/env node
// The table of bench/cluster.sh: one SQLite node beside two PostgreSQL nodes, same sitting.
import fs from 'node:fs';

const dir = process.argv[2];
const read = (f) => { try { return JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')); } catch { return null; } };
const w1 = (setup) => {
  const runs = ['a', 'b'].map((x) => read(`${setup}-w1-${x}.json`)?.workloads?.W1).filter(Boolean);
  return { rate: runs.reduce((s, r) => s + r.eventsPerS, 0), acked: runs.reduce((s, r) => s + r.okTrue, 0),
    sent: runs.reduce((s, r) => s + r.events, 0), each: runs.map((r) => r.eventsPerS), complete: runs.length === 2 && runs.every((r) => !r.timedOut) };
};
const rows = [], res = {};
for (const setup of ['sqlite', 'cluster']) {
  const a = w1(setup), w3 = read(`${setup}-w3.json`)?.workloads?.W3;
  const w2s = fs.readdirSync(dir).filter((f) => f.startsWith(`${setup}-w2x-`)).map((f) => read(f)).filter(Boolean).sort((x, y) => y.subs - x.subs);
  res[setup] = { w1: a, w2: w2s.find((w) => w.subs === 200) || w2s[0], w3 };
  const name = setup === 'sqlite' ? 'SQLite, one node' : 'PostgreSQL, two nodes';
  rows.push([name, `${a.rate} (${a.each.join(' + ')}; ${a.acked}/${a.sent} OK)`, '', '', w3 ? `${w3.queriesPerS} q/s, p50 ${w3.latencyMs.p50} p99 ${w3.latencyMs.p99}` : '-']);
  for (const w2 of w2s) rows.push(['', '', `${w2.crossNode ? 'A->B' : 'same'}, ${w2.subs} subs: ${w2.latencyMs.p50} / ${w2.latencyMs.p99} (max ${w2.latencyMs.max})`,
    `${w2.lost} of ${w2.expectedDeliveries} @${w2.actualRatePerS}/s`, '']);
}
const head = ['Setup', 'W1 ingest ev/s (sum)', 'W2 latency ms p50 / p99', 'W2 lost', 'W3 queries'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const fmt = (r) => '| ' + r.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
console.log(fmt(head)); console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|'); rows.forEach((r) => console.log(fmt(r)));
const c = res.cluster, s = res.sqlite;
if (c.w2) console.log(`target (${c.w2.subs} subs): cross-node p99 < 100 ms at 500 ev/s with nothing lost: ${c.w2.latencyMs.p99 < 100 && c.w2.lost === 0 && c.w2.subsWithExtraEvents === 0 ? 'MET' : 'NOT MET'} (p99 ${c.w2.latencyMs.p99} ms, lost ${c.w2.lost}, subscribers with duplicates ${c.w2.subsWithExtraEvents}, at ${c.w2.actualRatePerS} ev/s)`);
if (c.w1.complete && s.w1.complete) console.log(`target: two-node ingest >= one SQLite node: ${c.w1.rate >= s.w1.rate ? 'MET' : 'NOT MET'} (${c.w1.rate} vs ${s.w1.rate} ev/s, ratio ${(c.w1.rate / s.w1.rate).toFixed(2)})`);
for (const f of ['loadavg-start.txt', 'loadavg-end.txt']) { try { console.log(`${f.replace('.txt', '')}: ${fs.readFileSync(`${dir}/${f}`, 'utf8').trim()}`); } catch {} }
