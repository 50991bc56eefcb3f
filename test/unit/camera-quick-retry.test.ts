/**
 * The quick-retry budget for transient handshake errors (a 500, 502 or 503 while connecting)
 * belongs to one connection episode, not to the session's lifetime: once the session has
 * played, a later reconnect gets the whole budget again. A camera that answers 500 a few
 * times at every reboot must be retried quietly each time, days into a run, instead of
 * turning red and waiting out the backoff from its fourth 500 on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { startFakeServer, tcpCamera, framesOf } from '../support/fake-rtsp-server';
import { openCamera } from '../../src/camera/open';
import type { CameraSession } from '../../src/camera/session';
import { QUICK_RETRIES } from '../../src/camera/session';
import type { StateChange } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';
import { closeAfter } from '../support/cleanup';

const VEC = join(__dirname, '..', 'fixtures', 'vectors', 'gst-tcp-320x240.pcap');
const FRAMES = framesOf(vectorPackets(VEC).rtp.map((x) => x.packet)).slice(0, 10);

function untilFrame(cam: CameraSession, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { cam.off('frame', on); reject(new Error(`no frame within ${timeoutMs} ms (state ${cam.state})`)); }, timeoutMs);
    const on = (): void => { clearTimeout(t); cam.off('frame', on); resolve(); };
    cam.on('frame', on);
  });
}

test(`${QUICK_RETRIES} × 500, playing, connection lost, ${QUICK_RETRIES} × 500 again (three rounds): every 500 retried quietly`, async (t) => {
  const server = closeAfter(t, await startFakeServer());
  /** 500s still to answer before the next DESCRIBE is served */
  let refuse = QUICK_RETRIES;
  server.setHandler(tcpCamera(server, {
    frames: FRAMES,
    before: (req, conn) => {
      if (req.method === 'DESCRIBE' && refuse > 0) {
        refuse--;
        conn.reply(req, 500);
        return true;
      }
      return false;
    },
  }));
  // a short backoff after the lost connection: the test waits for the quick retries, not for it
  const cam = closeAfter(t, openCamera(server.url(), { transport: 'tcp', reconnectMinMs: 50, reconnectMaxMs: 100 }));
  const states: StateChange[] = [];
  const errors: CameraError[] = [];
  cam.on('state', (c) => states.push(c));
  cam.on('error', (e) => errors.push(e));

  const ROUNDS = 3;
  for (let round = 1; round <= ROUNDS; round++) {
    // 3 quick retries of about 300 ms each, then the handshake: well within 5 s
    await untilFrame(cam, 5000);
    assert.equal(refuse, 0, `round ${round}: every planned 500 was answered before playing`);
    assert.deepEqual(errors.map((e) => e.reason), Array<string>(round - 1).fill('connection lost'),
      `round ${round}: a retried 500 is not an error (errors: ${errors.map((e) => e.message).join('; ')})`);
    if (round === ROUNDS) break;
    // the camera reboots: the connection drops, and it answers 500 again for a while
    refuse = QUICK_RETRIES;
    const playing = server.conns.filter((c) => !c.socket.destroyed);
    for (const c of playing) c.destroy();
  }
  const describes = server.requests.filter((r) => r.method === 'DESCRIBE').length;
  assert.equal(describes, ROUNDS * (QUICK_RETRIES + 1), 'each round: the refused DESCRIBEs and the one that played');
  const reasons = states.filter((s) => s.state === 'reconnecting').map((s) => s.reason);
  assert.deepEqual(reasons, Array<string>(ROUNDS - 1).fill('connection lost'), 'reconnecting only for the lost connections, never for a 500');
});
