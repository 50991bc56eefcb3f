/**
 * Our client against GStreamer's RTSP server (gst-rtsp-server 1.22, test/peers/gst-rtsp-server.py):
 * transports tcp / udp / auto, and what the server sees of our RTCP (auto against a TCP-only
 * server: gst-tcp-only.test.ts). For one TCP and one UDP case, the packets our client received are captured on lo
 * and fed to GStreamer's own rtpjpegdepay: our JPEGs must be byte-identical to its output.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  peerAvailable, skipUnlessPeer, startGstServer, startCapture, tsharkReceiverReports, runClient,
  assertGoodRun, assertMatchesGstreamer, type GstServer, type ClientRun,
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
