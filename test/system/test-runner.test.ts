/**
 * The test runner (scripts/test.mjs) goes red instead of hanging. It is run on two small
 * fixture files outside the normal roots, each failing an assertion in a test that opens a
 * fake RTSP server: one leaves the server open (only the runner's timeout can end that file),
 * one closes it in t.after as the suites do (the file ends by itself). Both must exit
 * non-zero; spawnSync's own limit catches a runner that would hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join('test', 'fixtures', 'runner');
/** the timeout given to the runner here: short, the fixtures fail at once */
const RUNNER_TIMEOUT_MS = 5000;

/** `how`: the timeout through the runner's default (TEST_TIMEOUT_MS) or passed as a flag */
function runFixture(file: string, how: 'default' | 'flag'): { status: number | null; out: string; error: Error | undefined } {
  const args = how === 'flag' ? [`--test-timeout=${RUNNER_TIMEOUT_MS}`] : [];
  // NODE_TEST_CONTEXT marks this process as a test file; a runner that inherits it runs nothing
  const env: NodeJS.ProcessEnv = { ...process.env, TEST_TIMEOUT_MS: how === 'default' ? String(RUNNER_TIMEOUT_MS) : '' };
  delete env['NODE_TEST_CONTEXT'];
  const r = spawnSync(process.execPath, ['scripts/test.mjs', ...args, join(FIXTURES, file)], {
    cwd: ROOT, encoding: 'utf8', timeout: 60000, killSignal: 'SIGKILL',
    env,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, error: r.error };
}

test('a failing assertion with a fake server left open: the runner times the file out and exits non-zero', () => {
  const r = runFixture('open-server-fails.test.ts', 'default');
  assert.equal(r.error, undefined, `the runner hung: ${r.error?.message}`);
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /deliberate failure/);
  assert.match(r.out, new RegExp(`timed out after ${RUNNER_TIMEOUT_MS}ms`), 'ended by the per-file timeout');
});

test('the same failure with the server closed in t.after: the file ends by itself, red', () => {
  const r = runFixture('closed-after-fails.test.ts', 'flag');
  assert.equal(r.error, undefined, `the runner hung: ${r.error?.message}`);
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /deliberate failure/);
  assert.doesNotMatch(r.out, /timed out/, 'no timeout needed');
});
