/**
 * The bulk case every `*.fuzz.test.ts` starts with: CI_CASES mutation steps of one target from
 * the CI seed (harness.ts), its figures printed, every case run. Kept apart from harness.ts,
 * which the long runner (run.ts) imports without node:test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CI_CASES, CI_SEED, formatResult, runFuzz, type FuzzTarget } from './harness';

/** Registers `bulk: <CI_CASES> <what>` running `target`. */
export function bulkTest(target: () => FuzzTarget, what: string): void {
  test(`bulk: ${CI_CASES} ${what}`, () => {
    const r = runFuzz(target(), CI_CASES, CI_SEED);
    console.log(formatResult(r));
    assert.equal(r.cases, CI_CASES);
  });
}
