/**
 * `npx rtsp-mjpeg …` inside a clone: npx links the folder and runs its `prepare`, which used
 * to delete and rebuild dist/ (under a Node-RED running from that folder). `prepare` now builds
 * only when dist/ is stale. Run in a copy of the sources with a fresh npm cache, as on a
 * first `npx` in a new clone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}

let dir = '';
const stamp = (): string => { const s = statSync(join(dir, 'dist', 'cli.js')); return `${s.ino}:${s.mtimeMs}`; };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-clone-'));
  for (const p of ['src', 'icons', 'tsconfig.json', 'package.json', 'scripts/build.mjs', 'scripts/build-if-stale.mjs']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  // the build this tree already has (with its input stamp), so the test builds only when it is stale
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'nodes'), join(dir, 'nodes'), { recursive: true, filter: (src) => !src.endsWith('.html') });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('npx rtsp-mjpeg in a built clone runs the CLI without rebuilding dist/', { timeout: 200_000 }, async () => {
  const first = await run(process.execPath, ['scripts/build-if-stale.mjs'], dir);
  assert.equal(first.code, 0, first.out);
  const built = stamp();
  const again = await run(process.execPath, ['scripts/build-if-stale.mjs'], dir);
  assert.match(again.out, /dist\/ is current: no build needed/);
  assert.equal(stamp(), built, 'a second prepare leaves dist/ alone');

  const cache = join(dir, '.npm-cache');
  const npx = await run('npx', ['--offline', 'rtsp-mjpeg', '--help'], dir, { npm_config_cache: cache, npm_config_update_notifier: 'false' });
  assert.equal(npx.code, 0, npx.out);
  assert.match(npx.out, /usage: rtsp-mjpeg <command>/);
  assert.equal(stamp(), built, 'npx left dist/cli.js as it was (same file, same time)');
});

test('a changed source makes dist/ stale again', { timeout: 60_000 }, async () => {
  assert.equal((await run(process.execPath, ['scripts/build-if-stale.mjs', '--check'], dir)).code, 0);
  const f = join(dir, 'src', 'errors.ts');
  writeFileSync(f, `${readFileSync(f, 'utf8')}\n// changed\n`);
  const check = await run(process.execPath, ['scripts/build-if-stale.mjs', '--check'], dir);
  assert.equal(check.code, 1);
  assert.match(check.out, /stale/);
});
