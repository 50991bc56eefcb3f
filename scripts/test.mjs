// Test runner entry: finds test files under the given folders (default: test/) and runs
// them with Node's own test runner, TypeScript loaded through tsx. Node 20's --test does
// not expand globs, hence this script.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const passthrough = args.filter((a) => a.startsWith('--'));
const dirs = args.filter((a) => !a.startsWith('--'));
const roots = dirs.length ? dirs : ['test/unit', 'test/fuzz', 'test/nodes', 'test/reliability', 'test/interop', 'test/system'];
const files = [];
const walk = (p) => {
  let st;
  try { st = statSync(p); } catch { return; }
  if (st.isDirectory()) {
    for (const e of readdirSync(p).sort()) if (e !== 'fixtures' && e !== 'node_modules' && e !== 'artifacts') walk(join(p, e));
  } else if (/\.test\.(ts|mjs|js)$/.test(p)) files.push(relative(process.cwd(), p));
};
for (const r of roots) walk(r);
if (files.length === 0) { console.error('no test files found under', roots.join(' ')); process.exit(1); }
const r = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...passthrough, ...files],
  { stdio: 'inherit' });
process.exit(r.status ?? 1);
