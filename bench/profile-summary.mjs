// Summarises async-profiler's collapsed stacks (written with `threads`) per thread role:
//   node bench/profile-summary.mjs stacks.collapsed [frames per role, default 12]
// A role is a thread name without its numbers (nexus-io-8-1 -> nexus-io). For each role with at least
// 2% of the samples: its share, the share spent in the kernel, the methods that spend the most
// themselves (kernel time counted to the user-space caller that entered it) and those whose callees
// spend the most (frames on nearly every stack of the role, like Thread.run, are left out).
import { readFileSync } from 'node:fs';

const [file, perRoleArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs stacks.collapsed [frames per role]');
  process.exit(2);
}
const perRole = Number(perRoleArg ?? 12);
const roles = new Map();
let total = 0;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const cut = line.lastIndexOf(' ');
  if (cut < 0) continue;
  const samples = Number(line.slice(cut + 1));
  const frames = line.slice(0, cut).split(';');
  const m = /^\[(.*?)(?: tid=\d+)?\]$/.exec(frames[0]);
  const role = m ? m[1].replace(/[-_ ]?\d+$/g, '').replace(/(-\d+)+$/, '') || 'unnamed' : 'unnamed';
  const name = role === 'tid=' ? 'native (unnamed)' : role;
  const stack = m ? frames.slice(1) : frames;
  let r = roles.get(name);
  if (!r) roles.set(name, (r = { samples: 0, kernel: 0, self: new Map(), inclusive: new Map() }));
  r.samples += samples;
  total += samples;
  const user = stack.filter((f) => !f.endsWith('_[k]'));
  if (stack.length && stack[stack.length - 1].endsWith('_[k]')) r.kernel += samples;
  const leaf = user.length ? user[user.length - 1] : '(kernel)';
  r.self.set(leaf, (r.self.get(leaf) ?? 0) + samples);
  for (const f of new Set(user)) r.inclusive.set(f, (r.inclusive.get(f) ?? 0) + samples);
}

const pct = (n, of) => `${((100 * n) / of).toFixed(1).padStart(5)}%`;
const short = (f) => f.replace(/\$\$Lambda\$?[\w.$/]*/, '$$Lambda').replace(/^\/tmp\/.*(libsqlitejdbc)\.so$/, 'SQLite (libsqlitejdbc.so)');
console.log(`${total} samples`);
console.log('role'.padEnd(28) + 'share  kernel');
const sorted = [...roles.entries()].sort((a, b) => b[1].samples - a[1].samples);
for (const [role, r] of sorted) {
  if (r.samples / total < 0.005) continue;
  console.log(`${role.padEnd(26)}${pct(r.samples, total)} ${pct(r.kernel, r.samples)}`);
}
for (const [role, r] of sorted) {
  if (r.samples / total < 0.02) continue;
  console.log(`\n== ${role}: ${pct(r.samples, total).trim()} of all samples, ${pct(r.kernel, r.samples).trim()} of its own in the kernel`);
  console.log('  spends itself:');
  for (const [f, n] of [...r.self.entries()].sort((a, b) => b[1] - a[1]).slice(0, perRole)) console.log(`   ${pct(n, r.samples)} ${short(f)}`);
  console.log('  spends with its callees:');
  const inclusive = [...r.inclusive.entries()].filter(([, n]) => n < 0.95 * r.samples).sort((a, b) => b[1] - a[1]);
  for (const [f, n] of inclusive.slice(0, perRole)) console.log(`   ${pct(n, r.samples)} ${short(f)}`);
}
