/**
 * Our snapshot poller against an emulated Hikvision-style ISAPI picture URL with Digest
 * (test/peers/hikvision-isapi.ts): the poll rate and the rule "one request in flight, the
 * next timed from the previous start", one kept connection (and a new one when the device
 * closes it after `max` requests), nonces that go stale, and 503 with Retry-After.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openCamera } from '../../src/camera/open';
import type { CameraSession } from '../../src/camera/session';
import type { CameraOptions } from '../../src/camera/types';
import { Recorder, until } from '../reliability/support';
import { skipUnlessPeer } from '../support/peers';
import { startHikvisionCamera, HIKVISION_PICTURE, type HikvisionOptions } from '../peers/hikvision-isapi';
import type { TestContext } from 'node:test';

const AUTH = { username: 'admin', password: 'Hik12345!' };
const FAST: CameraOptions = { reconnectMinMs: 200, reconnectMaxMs: 1000, requestTimeoutMs: 2000, statsIntervalMs: 250, ...AUTH };

async function setup(t: TestContext, dev: Partial<HikvisionOptions>, o: CameraOptions): Promise<{ s: CameraSession; r: Recorder; cam: Awaited<ReturnType<typeof startHikvisionCamera>> }> {
  const cam = await startHikvisionCamera({ ...AUTH, ...dev });
  t.after(() => cam.close());
  const s = openCamera(cam.url(HIKVISION_PICTURE), { ...FAST, ...o });
  const r = new Recorder(s);
  t.after(() => s.close());
  return { s, r, cam };
}

const gaps = (times: number[]): number[] => times.slice(1).map((x, i) => x - times[i]!);

describe('Hikvision-style ISAPI picture URL (emulated)', () => {
  test('Digest, polled at 4 fps over one kept connection; every picture decodes', async (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const { s, r, cam } = await setup(t, {}, { snapshotFps: 4 });
    await until(() => r.frames.length >= 10, '10 pictures', 10000);
    assert.deepEqual(r.badFrames, []);
    assert.equal(s.state, 'playing');
    const st = s.getStats();
    assert.equal(st.transport, 'http-snapshot');
    assert.deepEqual([st.width, st.height, st.packetsLost, st.ssrc], [320, 240, null, null]);
    assert.equal(cam.connections(), 1, 'the 401 and every picture on one persistent connection');
    assert.equal(cam.challenges(), 1, 'one challenge; later requests answer it in advance');
    // the next request is timed from the previous one's START, so never sooner than 250 ms
    // (the first poll's start was its unanswered request, before the 401: skip that gap);
    // lower bounds only: a loaded machine may make polls later, never earlier
    const g = gaps(cam.pictureTimes).slice(1);
    assert.ok(Math.min(...g) > 200, `gaps ${g.map((x) => x.toFixed(0)).join(' ')}`);
  });

  test('the device closes the connection every 3 requests (Keep-Alive max): polling goes on, no error', async (t) => {
    const { r, cam } = await setup(t, { maxRequests: 3 }, { snapshotFps: 8 });
    await until(() => r.frames.length >= 12, '12 pictures', 10000);
    assert.deepEqual(r.errors.map((e) => e.err.message), []);
    assert.ok(cam.connections() >= 4, `${cam.connections()} connections`);
  });

  test('a nonce that goes stale every 2 pictures: answered again (stale=TRUE), no auth failure', async (t) => {
    const { r, cam } = await setup(t, { nonceUses: 2 }, { snapshotFps: 8 });
    await until(() => r.frames.length >= 10, '10 pictures', 10000);
    assert.ok(cam.staleChallenges() >= 3, `${cam.staleChallenges()} stale challenges`);
    assert.deepEqual(r.errors.map((e) => e.err.reason), []);
  });

  test('503 with Retry-After: 1 — no request before it, the session stays playing', async (t) => {
    const { s, r, cam } = await setup(t, {}, { snapshotFps: 10 });
    await until(() => r.frames.length >= 3, '3 pictures', 8000);
    const before = cam.pictureTimes.length;
    cam.setBusy(1, 1);
    const t0 = performance.now();
    await until(() => cam.pictureTimes.length >= before + 3, 'polling resumed', 8000);
    const busyAt = cam.pictureTimes[before]!;
    const nextAt = cam.pictureTimes[before + 1]!;
    assert.ok(nextAt - busyAt >= 950, `next request ${(nextAt - busyAt).toFixed(0)} ms after the 503`);
    assert.equal(s.state, 'playing');
    assert.ok(r.statesAfter(t0).every((x) => x.state === 'playing'), r.stateTrail(t0));
  });

  test('a wrong password: auth failed; a wrong path: not found', async (t) => {
    const bad = await setup(t, {}, { password: 'nope' });
    await until(() => bad.r.errors.length > 0, 'auth failed', 5000);
    assert.equal(bad.r.errors[0]!.err.reason, 'auth failed');
    const cam = bad.cam;
    const s = openCamera(cam.url('/ISAPI/Streaming/channels/999/pictures'), FAST);
    const r = new Recorder(s);
    t.after(() => s.close());
    await until(() => r.errors.length > 0, 'not found', 5000);
    assert.equal(r.errors[0]!.err.reason, 'not found');
  });
});
