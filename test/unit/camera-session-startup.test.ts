import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { MediaTrack } from '../../src/camera/media-track';
import { InterleavedTransport } from '../../src/transport/interleaved';

const ROOT = join(__dirname, '..', '..');

/** Requires src/index.ts in a fresh process; returns what that require added (modules, files). */
function loadedByIndex(): { builtins: string[]; files: string[]; asked: string[] } {
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    const asked = [];
    // tsx itself has loaded node:crypto already: record what our files ask for instead.
    Module._load = function (request, parent, isMain) {
      if (parent && parent.filename && parent.filename.includes(${JSON.stringify(join(ROOT, 'src'))})) asked.push(request.replace(/^node:/, ''));
      return load.apply(this, arguments);
    };
    const before = new Set(process.moduleLoadList);
    const cacheBefore = new Set(Object.keys(require.cache));
    const lib = require(${JSON.stringify(join(ROOT, 'src', 'index.ts'))});
    if (typeof lib.openCamera !== 'function' || typeof lib.startDemoCamera !== 'function') throw new Error('exports missing');
    process.stdout.write(JSON.stringify({
      builtins: process.moduleLoadList.filter((m) => !before.has(m)),
      asked,
      files: Object.keys(require.cache).filter((f) => !cacheBefore.has(f)),
    }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30000 });
  return JSON.parse(out) as { builtins: string[]; files: string[]; asked: string[] };
}

describe('library start-up (start-up CPU counts in every process)', () => {
  test('require() loads neither the demo camera, nor auth/crypto, nor tls, nor perf_hooks', () => {
    const { builtins, files, asked } = loadedByIndex();
    assert.ok(asked.includes('net'), 'the hook sees our requires');
    for (const m of ['crypto', 'tls', 'perf_hooks']) assert.ok(!asked.includes(m), `src/ does not require ${m} at load time`);
    assert.ok(files.some((f) => f.endsWith(join('camera', 'session.ts'))), 'the camera layer is loaded');
    assert.deepEqual(files.filter((f) => f.includes(`${join('src', 'sim')}`)), [], 'no demo camera modules');
    assert.deepEqual(files.filter((f) => f.endsWith(join('rtsp', 'auth.ts'))), [], 'auth loads at the first 401');
    for (const m of ['NativeModule crypto', 'NativeModule tls', 'NativeModule perf_hooks']) {
      assert.ok(!builtins.includes(m), `${m} is not loaded by require()`);
    }
  });

  test('startDemoCamera still works through the lazy export', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require('../../src/index') as typeof import('../../src/index');
    const cam = await lib.startDemoCamera({ port: 0 });
    try {
      assert.match(cam.url, /^rtsp:\/\/127\.0\.0\.1:\d+\//);
    } finally {
      await cam.close();
    }
  });
});

function rtp(seq: number, ts: number, marker: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80; h[1] = (marker ? 0x80 : 0) | 26;
  h.writeUInt16BE(seq, 2); h.writeUInt32BE(ts, 4); h.writeUInt32BE(0x1234, 8);
  return Buffer.concat([h, payload]);
}

describe('arrival time: one clock read per socket read', () => {
  const info = { kind: 'video' as const, encoding: 'JPEG', payloadType: 26, clockRate: 90000, control: 'x', width: 0, height: 0 };

  test('MediaTrack uses the arrival time it is given and reads its clock only without one', () => {
    let clockReads = 0;
    const track = new MediaTrack({ info, video: false, ssrc: 1, cname: 'c', now: () => { clockReads++; return 1000; } });
    assert.equal(track.lastRtpAt, null);
    track.onRtp(rtp(1, 0, false, Buffer.alloc(4)), 42.5);
    track.onRtp(rtp(2, 0, false, Buffer.alloc(4)), 43.25);
    assert.equal(clockReads, 0, 'no clock read per packet when the transport gives the time');
    assert.equal(track.lastRtpAt, 43.25);
    track.onRtp(rtp(3, 0, false, Buffer.alloc(4)));
    assert.equal(clockReads, 1);
    assert.equal(track.lastRtpAt, 1000);
    track.close();
  });

  test('interleaved dispatch hands each frame the arrival time of its read; RTCP goes out through the send function', () => {
    const sent: [number, number][] = [];
    const it = new InterleavedTransport((ch, p) => sent.push([ch, p.length]));
    const got: [string, ...(number | undefined)[]][] = [];
    it.bind(0, 1, { onRtp: (_p, at, start, end) => got.push(['rtp', at, start, end]), onRtcp: (p) => got.push(['rtcp', p.length]) });
    it.enabled = true;
    const read = Buffer.alloc(64);
    it.dispatch(0, read, 4, 16, 7.5);
    it.dispatch(0, read, 20, 32, 9.25);
    it.dispatch(1, read, 36, 44, 9.25);
    // RTP goes on as bounds in the read (no subarray per packet); RTCP as its own Buffer
    assert.deepEqual(got, [['rtp', 7.5, 4, 16], ['rtp', 9.25, 20, 32], ['rtcp', 8]]);
    it.rtcpSender(1)(Buffer.alloc(12));
    assert.deepEqual(sent, [[1, 12]]);
  });
});
