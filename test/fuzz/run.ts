/**
 * Long fuzz run (`npm run fuzz`): every target for --cases N cases (default 150000, so the
 * 9 targets run ≥ 1,000,000 cases in total), from --seed S (default: time-based, printed, so
 * a failing run can be repeated), optionally --only name[,name]. Prints cases/s and peak
 * memory per target and a total; exits 1 on the first failure (input saved to the temp folder
 * the message names, or FUZZ_CRASH_DIR; copy it into test/fixtures/fuzz-crashes to keep it).
 *
 *   node --import tsx test/fuzz/run.ts --cases 200000 --seed 12345 --only rtsp-reader
 */
import { formatResult, runFuzz, type FuzzResult } from './harness';
import { allTargets } from './targets/index';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

const cases = Number(arg('cases') ?? 150_000);
const seed = Number(arg('seed') ?? (Date.now() & 0x7fffffff));
const only = arg('only')?.split(',');
if (!Number.isSafeInteger(cases) || cases < 1 || !Number.isFinite(seed)) {
  console.error('usage: run.ts [--cases N] [--seed S] [--only target[,target]]');
  process.exit(2);
}

const targets = allTargets().filter((t) => !only || only.includes(t.name));
console.log(`fuzz: ${targets.length} targets × ${cases} cases, seed ${seed}`);
const results: FuzzResult[] = [];
const t0 = performance.now();
try {
  for (const t of targets) {
    const r = runFuzz(t, cases, seed);
    results.push(r);
    console.log(formatResult(r));
  }
} catch (err) {
  console.error(err instanceof Error ? err.stack : err);
  console.error(`fuzz: FAILED (seed ${seed}); rerun with --seed ${seed} --cases ${cases}`);
  process.exit(1);
}
const total = results.reduce((s, r) => s + r.cases, 0);
const secs = (performance.now() - t0) / 1000;
console.log(`fuzz: ${total} cases in ${secs.toFixed(1)} s (${Math.round(total / secs)} cases/s overall), seed ${seed}, no failures`);
