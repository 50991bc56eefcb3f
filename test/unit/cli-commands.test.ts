import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { parseCliArgs } from '../../src/cli';
import { freeTcpPort } from '../support/peers';

const ROOT = join(__dirname, '..', '..');

function run(args: string[], env: Record<string, string> = {}, timeoutMs = 25000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = ''; let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}

describe('CLI argument parsing', () => {
  test('options and errors', () => {
    const a = parseCliArgs(['grab', 'rtsp://h/x', '--frames', '3', '--out=/tmp/x', '--transport', 'auto', '--timeout', '5']);
    assert.equal(a.frames, 3); assert.equal(a.out, '/tmp/x'); assert.equal(a.transport, 'auto'); assert.equal(a.timeoutSec, 5);
    assert.throws(() => parseCliArgs(['probe', 'rtsp://h/x', '--transport', 'quic']), /--transport/);
    assert.throws(() => parseCliArgs(['probe', 'rtsp://h/x', '--password', 'x']), /RTSP_PASSWORD/);
    assert.throws(() => parseCliArgs(['grab', 'rtsp://h/x']), /--out/);
    assert.throws(() => parseCliArgs(['probe', 'ftp://h/x']), /invalid url/);
  });
});

describe('CLI against the demo camera', () => {
  let cam: DemoCamera;
  let authCam: DemoCamera;
  before(async () => {
    cam = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 });
    authCam = await startDemoCamera({ port: 0, width: 160, height: 120, auth: 'digest', username: 'admin', password: 'p@ss:/%#w' });
  });
  after(async () => { await cam.close(); await authCam.close(); });

  test('probe prints tracks, codec, size, fps, transport', async () => {
    const r = await run(['probe', cam.url, '--transport', 'auto']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /track: video JPEG\/90000/);
    assert.match(r.out, /size: 160x120/);
    assert.match(r.out, /fps: \d/);
    assert.match(r.out, /transport: udp/);
  });

  test('grab writes N frames and one JSON stats line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grab-'));
    try {
      const r = await run(['grab', cam.url, '--frames', '3', '--out', dir]);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(readdirSync(dir).sort(), ['frame-000001.jpg', 'frame-000002.jpg', 'frame-000003.jpg']);
      const jpg = readFileSync(join(dir, 'frame-000001.jpg'));
      assert.equal(jpg.readUInt16BE(0), 0xffd8);
      const lines = r.out.trim().split('\n');
      assert.equal(lines.length, 1);
      const stats = JSON.parse(lines[0]!) as { framesEmitted: number; transport: string; width: number; state: string; reason: unknown };
      assert.ok(stats.framesEmitted >= 3);
      assert.equal(stats.state, 'closed');
      assert.equal(stats.reason, null);
      assert.equal(stats.transport, 'tcp');
      assert.equal(stats.width, 160);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('grab against nothing: retried until --timeout, then the final JSON line says failed with the last reason, not reconnecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grab-'));
    try {
      const port = await freeTcpPort();
      const r = await run(['grab', `rtsp://127.0.0.1:${port}/nothing`, '--frames', '1', '--out', dir, '--timeout', '2']);
      assert.equal(r.code, 1);
      const stats = JSON.parse(r.out.trim()) as { state: string; reason: string | null; framesWritten: number };
      assert.equal(stats.state, 'failed');
      assert.equal(stats.reason, 'connection refused');
      assert.equal(stats.framesWritten, 0);
      assert.match(r.err, /^error: connection refused: cannot connect to 127\.0\.0\.1:\d+/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('wrong password → non-zero with "auth failed", password never printed', async () => {
    const u = new URL(authCam.url);
    const url = `rtsp://admin:${encodeURIComponent('wrong@pw')}@${u.host}${u.pathname}`;
    const r = await run(['probe', url, '--timeout', '5']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /auth failed/);
    assert.ok(!(r.out + r.err).includes('wrong@pw') && !(r.out + r.err).includes(encodeURIComponent('wrong@pw')));
  });

  test('password from RTSP_PASSWORD works and is not printed', async () => {
    const r = await run(['probe', authCam.url, '--username', 'admin'], { RTSP_PASSWORD: 'p@ss:/%#w' });
    assert.equal(r.code, 0, r.err);
    assert.ok(!(r.out + r.err).includes('p@ss'));
  });

  test('not found → non-zero with the reason', async () => {
    const u = new URL(cam.url);
    const r = await run(['probe', `rtsp://${u.host}/nothing-here`, '--timeout', '5']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /not found/);
  });

  test('--help', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /rtsp-mjpeg grab <url> --frames N --out DIR/);
  });
});
