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
// A bound on every test file, so a test that hangs, or a file that a failed assertion left
// with a server or socket open, turns red instead of hanging the suite. Node 20's runner
// applies --test-timeout to each file's process (the file is one test of the run), Node 22's
// to each test as well. The slowest files take about 40 s on a loaded 2-core machine
// (reliability/faults, interop/ffmpeg, e2e/node-red-5); the bound leaves six times that.
// TEST_TIMEOUT_MS or an explicit --test-timeout overrides it.
const DEFAULT_TIMEOUT_MS = 240000;
const timeout = passthrough.some((a) => a.startsWith('--test-timeout')) ? []
  : [`--test-timeout=${Number(process.env.TEST_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS}`];
const r = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...timeout, ...passthrough, ...files],
  { stdio: 'inherit' });
process.exit(r.status ?? 1);
