/**
 * Regression: every input committed to test/fixtures/fuzz-crashes (copied there from the
 * folder a failing fuzz run names) is replayed through its target's checks. Inputs listed in known-crashes.ts still fail until their
 * module's owner fixes them: they run as `todo` tests (reported, not failing the suite).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CRASH_DIR, NEW_CRASH_DIR } from './harness';
import { KNOWN_CRASHES } from './known-crashes';
import { allTargets, targetForFixture } from './targets/index';

const files = existsSync(CRASH_DIR) ? readdirSync(CRASH_DIR).filter((f) => f.endsWith('.bin')).sort() : [];
const targets = allTargets();

describe('fuzz crash fixtures', () => {
  test('the fixtures folder holds committed inputs, each with a target (an empty folder would replay nothing)', () => {
    assert.ok(files.length >= 1, `no .bin file in ${CRASH_DIR}`);
    for (const f of files) assert.ok(targetForFixture(f, targets), `no fuzz target for ${f}`);
  });
  test('new crash inputs go outside the working tree (a test run never dirties the repository)', (t) => {
    if (process.env['FUZZ_CRASH_DIR']) { t.skip('FUZZ_CRASH_DIR chosen by the user'); return; }
    const rel = relative(join(__dirname, '..', '..'), NEW_CRASH_DIR);
    assert.ok(rel.startsWith('..'), `${NEW_CRASH_DIR} is inside the repository`);
  });
  test('every known crash has its fixture', () => {
    for (const k of KNOWN_CRASHES) assert.ok(files.includes(k.fixture), `missing ${k.fixture}`);
  });
  for (const f of files) {
    const known = KNOWN_CRASHES.find((k) => k.fixture === f);
    test(`replay ${f}`, known ? { todo: `owner fix: ${known.note}` } : {}, () => {
      const t = targetForFixture(f, targets);
      assert.ok(t, `no fuzz target for ${f}`);
      t.replay(readFileSync(join(CRASH_DIR, f)));
    });
  }
});
