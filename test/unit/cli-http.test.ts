/**
 * `rtsp-mjpeg probe` and `grab` with http(s):// URLs: an ESP32-style MJPEG stream
 * (test/peers/esp32-camera.ts), a snapshot URL, and a page that is not a picture.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCliArgs } from '../../src/cli';
import { startEsp32Camera, type Esp32Camera } from '../peers/esp32-camera';
import { decodeJpeg } from '../support/djpeg';

const ROOT = join(__dirname, '..', '..');

function run(args: string[], env: Record<string, string> = {}, timeoutMs = 25000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}

describe('CLI with http(s) URLs', () => {
  let esp: Esp32Camera;
  before(async () => { esp = await startEsp32Camera({ fps: 20, ledDelayMs: 10 }); });
  after(async () => { await esp.close(); });

  test('arguments: http and https URLs accepted, --snapshot-fps checked', () => {
    assert.equal(parseCliArgs(['probe', 'http://cam:81/stream']).url, 'http://cam:81/stream');
    assert.equal(parseCliArgs(['grab', 'https://cam/capture', '--out', 'x', '--snapshot-fps', '5']).snapshotFps, 5);
    assert.throws(() => parseCliArgs(['probe', 'http://cam/x', '--snapshot-fps', '0']), /--snapshot-fps/);
  });

  test('grab http://…/stream --frames 20 --out dir: 20 decodable JPEGs and the stats line', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'grab-http-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const r = await run(['grab', esp.streamUrl, '--frames', '20', '--out', dir]);
    assert.equal(r.code, 0, r.err);
    const files = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort();
    assert.equal(files.length, 20);
    assert.equal(files[0], 'frame-000001.jpg');
    for (const f of files) assert.ok(decodeJpeg(readFileSync(join(dir, f))).ok, f);
    const stats = JSON.parse(r.out.trim().split('\n').pop()!) as Record<string, unknown>;
    assert.equal(stats.transport, 'http-mjpeg');
    assert.equal(stats.framesWritten, 20);
    assert.equal(stats.packetsLost, null);
  });

  test('probe a snapshot URL: kind, size, transport', async () => {
    const r = await run(['probe', esp.captureUrl, '--snapshot-fps', '4']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /kind: snapshot URL/);
    assert.match(r.out, /size: 320x240/);
    assert.match(r.out, /transport: http-snapshot/);
  });

  test('probe the web page: exit 1, not a JPEG source, at once', async () => {
    const r = await run(['probe', esp.web.url('/'), '--timeout', '20']);
    assert.equal(r.code, 1);
    assert.match(r.err, /not a JPEG source: .*HTML page/);
  });
});
