/**
 * The test runner (scripts/test.mjs), run on small fixture files outside the normal roots:
 * - a file that failed with a server still open ends within seconds, red, naming what held it
 *   (the exit guard), instead of sitting until the per-file timeout; the same failure with the
 *   server closed in t.after ends by itself; a passing file that leaks a server is red too;
 * - a test that never ends is stopped by the per-file timeout (TEST_TIMEOUT_MS or the flag);
 * - files run side by side, except an `@test-exclusive` one, which runs alone;
 * - the run ends with the totals and the slowest files.
 * A limit on each runner run catches a runner that would hang. The runs go side by side.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join('test', 'fixtures', 'runner');
/** far above what the fixtures need, so only a runner that fails to end a file reaches it */
const FILE_TIMEOUT_MS = 60000;
/** the exit guard's grace, shorter than its default to keep this file quick */
const EXIT_GRACE_MS = 1500;

interface Run { status: number | null; out: string; error: Error | undefined }

function runner(files: string[], o: { flags?: string[]; env?: NodeJS.ProcessEnv; limitMs?: number } = {}): Promise<Run> {
  // NODE_TEST_CONTEXT marks this process as a test file; a runner that inherits it runs nothing
  const env: NodeJS.ProcessEnv = { ...process.env, TEST_TIMEOUT_MS: String(FILE_TIMEOUT_MS), TEST_EXIT_GRACE_MS: String(EXIT_GRACE_MS), ...o.env };
  delete env['NODE_TEST_CONTEXT'];
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['scripts/test.mjs', ...(o.flags ?? []), ...files.map((f) => join(FIXTURES, f))], { cwd: ROOT, env });
    const out: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.stderr.on('data', (d: Buffer) => out.push(d));
    let error: Error | undefined;
    const limit = setTimeout(() => { error = new Error('still running after the limit'); c.kill('SIGKILL'); }, o.limitMs ?? 40000);
    c.on('close', (status) => { clearTimeout(limit); resolve({ status, out: Buffer.concat(out).toString('utf8'), error }); });
  });
}

describe('scripts/test.mjs', { concurrency: true }, () => {
  test('a failing assertion with a fake server left open: the file ends within seconds, red, naming the open server', async () => {
    const r = await runner(['open-server-fails.test.ts']);
    assert.equal(r.error, undefined, `the runner did not end the file: ${r.error?.message}`);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /deliberate failure/);
    assert.match(r.out, new RegExp(`still alive ${EXIT_GRACE_MS} ms later, held by: .*TCPServerWrap`), 'the exit guard names the server');
    assert.doesNotMatch(r.out, /timed out/, 'not the per-file timeout');
  });

  test('the same failure with the server closed in t.after: the file ends by itself, red', async () => {
    const r = await runner(['closed-after-fails.test.ts']);
    assert.equal(r.error, undefined, `the runner hung: ${r.error?.message}`);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /deliberate failure/);
    assert.doesNotMatch(r.out, /timed out|still alive/, 'nothing left open');
  });

  test('every test passes but a server is left open: the file is red', async () => {
    const r = await runner(['leak-passes.test.ts']);
    assert.equal(r.error, undefined, `the runner hung: ${r.error?.message}`);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /✔ passes, the fake server left open/);
    assert.match(r.out, /held by: .*TCPServerWrap/);
  });

  for (const how of ['TEST_TIMEOUT_MS', '--test-timeout'] as const) {
    test(`a test that never ends: the per-file timeout (${how}) kills the file, red`, async () => {
      const r = how === 'TEST_TIMEOUT_MS'
        ? await runner(['hangs.test.ts'], { env: { TEST_TIMEOUT_MS: '3000' } })
        : await runner(['hangs.test.ts'], { flags: ['--test-timeout=3000'] });
      assert.equal(r.error, undefined, `the runner hung: ${r.error?.message}`);
      assert.notEqual(r.status, 0, r.out);
      assert.match(r.out, /hangs\.test\.ts .*timed out after 3000ms/);
    });
  }

  test('files run side by side, an @test-exclusive file alone; the run ends with totals and the slowest files', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-schedule-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, 'log');
    const r = await runner(['concurrent-a.test.ts', 'exclusive.test.ts', 'concurrent-b.test.ts'], { flags: ['--jobs=3'], env: { RUNNER_FIXTURE_LOG: log } });
    assert.equal(r.error, undefined, `the runner hung: ${r.error?.message}`);
    assert.equal(r.status, 0, r.out);
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(lines.slice(0, 2), ['start x', 'end x'], `the exclusive file first, alone: ${lines.join(', ')}`);
    assert.match(r.out, /^tests 3, pass 3, fail 0/m);
    assert.match(r.out, /^files 3, failed 0; wall [\d.]+ s with --jobs=3$/m);
    const slowest = r.out.slice(r.out.indexOf('slowest files:'));
    for (const f of ['concurrent-a', 'concurrent-b', 'exclusive']) assert.match(slowest, new RegExp(`^ +[\\d.]+ s  .*${f}\\.test\\.ts`, 'm'), f);
    assert.match(slowest, /exclusive\.test\.ts {2}\(alone\)/);
  });
});
