/**
 * Our library as a client: N concurrent openCamera() sessions in this one process, counting
 * frames. Usage: node ours-reader.cjs <distDir> <url> <tcp|udp> [n=1]
 * Runs from the compiled library (no TypeScript loader in the measured process).
 * On SIGTERM prints one JSON line: frames in total, and per stream the RTP-timestamp span
 * received, so lost frames = span/3600 + 1 − received (25 fps, 90 kHz) without asking the sender.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { CameraSession, FrameInfo } from '../../src/index';

const [distDir, url, transport, nArg] = process.argv.slice(2) as [string, string, 'tcp' | 'udp', string | undefined];
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(join(distDir, 'index.js')) as { openCamera: (u: string, o: object) => CameraSession };
const n = Math.max(1, Number(nArg ?? 1));
/** B4: CLOCK_MONOTONIC ns at each 'frame' event of stream 0, by RTP timestamp */
const latencyOut = process.env['BENCH_LATENCY_OUT'];
const gotAt: Record<string, string> = {};

interface PerStream { frames: number; first: number; last: number; bytes: number; errors: number; dropped: number }
const streams: PerStream[] = [];
const sessions: CameraSession[] = [];
for (let i = 0; i < n; i++) {
  const st: PerStream = { frames: 0, first: -1, last: -1, bytes: 0, errors: 0, dropped: 0 };
  streams.push(st);
  const s = lib.openCamera(url, { transport, statsIntervalMs: 1000 });
  s.on('frame', (jpeg: Buffer, info: FrameInfo) => {
    if (latencyOut && i === 0) gotAt[info.rtpTimestamp] = process.hrtime.bigint().toString();
    st.frames++;
    st.bytes += jpeg.length;
    if (st.first < 0) st.first = info.rtpTimestamp;
    st.last = info.rtpTimestamp;
  });
  s.on('stats', (r: { framesDropped: number }) => { st.dropped = r.framesDropped; });
  s.on('error', () => { st.errors++; });
  sessions.push(s);
}

process.on('SIGTERM', () => {
  if (latencyOut) writeFileSync(latencyOut, JSON.stringify(gotAt));
  let frames = 0, lost = 0;
  for (const st of streams) {
    frames += st.frames;
    if (st.first >= 0) lost += Math.max(0, Math.round(((st.last - st.first) >>> 0) / 3600) + 1 - st.frames);
  }
  const dropped = streams.reduce((a, s) => a + s.dropped, 0);
  const errors = streams.reduce((a, s) => a + s.errors, 0);
  const silent = streams.filter((s) => s.frames === 0).length;
  process.stdout.write(JSON.stringify({ frames, lost, dropped, errors, silent, streams: n }) + '\n');
  process.exit(0);
});
