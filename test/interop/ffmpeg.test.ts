/**
 * FFmpeg 5.1 as the RTP/JPEG sender (rtpenc_jpeg): Q=255 with in-band tables, no EOI in the
 * last fragment, and by default ONE 64-byte table for luma and chroma. Served over RTSP
 * unchanged by GStreamer's relay mount, or received as plain RTP by JpegDepacketizer.
 *
 * Oracles: FFmpeg's encoder output is written next to the RTP stream (tee muxer), so every
 * JPEG we rebuild must decode to exactly the pixels of one of the encoder's own JPEGs; and
 * FFmpeg's own RTSP depacketizer, run as a second client of the same shared media, must
 * produce the same pictures for the frames both received.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  skipUnlessPeer, startFfmpegRelay, startFfmpegRtp, freeUdpPair, receiveUdp, runClient, splitMjpeg, pixelHashes,
  undecodable, framesSentInWindow, waitFor, type ReceivedFrame,
} from '../support/peers';
import { JpegDepacketizer } from '../../src/jpeg/depacketizer';
import { reserveUdpRange } from '../support/ports';

/** The DQT segments of a JPEG, concatenated: differs between frames when the tables change. */
function dqt(jpeg: Buffer): string {
  const parts: string[] = [];
  let off = 2;
  while (off + 4 <= jpeg.length && jpeg[off] === 0xff && jpeg[off + 1] !== 0xda) {
    const len = jpeg.readUInt16BE(off + 2);
    if (jpeg[off + 1] === 0xdb) parts.push(jpeg.subarray(off + 4, off + 2 + len).toString('hex'));
    off += 2 + len;
  }
  return parts.join('|');
}

interface FfmpegClient {
  /** resolves once FFmpeg has written its first JPEG (its probing is over), false after `firstWithinMs` */
  started: Promise<boolean>;
  done: Promise<{ frames: Buffer[]; log: string }>;
}

/** FFmpeg's RTSP client copying what its depacketizer rebuilds, for `seconds`; its warnings for the failure message. */
function ffmpegClient(url: string, transport: 'tcp' | 'udp', seconds: number, firstWithinMs: number): FfmpegClient {
  const c = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'warning', '-rtsp_transport', transport, '-i', url, '-t', String(seconds),
    '-c', 'copy', '-f', 'image2pipe', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let log = '';
  let markStarted: (ok: boolean) => void = () => undefined;
  const started = new Promise<boolean>((resolve) => { markStarted = resolve; });
  const startTimer = setTimeout(() => markStarted(false), firstWithinMs);
  c.stdout.on('data', (d: Buffer) => { chunks.push(d); clearTimeout(startTimer); markStarted(true); });
  c.stderr.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-2000); });
  const kill = setTimeout(() => c.kill('SIGKILL'), (seconds + 15) * 1000);
  const done = new Promise<{ frames: Buffer[]; log: string }>((resolve) => {
    c.on('close', (code, signal) => {
      clearTimeout(kill);
      clearTimeout(startTimer);
      markStarted(false);
      resolve({ frames: splitMjpeg(Buffer.concat(chunks)), log: `exit ${code ?? signal}: ${log.trim()}` });
    });
  });
  return { started, done };
}

function assertPixelsFromEncoder(frames: ReceivedFrame[], teeFile: string): void {
  const originals = new Set(pixelHashes(splitMjpeg(readFileSync(teeFile))).filter((h): h is string => h !== null));
  assert.ok(originals.size > 0, 'encoder tee wrote no JPEG');
  const ours = pixelHashes(frames.map((f) => f.jpeg));
  const missing = frames.filter((_f, i) => !originals.has(ours[i] ?? 'undecodable'));
  assert.equal(missing.length, 0, `${missing.length}/${frames.length} frames decode to pixels FFmpeg's encoder never produced (first ts ${missing[0]?.info.rtpTimestamp})`);
}

