/**
 * `grab` and `probe` keep trying through transient failures until --timeout, like the nodes,
 * and stop at once on a permanent one; exit codes and the final JSON line of grab say which.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { startFakeServer, tcpCamera, framesOf, mjpegSdp } from '../support/fake-rtsp-server';
import { closeAfter } from '../support/cleanup';

const ROOT = join(__dirname, '..', '..');
const VEC = join(__dirname, '..', 'fixtures', 'vectors', 'gst-tcp-320x240.pcap');
const FRAMES = framesOf(vectorPackets(VEC).rtp.map((x) => x.packet)).slice(0, 10);

/** Runs the CLI; killed (code null) after killMs, so a CLI that waits out a long --timeout shows. */
function run(args: string[], killMs = 20000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT });
    let out = ''; let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), killMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}

interface GrabLine { state: string; reason: string | null; framesWritten: number }

describe('CLI: transient vs permanent failures', () => {
  test('grab: 503 five times in a row (beyond the quick retries) → keeps trying, gets its frames, exit 0', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    let busy = 5;
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE' && busy > 0) { busy--; conn.reply(req, 503, { 'Retry-After': '0' }); return true; }
        return false;
      },
    }));
    const dir = mkdtempSync(join(tmpdir(), 'grab-retry-'));
    try {
      const r = await run(['grab', server.url(), '--frames', '2', '--out', dir, '--timeout', '15']);
      assert.equal(r.code, 0, r.err);
      const line = JSON.parse(r.out.trim()) as GrabLine;
      assert.equal(line.state, 'closed');
      assert.equal(line.reason, null);
      assert.equal(readdirSync(dir).length, 2);
      assert.equal(server.requests.filter((q) => q.method === 'DESCRIBE').length, 6);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('grab: 503 until the timeout → exit 1, JSON says failed with server busy, stderr has the status line', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE') { conn.reply(req, 503); return true; }
        return false;
      },
    }));
    const dir = mkdtempSync(join(tmpdir(), 'grab-busy-'));
    try {
      const r = await run(['grab', server.url(), '--frames', '1', '--out', dir, '--timeout', '3']);
      assert.equal(r.code, 1);
      const line = JSON.parse(r.out.trim()) as GrabLine;
      assert.equal(line.state, 'failed');
      assert.equal(line.reason, 'server busy');
      assert.equal(line.framesWritten, 0);
      assert.match(r.err, /^error: server busy: DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/cam: 503 Service Unavailable \(still failing after 3 s; 0 of 1 frames within 3 s\)/);
      assert.ok(server.requests.filter((q) => q.method === 'DESCRIBE').length > 4, 'kept trying after the quick retries');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('probe: 500 on DESCRIBE twice, then the camera answers → exit 0', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    let failing = 2;
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE' && failing > 0) { failing--; conn.reply(req, 500); return true; }
        return false;
      },
    }));
    const r = await run(['probe', server.url(), '--timeout', '10']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^transport: tcp$/m);
  });

  for (const [what, status, reason] of [['not found', 404, 'not found'], ['auth failed', 401, 'auth failed']] as const) {
    test(`probe: ${what} is permanent → exit 1 at once (long --timeout not waited out), one DESCRIBE`, async (t) => {
      const server = closeAfter(t, await startFakeServer());
      server.setHandler(tcpCamera(server, {
        frames: FRAMES,
        before: (req, conn) => {
          if (req.method === 'DESCRIBE') { conn.reply(req, status); return true; }
          return false;
        },
      }));
      const r = await run(['probe', server.url(), '--timeout', '60']);
      assert.equal(r.code, 1, `exit code (null: still waiting when killed) ${r.err}`);
      assert.match(r.err, new RegExp(`^error: ${reason}: `));
      assert.equal(server.requests.filter((q) => q.method === 'DESCRIBE').length, 1);
    });
  }

  test('grab: unsupported codec is permanent → exit 1 at once with the reason', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    const h264 = mjpegSdp().replace('m=video 0 RTP/AVP 26', 'm=video 0 RTP/AVP 96').replace('a=rtpmap:26 JPEG/90000', 'a=rtpmap:96 H264/90000');
    server.setHandler(tcpCamera(server, { frames: FRAMES, sdp: h264 }));
    const dir = mkdtempSync(join(tmpdir(), 'grab-codec-'));
    try {
      const r = await run(['grab', server.url(), '--frames', '1', '--out', dir, '--timeout', '60']);
      assert.equal(r.code, 1, r.err);
      const line = JSON.parse(r.out.trim()) as GrabLine;
      assert.equal(line.state, 'failed');
      assert.equal(line.reason, 'unsupported codec');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
