/**
 * Our client against GStreamer's RTSP server (gst-rtsp-server 1.22, test/peers/gst-rtsp-server.py):
 * transports tcp / udp / auto, auto against a TCP-only server, and what the server sees of
 * our RTCP. For one TCP and one UDP case, the packets our client received are captured on lo
 * and fed to GStreamer's own rtpjpegdepay: our JPEGs must be byte-identical to its output.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  peerAvailable, skipUnlessPeer, startGstServer, startCapture, tsharkReceiverReports, runClient,
  assertGoodRun, assertMatchesGstreamer, undecodable, type GstServer, type ClientRun,
} from '../support/peers';
import { reserveUdpRange } from '../support/ports';

const FPS = 25;
const STREAM_MS = 3000;
describe('GStreamer RTSP server: transports', () => {
  let server: GstServer | undefined;

  before(async () => {
    if (!peerAvailable('gst-rtsp-server').ok) return;
    server = await startGstServer({ width: 320, height: 240, fps: FPS, udpPorts: await reserveUdpRange(20), duration: 150 });
  });
  after(async () => { await server?.stop(); });

  test('tcp: frames byte-identical to GStreamer rtpjpegdepay; RR reach the server over the interleaved channel', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg', 'tshark')) return;
    const s = server!;
    const cap = await startCapture(`tcp port ${s.port}`);
    let run: ClientRun;
    const rtcpBefore = s.rtcp.length;
    try {
      run = await runClient(s.url, { transport: 'tcp' }, { streamMs: 4000 });
    } finally {
      await cap.stop();
    }
    try {
      assertGoodRun(run, { width: 320, height: 240 });
      assert.equal(run.stats?.transport, 'tcp');
      assertMatchesGstreamer(run, await cap.stop());
      const ours = s.rtcp.slice(rtcpBefore).filter((r) => r.blocks.some((b) => b.ssrc === run.frames[0]!.info.ssrc));
      assert.ok(ours.length >= 1, `server saw no RR about its SSRC over TCP: ${s.rtcp.slice(rtcpBefore).map((r) => r.line).join(' / ')}`);
      assert.ok(ours.every((r) => r.cnames.length > 0), 'RR without SDES CNAME');
    } finally {
      cap.cleanup();
    }
  });

  test('udp: frames byte-identical to GStreamer; RR+SDES seen by tshark and by the server, no loss, sane jitter', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg', 'tshark')) return;
    const s = server!;
    const CLIENT_UDP = await reserveUdpRange(10, t);
    const cap = await startCapture(`udp portrange ${CLIENT_UDP[0]}-${CLIENT_UDP[1]}`);
    const rtcpBefore = s.rtcp.length;
    let run: ClientRun;
    try {
      // long enough for the first RR (RFC 3550 A.7: initial interval ≤ ~3.1 s)
      run = await runClient(s.url, { transport: 'udp', udpPortRange: CLIENT_UDP }, { streamMs: 5000 });
    } finally {
      await cap.stop();
    }
    try {
      assertGoodRun(run, { width: 320, height: 240 });
      assert.equal(run.stats?.transport, 'udp');
      const file = await cap.stop();
      assertMatchesGstreamer(run, file);
      const ssrc = run.frames[0]!.info.ssrc;

      // tshark's view of what left our RTCP port
      const rrs = tsharkReceiverReports(file, CLIENT_UDP[0] + 1).filter((r) => Number.isFinite(r.fraction));
      assert.ok(rrs.length >= 1, 'tshark saw no RR with a report block from our client');
      for (const r of rrs) {
        assert.equal(r.fraction, 0, 'fraction lost on loopback');
        assert.equal(r.cumulativeLost, 0);
        assert.ok(r.jitter >= 0 && r.jitter < 4500, `jitter ${r.jitter} (RTP units) not sane for loopback`);
        assert.ok(r.cname.length > 0, 'RR compound without SDES CNAME');
      }
      // the server's own RTCP session received them
      const seen = s.rtcp.slice(rtcpBefore).filter((r) => r.hasRR && r.blocks.some((b) => b.ssrc === ssrc));
      assert.ok(seen.length >= 1, `server saw no RR about SSRC ${ssrc}`);
      assert.ok(seen.every((r) => r.cnames.length > 0));
    } finally {
      cap.cleanup();
    }
  });

  test('auto: UDP is tried first and used when the server offers it', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg')) return;
    const run = await runClient(server!.url, { transport: 'auto', udpPortRange: await reserveUdpRange(10, t) }, { streamMs: STREAM_MS });
    assertGoodRun(run, { width: 320, height: 240 });
    assert.equal(run.stats?.transport, 'udp');
  });
});

describe('GStreamer RTSP server: TCP-only', () => {
  let server: GstServer | undefined;
  before(async () => {
    if (!peerAvailable('gst-rtsp-server').ok) return;
    server = await startGstServer({ width: 320, height: 240, fps: FPS, protocols: 'tcp', duration: 60 });
  });
  after(async () => { await server?.stop(); });

  test('auto falls back to TCP after 461 Unsupported transport, on the same connection (one DESCRIBE)', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg')) return;
    const s = server!;
    const [d0, c0] = [s.describes(), s.connections()];
    const logs: string[] = [];
    const run = await runClient(s.url, { transport: 'auto', udpPortRange: await reserveUdpRange(10, t), logger: (l, m) => { if (l === 'info') logs.push(m); } }, { streamMs: STREAM_MS });
    assertGoodRun(run, { width: 320, height: 240 });
    assert.equal(run.stats?.transport, 'tcp');
    assert.equal(s.describes() - d0, 1, 'one DESCRIBE');
    assert.equal(s.connections() - c0, 1, 'one connection');
    assert.ok(logs.some((m) => /^transport tcp \(auto\): the camera refused UDP \(SETUP: 461 /.test(m)), `info line: ${JSON.stringify(logs)}`);
  });

  test('30 sessions in a row in auto: every one gets frames over TCP with exactly one DESCRIBE and no error', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'djpeg', 'ffmpeg')) return;
    const s = server!;
    const RUNS = 30;
    const udpPortRange = await reserveUdpRange(10, t);
    const started = Date.now();
    for (let i = 0; i < RUNS; i++) {
      // bounded: a run that has not got a frame in 5 s fails (the whole loop takes ~10 s)
      assert.ok(Date.now() - started < 50000, `loop over its time bound at run ${i + 1}`);
      const d0 = s.describes();
      const run = await runClient(s.url, { transport: 'auto', udpPortRange }, { streamMs: 0, firstFrameTimeoutMs: 5000 });
      assert.ok(run.frames.length >= 1, `run ${i + 1}: no frame; states ${JSON.stringify(run.states)} errors ${run.errors.map((e) => e.message).join(' / ')}`);
      assert.deepEqual(undecodable(run.frames.slice(0, 1), { width: 320, height: 240 }), [], `run ${i + 1}`);
      assert.equal(run.stats?.transport, 'tcp', `run ${i + 1}`);
      assert.deepEqual(run.errors.map((e) => e.message), [], `run ${i + 1}: errors`);
      assert.equal(s.describes() - d0, 1, `run ${i + 1}: DESCRIBEs counted in the server's log`);
    }
  });

  test('udp only against a TCP-only server fails with a clear reason, no frames', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server')) return;
    const run = await runClient(server!.url, { transport: 'udp', udpPortRange: await reserveUdpRange(10, t) }, { streamMs: 0, firstFrameTimeoutMs: 3000 });
    assert.equal(run.frames.length, 0);
    const reasons = [...run.states.map((s) => s.reason), ...run.errors.map((e) => e.reason)];
    assert.ok(reasons.includes('unsupported transport'), `reasons: ${JSON.stringify(reasons)}`);
  });
});
