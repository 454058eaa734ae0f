// The SQLite writer's steps, in µs of sampled CPU per event, from async-profiler collapsed stacks (1 ms
// samples, `threads`), side by side for several files: WriterFloor's -Dprofile.chunks output, or a relay
// profile (bench/profile.sh). usage: node bench/writer-steps.mjs EVENTS file.collapsed [file ...]
import { readFileSync } from 'node:fs';
const [eventsArg, ...files] = process.argv.slice(2);
const events = Number(eventsArg);
const rows = [
  ['all', () => true],
  ['writer', (l) => l.includes('[nexus-writer')],
  ['  commit', (l) => l.includes('[nexus-writer') && l.includes('SQLiteConnection.commit')],
  ['  insertRow', (l) => l.includes('[nexus-writer') && l.includes('insertRow')],
  ['  insertTags', (l) => l.includes('[nexus-writer') && l.includes('insertTags')],
  ['  contains', (l) => l.includes('[nexus-writer') && l.includes('WriterStatements.contains')],
  ['  isTombstoned', (l) => l.includes('[nexus-writer') && l.includes('isTombstoned')],
  ['  versions', (l) => l.includes('[nexus-writer') && l.includes('WriterStatements.versions')],
  ['  pwrite (leaf)', (l) => l.includes('[nexus-writer') && /pwrite64[^;]*$/.test(l.replace(/;[^;]*_\[k\]/g, ''))],
  ['  pread (leaf)', (l) => l.includes('[nexus-writer') && /pread64[^;]*$/.test(l.replace(/;[^;]*_\[k\]/g, ''))],
  ['  kernel', (l) => l.includes('[nexus-writer') && /_\[k\]$/.test(l)],
  ['checkpointer', (l) => l.includes('[nexus-checkpointer')],
  ['  pwrite', (l) => l.includes('[nexus-checkpointer') && l.includes('pwrite64')],
  ['  pread', (l) => l.includes('[nexus-checkpointer') && l.includes('pread64')],
  ['  fsync', (l) => l.includes('[nexus-checkpointer') && /f(data)?sync/.test(l)],
  ['main', (l) => l.includes('[main')],
  ['GC', (l) => l.includes('[VM Thread') || l.includes('GC Thread')],
];
const table = files.map((f) => {
  const acc = rows.map(() => 0);
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const cut = line.lastIndexOf(' ');
    if (cut < 0) continue;
    const n = Number(line.slice(cut + 1)), l = line.slice(0, cut);
    rows.forEach(([, match], i) => { if (match(l)) acc[i] += n; });
  }
  return acc.map((s) => (s * 1000) / events);
});
console.log('µs/event'.padEnd(20) + files.map((f) => (' ' + f.split('/').pop().replace(/\.collapsed$/, '')).slice(-24).padStart(24)).join(''));
rows.forEach(([name], i) => console.log(name.padEnd(20) + table.map((t) => t[i].toFixed(1).padStart(24)).join('')));
