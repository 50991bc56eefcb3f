import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { startFakeServer, tcpCamera, framesOf, type FakeServer } from '../support/fake-rtsp-server';
import { openCamera } from '../support/camera-session';
import type { CameraSession } from '../../src/camera/session';
import type { FrameInfo } from '../../src/camera/types';
import { closeAfter } from '../support/cleanup';

const VEC = join(__dirname, '..', 'fixtures', 'vectors', 'gst-tcp-320x240.pcap');
const FRAMES = framesOf(vectorPackets(VEC).rtp.map((x) => x.packet)).slice(0, 10);

function nextFrames(cam: CameraSession, n: number, timeoutMs = 5000): Promise<{ jpeg: Buffer; info: FrameInfo }[]> {
  return new Promise((resolve, reject) => {
    const got: { jpeg: Buffer; info: FrameInfo }[] = [];
    const t = setTimeout(() => { cam.off('frame', on); reject(new Error(`only ${got.length} frames`)); }, timeoutMs);
    const on = (jpeg: Buffer, info: FrameInfo): void => {
      got.push({ jpeg, info });
      if (got.length >= n) { clearTimeout(t); cam.off('frame', on); resolve(got); }
    };
    cam.on('frame', on);
  });
}

describe('TCP interleaved session against a scripted server', () => {
  test('full dialogue with exact requests, frames, TEARDOWN on close', async (t) => {
    const server: FakeServer = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES, timeout: 60 }));
    const states: string[] = [];
    const cam = openCamera(server.url());
    cam.on('state', (c) => states.push(c.state));
    try {
      const frames = await nextFrames(cam, 3);
      for (const f of frames) {
        assert.equal(f.jpeg[0], 0xff); assert.equal(f.jpeg[1], 0xd8);
        assert.equal(f.jpeg[f.jpeg.length - 2], 0xff); assert.equal(f.jpeg[f.jpeg.length - 1], 0xd9);
        assert.equal(f.jpeg.byteOffset, 0);
        assert.equal(f.jpeg.buffer.byteLength, f.jpeg.length, 'own exact-size buffer');
        assert.equal(f.info.width, 320); assert.equal(f.info.height, 240);
      }
      assert.deepEqual(frames.map((f) => f.info.index), [1, 2, 3]);
      assert.equal(cam.latestFrame?.info.index !== undefined, true);
    } finally {
      await cam.close();
    }
    const reqs = server.requests;
    assert.deepEqual(reqs.map((r) => r.method), ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN']);
    const base = server.url();
    assert.equal(reqs[0]!.uri, base);
    assert.equal(reqs[1]!.uri, base);
    assert.equal(reqs[1]!.headers['accept'], 'application/sdp');
    assert.equal(reqs[2]!.uri, `${base}/stream=0`);
    assert.equal(reqs[2]!.headers['transport'], 'RTP/AVP/TCP;unicast;interleaved=0-1');
    assert.equal(reqs[3]!.uri, `${base}/`);
    assert.equal(reqs[3]!.headers['session'], 'ABCDEF12');
    assert.equal(reqs[4]!.headers['session'], 'ABCDEF12');
    const cseqs = reqs.map((r) => Number(r.cseq));
    for (let i = 1; i < cseqs.length; i++) assert.ok(cseqs[i]! > cseqs[i - 1]!, 'CSeq increases');
    for (const r of reqs) assert.ok(r.headers['user-agent'], 'User-Agent present');
    assert.equal(reqs[0]!.headers['session'], undefined);
    assert.deepEqual(states.slice(0, 2), ['connecting', 'playing']);
    assert.equal(states[states.length - 1], 'closed');
  });

  test('server-chosen interleaved channels are used; unknown channel data ignored', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES, channels: [5, 6],
      before: (req, conn) => {
        if (req.method === 'PLAY') conn.interleaved(0, FRAMES[0]![0]!); // junk on an unset channel, before the reply
        return false;
      },
    }));
    const cam = openCamera(server.url());
    try {
      const frames = await nextFrames(cam, 2);
      assert.equal(frames.length, 2);
    } finally {
      await cam.close();
    }
  });

  test('RTCP RR goes back on the odd channel', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES }));
    const cam = openCamera(server.url());
    try {
      await nextFrames(cam, 1);
      // first RR comes after the halved minimum interval (A.7: 2.5 s · [0.5, 1.5] / 1.21828)
      const deadline = Date.now() + 6000;
      while (Date.now() < deadline && !server.conns[0]!.clientFrames.some((f) => f.channel === 1)) await new Promise((r) => setTimeout(r, 100));
      const rr = server.conns[0]!.clientFrames.find((f) => f.channel === 1);
      assert.ok(rr, 'an RTCP frame on channel 1');
      assert.equal(rr.payload[1], 201, 'RR first in the compound');
    } finally {
      await cam.close();
    }
  });
});
