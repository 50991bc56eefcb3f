/** The Node-RED layer's pure helpers: URL credential split, redaction, option parsing,
 * the maxFps gate, the stats payload and the status texts. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { splitUrlCredentials } from '../../src/nodes/lib/url-credentials';
import { parseRtspUrl } from '../../src/rtsp/url';
import { redactText } from '../../src/rtsp/redact';
import { cameraOptionsFromFields } from '../../src/nodes/lib/camera-options';
import { parsePortRange } from '../../src/rtp/port-range';
import { FrameRateGate } from '../../src/nodes/lib/frame-gate';
import { flagField, maxFpsField, numberField, snapshotMaxAgeMs } from '../../src/nodes/lib/fields';
import { statsPayload } from '../../src/nodes/lib/stats-payload';
import { statusForState } from '../../src/nodes/lib/status';
import type { CameraStats } from '../../src/nodes/lib/camera-contract';

const SECRET = 'S3cr3t:p@ss/word%';

describe('splitUrlCredentials', () => {
  test('percent-encoded userinfo is decoded and removed', () => {
    const r = splitUrlCredentials(`rtsp://admin:${encodeURIComponent(SECRET)}@192.168.1.20:554/stream1?x=1`);
    assert.deepEqual(r, { url: 'rtsp://192.168.1.20:554/stream1?x=1', username: 'admin', password: SECRET });
  });
  test('an unencoded password with @ : / % is split at the last @ before host[:port]', () => {
    const r = splitUrlCredentials(`rtsp://admin:${SECRET}@cam.local/live`);
    assert.deepEqual(r, { url: 'rtsp://cam.local/live', username: 'admin', password: SECRET });
  });
  test('user only, IPv6 host, no userinfo, not a URL', () => {
    assert.deepEqual(splitUrlCredentials('rtsps://bob@[::1]:8322/a'), { url: 'rtsps://[::1]:8322/a', username: 'bob' });
    assert.deepEqual(splitUrlCredentials(' rtsp://10.0.0.1/a@b '), { url: 'rtsp://10.0.0.1/a@b' });
    assert.deepEqual(splitUrlCredentials('garbage'), { url: 'garbage' });
  });
  test('splits the same URLs the camera layer parses, the same way (a raw "/" in the password)', () => {
    // The node layer once had its own splitter that accepted this URL while parseRtspUrl
    // returned null for it: one rule now, in rtsp/url.ts.
    for (const url of ['rtsp://admin:pa/ss@10.0.0.5:554/stream1', `rtsp://admin:${SECRET}@cam.local/live`, 'rtsp://u@[::1]:8554/x', 'rtsp://10.0.0.1/a@b']) {
      const split = splitUrlCredentials(url);
      const parsed = parseRtspUrl(url);
      assert.ok(parsed, url);
      assert.equal(split.url, parsed.clean, url);
      assert.equal(split.username ?? null, parsed.username, url);
      assert.equal(split.password ?? null, parsed.password, url);
    }
  });
  test('text leaving a node loses raw and encoded secrets, URL userinfo and Authorization values', () => {
    // The nodes redact with rtsp/redact's redactText; the node layer's own weaker copy
    // (removed) left `Authorization: Basic …` in place.
    const basic = Buffer.from(`admin:${SECRET}`).toString('base64');
    const text = `failed ${SECRET} ${encodeURIComponent(SECRET)} ${encodeURI(SECRET)} rtsp://u:x@h/p\r\nAuthorization: Basic ${basic}\r\nauthorization: Digest username="admin", response="0123abcd"`;
    const out = redactText(text, [SECRET, undefined, '']);
    for (const leak of [SECRET, encodeURIComponent(SECRET), encodeURI(SECRET), 'u:x', basic, '0123abcd']) assert.ok(!out.includes(leak), `${leak} in ${out}`);
  });
  test('redactText: exact output for each form of the password, in a URL and in text', () => {
    for (const f of [SECRET, encodeURIComponent(SECRET), encodeURI(SECRET)]) {
      assert.equal(redactText(`connect rtsp://admin:${f}@10.0.0.9:554/live failed: ${f}.`, [SECRET]),
        'connect rtsp://***@10.0.0.9:554/live failed: ***.', f);
    }
    assert.equal(redactText('rtsp://admin:p@ss@cam/x@y', []), 'rtsp://***@cam/x@y');
  });
});

describe('editor fields (lib/fields: the one reader of number and checkbox fields)', () => {
  test('numberField: numbers and numeric text in range; blank, booleans, junk and out-of-range give the fallback', () => {
    assert.equal(numberField(2.5, 0, 10, 7), 2.5);
    assert.equal(numberField('2.5', 0, 10, 7), 2.5);
    assert.equal(numberField(0, 0, 10, 7), 0);
    assert.equal(numberField(10, 0, 10, 7), 10);
    for (const bad of ['', null, undefined, true, false, 'x', '1e999', NaN, Infinity, -0.1, 10.5, '11']) assert.equal(numberField(bad, 0, 10, 7), 7, String(bad));
    assert.equal(numberField('x', 0, 10, undefined), undefined);
  });
  test('flagField: true/"true", false/"false", else the default', () => {
    assert.equal(flagField(true, false), true);
    assert.equal(flagField('true', false), true);
    assert.equal(flagField(false, true), false);
    assert.equal(flagField('false', true), false);
    for (const other of [undefined, '', 'yes', 1, null]) {
      assert.equal(flagField(other, true), true, String(other));
      assert.equal(flagField(other, false), false, String(other));
    }
  });
  test('maxFps and snapshot age: the same rule in every node that has them', () => {
    assert.equal(maxFpsField('12.5'), 12.5);
    for (const all of ['', undefined, 'x', -1, 5000, true]) assert.equal(maxFpsField(all), 0, String(all));
    assert.equal(snapshotMaxAgeMs('0.5'), 500);
    assert.equal(snapshotMaxAgeMs(0), 0);
    for (const dflt of ['', undefined, -1, 4000, 'x']) assert.equal(snapshotMaxAgeMs(dflt), 2000, String(dflt));
  });
  test('no node parses a number field by itself', async () => {
    // the one exception: mjpeg http out's ?fps= answers a bad value with 400, not a default
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(__dirname, '..', '..', 'src', 'nodes');
    const files = [...readdirSync(root).map((f) => join(root, f)), ...readdirSync(join(root, 'lib')).map((f) => join(root, 'lib', f))]
      .filter((f) => f.endsWith('.ts') && !f.endsWith(join('lib', 'fields.ts')));
    for (const f of files) {
      const uses = readFileSync(f, 'utf8').split('\n').filter((l) => /\b(Number|parseInt|parseFloat)\(/.test(l) && !/fps = Number\(raw\)/.test(l));
      assert.deepEqual(uses, [], f);
    }
  });
});

describe('cameraOptionsFromFields', () => {
  test('editor strings become CameraOptions in ms/bytes; bad values fall back', () => {
    const o = cameraOptionsFromFields({ transport: 'udp', setupAudio: true, reconnectMin: '2', reconnectMax: '1', stallTimeout: 'x', udpPortRange: '', maxFrameMB: 4, width: '800', height: '' }, '50000-50999');
    assert.equal(o.transport, 'udp');
    assert.equal(o.setupAudio, true);
    assert.equal(o.reconnectMinMs, 2000);
    assert.equal(o.reconnectMaxMs, 2000); // max never below min
    assert.equal(o.stallTimeoutMs, undefined);
    assert.deepEqual(o.udpPortRange, [50000, 50999]);
    assert.equal(o.maxFrameBytes, 4 * 1024 * 1024);
    assert.equal(o.width, undefined); // only as a pair
    assert.equal(cameraOptionsFromFields({ transport: 'bogus' }, '').transport, 'tcp');
  });
  test('port ranges: even start, ordered, unprivileged', () => {
    assert.deepEqual(parsePortRange('50000-51999'), [50000, 51999]);
    for (const bad of ['50001-51999', '51999-50000', '80-90', '1-2-3', '']) assert.equal(parsePortRange(bad), null, bad);
  });
  test("the editor's UDP ports check takes exactly the ranges the runtime takes", async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const html = readFileSync(join(__dirname, '..', '..', 'nodes', 'rtsp-camera.html'), 'utf8');
    const m = /udpPortRange:\s*\{[\s\S]*?validate:\s*(function\s*\(v\)\s*\{[\s\S]*?\n\s*\})\s*\n\s*\}/.exec(html);
    assert.ok(m, 'the udpPortRange validate function in nodes/rtsp-camera.html');
    const validate = new Function(`return (${m[1] as string});`)() as (v: string) => boolean;
    for (const text of ['50000-51999', '1024-1025', '65534-65535', '50001-51999', '1022-2000', '0-1', '51999-50000', '50000-50000', '50000-65536', ' 6000 - 6001 ', '6000-', 'x']) {
      assert.equal(validate(text), parsePortRange(text) !== null, text);
    }
  });
});

describe('FrameRateGate (maxFps)', () => {
  const run = (srcFps: number, maxFps: number, n: number, ssrc = 1, start = 0): number[] => {
    const g = new FrameRateGate(maxFps);
    const kept: number[] = [];
    for (let i = 0; i < n; i++) {
      const ts = (start + Math.round((i * 90000) / srcFps)) >>> 0;
      if (g.admit({ rtpTimestamp: ts, ssrc, receivedAt: 0 })) kept.push(i);
    }
    return kept;
  };
  test('25 → 10 fps keeps 2 of every 5 frames, spaced 2-3 apart', () => {
    const kept = run(25, 10, 100);
    assert.equal(kept.length, 40);
    const gaps = kept.slice(1).map((v, i) => v - (kept[i] as number));
    assert.ok(gaps.every((g) => g === 2 || g === 3), gaps.join(','));
  });
  test('30 → 10 keeps exactly every third; 30 → 30 and 0 keep all', () => {
    assert.deepEqual(run(30, 10, 30), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    assert.equal(run(30, 30, 90).length, 90);
    assert.equal(run(30, 0, 90).length, 90);
  });
  test('timestamp wrap-around keeps the grid; a new SSRC restarts it', () => {
    assert.deepEqual(run(30, 10, 12, 1, 0xffffffff - 9000), [0, 3, 6, 9]);
    const g = new FrameRateGate(1);
    assert.equal(g.admit({ rtpTimestamp: 0, ssrc: 1, receivedAt: 0 }), true);
    assert.equal(g.admit({ rtpTimestamp: 3000, ssrc: 1, receivedAt: 0 }), false);
    assert.equal(g.admit({ rtpTimestamp: 6000, ssrc: 2, receivedAt: 0 }), true);
  });
});

describe('statsPayload', () => {
  const base: CameraStats = {
    ssrc: 7, packetsReceived: 100, packetsExpected: 101, packetsLost: 1, fractionLost: 0.01, jitterMs: 1.23456,
    framesEmitted: 50, framesDropped: 2, fps: 9, bitrateKbps: 1, senderReport: null, transport: 'tcp', state: 'playing',
    bytesReceived: 125000, width: 320, height: 240, framesDroppedDownstream: 1,
  };
  test('fps and bitrate over the caller interval, exactly the contract keys (+ downstream drops)', () => {
    const { payload, sample } = statsPayload(base, { t: 0, frames: 0, bytes: 0 }, 5000);
    assert.deepEqual(Object.keys(payload).sort(), ['bitrateKbps', 'bytesReceived', 'fps', 'fractionLost', 'framesDropped', 'framesDroppedDownstream', 'framesEmitted', 'jitterMs', 'packetsExpected', 'packetsLost', 'packetsReceived', 'senderReport', 'ssrc', 'state', 'transport', 'width', 'height'].sort());
    assert.equal(payload.fps, 10);
    assert.equal(payload.bitrateKbps, 200);
    assert.equal(payload.jitterMs, 1.235);
    assert.deepEqual(sample, { t: 5000, frames: 50, bytes: 125000 });
  });
  test('counters that restarted (new session) count from zero', () => {
    const { payload } = statsPayload(base, { t: 0, frames: 500, bytes: 9e9 }, 1000);
    assert.equal(payload.fps, 50);
  });
});

describe('status texts', () => {
  test('short, coloured by state, no secrets possible (built from reason and numbers only)', () => {
    assert.deepEqual(statusForState({ state: 'connecting' }, null), { fill: 'yellow', shape: 'ring', text: 'connecting' });
    assert.deepEqual(statusForState({ state: 'reconnecting', retryInMs: 4000 }, null), { fill: 'yellow', shape: 'ring', text: 'reconnecting in 4 s' });
    assert.deepEqual(statusForState({ state: 'reconnecting', reason: 'timeout', retryInMs: 4000 }, null), { fill: 'red', shape: 'ring', text: 'timeout, retry in 4 s' });
    // a failure that retrying cannot cure says what to change
    assert.deepEqual(statusForState({ state: 'reconnecting', reason: 'auth failed', retryInMs: 15000 }, null),
      { fill: 'red', shape: 'ring', text: 'auth failed: check the user name and password, retry in 15 s' });
    assert.deepEqual(statusForState({ state: 'reconnecting', reason: 'unsupported codec', retryInMs: 240_000 }, null),
      { fill: 'red', shape: 'ring', text: 'unsupported codec: enable a Motion-JPEG stream on the camera, retry in 4 min' });
    // one fps format, whatever the rate
    const stats = (fps: number, framesEmitted = 3): CameraStats => ({ ...({} as CameraStats), framesEmitted, fps, width: 1280, height: 720 });
    assert.deepEqual(statusForState({ state: 'playing' }, stats(12.46)), { fill: 'green', shape: 'dot', text: '12.5 fps 1280×720' });
    assert.deepEqual(statusForState({ state: 'playing' }, stats(9.96)), { fill: 'green', shape: 'dot', text: '10.0 fps 1280×720' });
    assert.deepEqual(statusForState({ state: 'playing' }, stats(5)), { fill: 'green', shape: 'dot', text: '5.0 fps 1280×720' });
    // until the first frame of this connection: waiting, never a green "0.0 fps"
    const waiting = { fill: 'green', shape: 'ring', text: 'connected, waiting for frames' };
    assert.deepEqual(statusForState({ state: 'playing' }, null), waiting);
    assert.deepEqual(statusForState({ state: 'playing' }, stats(0, 120)), waiting);
    assert.deepEqual(statusForState({ state: 'playing' }, stats(10, 120), 120), waiting, 'frames of the previous connection do not count');
    assert.deepEqual(statusForState({ state: 'closed', reason: 'not found' }, null), { fill: 'red', shape: 'ring', text: 'not found: check the path in the URL' });
  });
});
