// Test runner entry: finds test files under the given folders (default: the suites below) and
// runs each in a Node process of its own with node:test, several files at a time. TypeScript
// loads through tsx's CommonJS hooks (the package is CommonJS; its ESM hooks would start a
// loader thread in every file's process, a third of a second of CPU each). Node 20's --test
// does not expand globs, and its own concurrency cannot keep a file away from the others,
// hence this script.
//
//   node scripts/test.mjs [--jobs=N] [node test flags…] [files or folders…]
//
// Files run concurrently (--jobs, TEST_JOBS; default twice the cores, at least 4). So a test
// file takes its TCP/UDP ports from the system (port 0, or the helpers in test/support), its
// temp folders from mkdtemp, and closes what it opens in t.after. A file that cannot share the
// machine (it creates network namespaces, or its assertions need an idle CPU) says so with a
// line `@test-exclusive <why>` in its opening comment; those run one at a time, alone, first.
// Every file also loads test/support/exit-guard.cjs, which fails a file whose process is still
// held open a few seconds after its tests (a leak, or a failed test that left a server open).
// At the end: totals, the failed files, the ten slowest files.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { URL, fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const jobsArg = args.find((a) => a.startsWith('--jobs='));
const passthrough = args.filter((a) => a.startsWith('--') && !a.startsWith('--jobs='));
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

// A bound on every test file, so a test that hangs turns red instead of hanging the suite:
// the runner kills the file's process group then. (A file whose tests are over but whose
// process stays open is ended sooner, by the exit guard.) Every file takes well under 60 s,
// also beside the others on a loaded 2-core machine; the bound leaves four times that.
// TEST_TIMEOUT_MS or --test-timeout=… overrides it (Node 22 also applies the flag per test).
const DEFAULT_TIMEOUT_MS = 240000;
const timeoutFlag = passthrough.find((a) => a.startsWith('--test-timeout'));
const timeoutMs = Number(timeoutFlag?.split('=')[1]) || Number(process.env.TEST_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;
const perTestTimeout = timeoutFlag ? [] : [`--test-timeout=${timeoutMs}`];
const EXIT_GUARD = fileURLToPath(new URL('../test/support/exit-guard.cjs', import.meta.url));

const jobs = Math.max(1, Number(jobsArg?.split('=')[1]) || Number(process.env.TEST_JOBS) || Math.max(4, 2 * availableParallelism()));

/** `@test-exclusive` in the first lines of the file: it runs with no other file beside it */
function isExclusive(file) {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    return /^\s*(\/\/|\*|\/\*\*?)\s*@test-exclusive\b/m.test(head.subarray(0, n).toString('utf8'));
  } finally { closeSync(fd); }
}

// Longest first keeps the slowest file from starting last. Durations of the previous run are
// kept in the temp folder (per project folder); without them, the folders known to be slow first.
const timesFile = join(tmpdir(), `rtsp-mjpeg-test-times-${createHash('sha1').update(process.cwd()).digest('hex').slice(0, 12)}.json`);
let previous = {};
try { previous = JSON.parse(readFileSync(timesFile, 'utf8')); } catch { /* first run */ }
const FOLDER_GUESS_MS = [['test/interop', 20000], ['test/e2e', 20000], ['test/reliability', 15000], ['test/system', 10000], ['test/nodes', 8000]];
const guess = (f) => previous[f] ?? FOLDER_GUESS_MS.find(([d]) => f.startsWith(d))?.[1] ?? 2000;
const byLongest = (a, b) => guess(b) - guess(a);
const exclusive = files.filter(isExclusive).sort(byLongest);
const shared = files.filter((f) => !exclusive.includes(f)).sort(byLongest);

const env = { ...process.env };
delete env.NODE_TEST_CONTEXT; // set when this runner itself runs inside a test file: its children run their own tests
const running = new Set();
const results = [];
const started = Date.now();

function runFile(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const out = [];
    // detached: the file and whatever it spawned (peers) form one process group, killed together
    const child = spawn(process.execPath,
      ['--require', 'tsx/cjs', '--require', EXIT_GUARD, '--test-reporter=spec', ...perTestTimeout, ...passthrough, file],
      { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    running.add(child);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    let killed = false;
    const guard = setTimeout(() => {
      killed = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      running.delete(child);
      const ms = Date.now() - t0;
      const text = Buffer.concat(out).toString('utf8');
      const count = (k) => Number(new RegExp(`^ℹ ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      const r = { file, ms, ok: code === 0 && !killed, tests: count('tests'), pass: count('pass'), fail: count('fail'),
        skipped: count('skipped'), cancelled: count('cancelled'), todo: count('todo') };
      results.push(r);
      const why = killed ? ` (timed out after ${timeoutMs}ms, killed)` : code !== 0 ? ` (exit ${code ?? signal})` : '';
      process.stdout.write(`\n━━ ${r.ok ? '✔' : '✖'} ${file} ${(ms / 1000).toFixed(1)} s${why}\n${text}`);
      resolve();
    });
  });
}

async function pool(list, width) {
  const queue = [...list];
  const lane = async () => { for (let f = queue.shift(); f; f = queue.shift()) await runFile(f); };
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, lane));
}

const stopAll = (sig) => {
  for (const c of running) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
  process.exit(sig === 'SIGINT' ? 130 : 143);
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

process.stdout.write(`${files.length} test files: ${shared.length} at most ${jobs} at a time, ${exclusive.length} alone (@test-exclusive)\n`);
await pool(exclusive, 1);
await pool(shared, jobs);

const sum = (k) => results.reduce((a, r) => a + r[k], 0);
const failed = results.filter((r) => !r.ok);
const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 10);
const lines = [
  '',
  `tests ${sum('tests')}, pass ${sum('pass')}, fail ${sum('fail')}, cancelled ${sum('cancelled')}, skipped ${sum('skipped')}, todo ${sum('todo')}`,
  `files ${results.length}, failed ${failed.length}; wall ${((Date.now() - started) / 1000).toFixed(1)} s with --jobs=${jobs}`,
  'slowest files:',
  ...slowest.map((r) => `  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.file}${exclusive.includes(r.file) ? '  (alone)' : ''}`),
  ...(failed.length ? ['failed files:', ...failed.map((r) => `  ✖ ${r.file}`)] : []),
];
process.stdout.write(`${lines.join('\n')}\n`);
try { writeFileSync(timesFile, JSON.stringify({ ...previous, ...Object.fromEntries(results.map((r) => [r.file, r.ms])) })); } catch { /* optional */ }
process.exit(failed.length ? 1 : 0);