describe('FFmpeg payloader', () => {
  for (const c of [
    { name: 'single 64-byte table (FFmpeg default), constant quantizer', transport: 'tcp' as const, duplicatedMatrix: false, bitrateKbps: undefined },
    { name: 'two tables, rate control: tables change every frame', transport: 'udp' as const, duplicatedMatrix: true, bitrateKbps: 1000 },
  ]) {
    test(`via GStreamer relay over ${c.transport}: ${c.name}; pixels equal FFmpeg's encoder and depacketizer`, async (t) => {
      if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg')) return;
      const dir = mkdtempSync(join(tmpdir(), 'ff-interop-'));
      const tee = join(dir, 'encoder.mjpeg');
      const relay = await startFfmpegRelay({ teeMjpeg: tee, duplicatedMatrix: c.duplicatedMatrix, bitrateKbps: c.bitrateKbps, duration: 30 });
      try {
        // FFmpeg first, ours once FFmpeg's probing is over (seconds on a loaded machine), so
        // that both windows overlap; one retry when FFmpeg's RTSP client gets nothing at all.
        let theirs = ffmpegClient(relay.url, c.transport, 6, 10000);
        if (!(await theirs.started)) {
          t.diagnostic(`FFmpeg client produced nothing in 10 s, retrying once (${(await theirs.done).log})`);
          theirs = ffmpegClient(relay.url, c.transport, 6, 10000);
          await theirs.started;
        }
        const run = await runClient(relay.url, { transport: c.transport, udpPortRange: await reserveUdpRange(20, t) }, { streamMs: 3500 });
        const { frames: ffFrames, log: ffLog } = await theirs.done;
        await relay.ffmpeg.stop();
        assert.ok(run.frames.length > 0, `no frame: ${JSON.stringify(run.states)}`);
        assert.ok(run.frames.length >= 0.95 * framesSentInWindow(run.frames, 25));
        assert.deepEqual(undecodable(run.frames, { width: 320, height: 240 }), []);
        if (!c.duplicatedMatrix) assert.match(relay.ffmpeg.log(), /1 provided/, 'FFmpeg did not send a single table');
        if (c.bitrateKbps) {
          const tables = new Set(run.frames.map((f) => dqt(f.jpeg)));
          assert.ok(tables.size > 1, 'quantization tables never changed: the case does not test what it claims');
          t.diagnostic(`${tables.size} distinct table sets in ${run.frames.length} frames`);
        }
        assertPixelsFromEncoder(run.frames, tee);
        // FFmpeg's depacketizer, same shared media: pictures both received must be identical
        const theirHashes = new Set(pixelHashes(ffFrames).filter((h): h is string => h !== null));
        const ours = pixelHashes(run.frames.map((f) => f.jpeg));
        const common = ours.filter((h) => h !== null && theirHashes.has(h)).length;
        assert.ok(ffFrames.length > 0, `FFmpeg client got nothing (${ffLog})`);
        // windows differ by FFmpeg's probing time; most of our frames must be in its output
        assert.ok(common >= 0.5 * ours.length, `only ${common}/${ours.length} of our pictures are among FFmpeg's ${ffFrames.length}`);
        t.diagnostic(`ours ${run.frames.length} frames, FFmpeg client ${ffFrames.length}, identical pictures ${common}`);
      } finally {
        await relay.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('plain RTP (no RTSP) into JpegDepacketizer: every frame complete, pixels equal the encoder', async (t) => {
    if (!skipUnlessPeer(t, 'ffmpeg', 'djpeg')) return;
    const dir = mkdtempSync(join(tmpdir(), 'ff-rtp-'));
    const tee = join(dir, 'encoder.mjpeg');
    const port = await freeUdpPair();
    const depay = new JpegDepacketizer({});
    const frames: ReceivedFrame[] = [];
    const sock = await receiveUdp(port, (p) => {
      const f = depay.push(p);
      if (f) frames.push({ jpeg: f.jpeg, info: { index: frames.length + 1, width: f.width, height: f.height, rtpTimestamp: f.rtpTimestamp, ssrc: f.ssrc, receivedAt: Date.now(), capturedAt: null } });
    });
    const rtcpSock = await receiveUdp(port + 1, () => undefined); // FFmpeg's SRs land here
    const ff = startFfmpegRtp({ port, teeMjpeg: tee, duration: 4 });
    try {
      assert.ok(await waitFor(() => frames.length >= 75, 10000), `only ${frames.length} frames`);
      await ff.stop();
      // the first frame may have started before our socket saw it; everything after is whole
      assert.ok(frames.length >= 0.95 * framesSentInWindow(frames, 25));
      assert.equal(depay.stats.lostFragments, 0);
      assert.deepEqual(undecodable(frames, { width: 320, height: 240 }), []);
      assertPixelsFromEncoder(frames, tee);
    } finally {
      await ff.stop();
      sock.close();
      rtcpSock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
