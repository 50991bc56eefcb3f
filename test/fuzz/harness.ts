/**
 * Bulk fuzz loop shared by the CI fuzz tests and the long runner (test/fuzz/run.ts).
 *
 * A target runs `cases` steps from one seed. Any exception out of a step — the module under
 * test throwing, or an invariant check failing — stops the run, saves the input that
 * reproduces it to <target>-<hash>.bin in NEW_CRASH_DIR (a temp folder, so a test run never
 * writes into the repository), prints it as hex and rethrows with the file name. Copied into
 * test/fixtures/fuzz-crashes/, it is replayed by crash-fixtures.test.ts from then on. The heap is sampled during the run and must stay under
 * HEAP_BOUND_MB (V8 heap) and ARRAY_BUFFER_BOUND_MB (Buffer memory outside the V8 heap).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from './mutator';
import { KNOWN_CRASHES } from './known-crashes';

/** Stated bound: process.memoryUsage().heapUsed during any fuzz run. */
export const HEAP_BOUND_MB = 200;
/** Stated bound: process.memoryUsage().arrayBuffers (Buffers live outside the V8 heap). */
export const ARRAY_BUFFER_BOUND_MB = 256;

/** Committed reproducers, replayed by crash-fixtures.test.ts. */
export const CRASH_DIR = join(__dirname, '..', 'fixtures', 'fuzz-crashes');
/** Where a run saves new reproducers (FUZZ_CRASH_DIR overrides): outside the working tree. */
export const NEW_CRASH_DIR = process.env.FUZZ_CRASH_DIR ?? join(tmpdir(), 'rtsp-mjpeg-fuzz-crashes');

/** Cases per parser in CI (`npm test`); FUZZ_CASES overrides. */
export const CI_CASES = Number(process.env.FUZZ_CASES ?? 100_000);
/** Base seed; FUZZ_SEED overrides (decimal or 0x hex). */
export const CI_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2435);

/** One fuzz session: state for a run (corpus, parser instances, the case being run). */
export interface FuzzSession {
  /** run one case; throw on an invariant violation */
  step(rng: Rng, index: number): void;
  /** bytes that reproduce the case that just failed (one input, or a recorded sequence) */
  reproducer(): Buffer;
  /** what the run exercised (frames emitted, messages parsed…), for the report */
  summary?(): string;
}

export interface FuzzTarget {
  /** file-name prefix of its crash fixtures, e.g. "rtp-header" */
  name: string;
  /** what one case is, for the report */
  unit: string;
  start(): FuzzSession;
  /** replays a saved reproducer; throws like a failing step would */
  replay(input: Buffer): void;
}

export interface FuzzResult {
  target: string;
  cases: number;
  ms: number;
  casesPerSec: number;
  peakHeapMB: number;
  peakArrayBuffersMB: number;
  /** known (already reported) crashes hit and skipped */
  knownCrashes: number;
  summary: string;
}

/** Name + sha1 prefix of the input: stable, so re-finding a crash does not add a new file. */
export function saveCrash(target: string, input: Buffer): string {
  mkdirSync(NEW_CRASH_DIR, { recursive: true });
  const hash = createHash('sha1').update(input).digest('hex').slice(0, 12);
  const file = join(NEW_CRASH_DIR, `${target}-${hash}.bin`);
  writeFileSync(file, input);
  return file;
}

/** A short signature for matching an error against KNOWN_CRASHES: message + first src/ frame. */
export function errorSignature(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const frame = (e.stack ?? '').split('\n').find((l) => l.includes('/src/')) ?? '';
  const where = /\/src\/([^:)]+)/.exec(frame)?.[1] ?? '?';
  return `${e.name}: ${e.message.split('\n')[0]} @ ${where}`;
}

function isKnown(target: string, err: unknown): boolean {
  const sig = errorSignature(err);
  return KNOWN_CRASHES.some((k) => k.target === target && sig.includes(k.signature));
}

const MB = 1024 * 1024;

export function runFuzz(target: FuzzTarget, cases: number, seed: number): FuzzResult {
  const rng = new Rng(seed ^ hashName(target.name));
  const session = target.start();
  let peakHeap = 0;
  let peakAb = 0;
  let known = 0;
  const t0 = performance.now();
  for (let i = 0; i < cases; i++) {
    try {
      session.step(rng, i);
    } catch (err) {
      if (isKnown(target.name, err)) { known++; continue; }
      const input = session.reproducer();
      const file = saveCrash(target.name, input);
      const hex = input.length > 4096 ? `${input.subarray(0, 4096).toString('hex')}… (${input.length} bytes)` : input.toString('hex');
      console.error(`[fuzz] ${target.name}: case ${i} (seed ${seed}) failed; input saved to ${file}\n${hex}`);
      const e = err instanceof Error ? err : new Error(String(err));
      e.message = `${target.name} case ${i} seed ${seed}: ${e.message} (input saved to ${file}; copy it into test/fixtures/fuzz-crashes/ to replay it as a regression test)`;
      throw e;
    }
    if ((i & 2047) === 0) {
      const m = process.memoryUsage();
      if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
      if (m.arrayBuffers > peakAb) peakAb = m.arrayBuffers;
      if (m.heapUsed > HEAP_BOUND_MB * MB || m.arrayBuffers > ARRAY_BUFFER_BOUND_MB * MB) {
        const file = saveCrash(`${target.name}-heap`, session.reproducer());
        throw new Error(`${target.name}: memory bound exceeded at case ${i}: heapUsed ${(m.heapUsed / MB).toFixed(0)} MB (bound ${HEAP_BOUND_MB}), arrayBuffers ${(m.arrayBuffers / MB).toFixed(0)} MB (bound ${ARRAY_BUFFER_BOUND_MB}); last input ${file}`);
      }
    }
  }
  const ms = performance.now() - t0;
  return {
    target: target.name, cases, ms, casesPerSec: Math.round(cases / (ms / 1000)),
    peakHeapMB: Math.round(peakHeap / MB), peakArrayBuffersMB: Math.round(peakAb / MB), knownCrashes: known,
    summary: session.summary?.() ?? '',
  };
}

export function formatResult(r: FuzzResult): string {
  return `[fuzz] ${r.target}: ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s = ${r.casesPerSec} cases/s; ` +
    `peak heapUsed ${r.peakHeapMB} MB (bound ${HEAP_BOUND_MB}), arrayBuffers ${r.peakArrayBuffersMB} MB (bound ${ARRAY_BUFFER_BOUND_MB})` +
    (r.knownCrashes ? `; ${r.knownCrashes} known crashes skipped` : '') + (r.summary ? `; ${r.summary}` : '');
}

function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Runs `fn`, turning any exception into an AssertionError-like failure naming the module call. */
export function noThrow<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `exception escaped ${what}: ${e.message}`;
    throw e;
  }
}
