/**
 * B4: latency from the marker packet to the delivered frame. The replay sender notes
 * CLOCK_MONOTONIC (process.hrtime, shared by all processes on the machine) right after it
 * hands a frame's packets (marker last) to the kernel; the receiver notes it when the frame
 * arrives: at our library's 'frame' event, and inside Node-RED at the function node wired to
 * `rtsp-mjpeg in` (so Node-RED's own message delivery is included). Joined by RTP timestamp;
 * the first 3 s (connection set-up) are skipped. Includes loopback delivery and event-loop
 * wake-up, so it is an upper bound on our own processing time.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clientPath, DIST, TMP } from './lib/compile';
import { ROOT } from './lib/gst-server';
import { nodeRedAvailable, nodeRedCommand } from './lib/node-red';
import { measureProcess, startHelper } from './lib/proc';
import { recordingFile } from './lib/recordings';
import type { LatencyRow } from './lib/report';
import { quantile } from './lib/stats';

async function one(label: string, transport: 'tcp' | 'udp', receiver: (url: string) => { cmd: string; args: string[] }, durationS: number, note: string): Promise<LatencyRow> {
  const sentFile = join(TMP, `b4-sent-${process.pid}.json`);
  const gotFile = join(TMP, `b4-got-${process.pid}.json`);
  rmSync(sentFile, { force: true });
  rmSync(gotFile, { force: true });
  const { helper, match } = await startHelper(process.execPath, [clientPath('replay-sender'), recordingFile(1280, 720, 250), '25'], /READY (\S+)/, 10000,
    { ...process.env, BENCH_LATENCY_OUT: sentFile });
  try {
    const { cmd, args } = receiver(match[1]!);
    await measureProcess({ cmd, args, cwd: ROOT, env: { ...process.env, BENCH_LATENCY_OUT: gotFile }, durationMs: durationS * 1000, sampleAtMs: [], graceMs: 8000 });
  } finally {
    await helper.stop();
  }
  const sent = JSON.parse(readFileSync(sentFile, 'utf8')) as Record<string, string>;
  const got = JSON.parse(readFileSync(gotFile, 'utf8')) as Record<string, string>;
  const start = Object.values(got).map(BigInt).reduce((a, b) => (a < b ? a : b), BigInt(Number.MAX_SAFE_INTEGER) * 1000000n);
  const lat: number[] = [];
  for (const [ts, g] of Object.entries(got)) {
    const s = sent[ts];
    if (s === undefined) continue;
    if (BigInt(g) - start < 3000000000n) continue;
    lat.push(Number(BigInt(g) - BigInt(s)) / 1e6);
  }
  return { label: `${label} (${transport.toUpperCase()})`, frames: lat.length, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99), maxMs: lat.length ? Math.max(...lat) : NaN, note };
}

export async function runB4(opts: { durationS: number; log: (s: string) => void }): Promise<LatencyRow[]> {
  const rows: LatencyRow[] = [];
  for (const t of ['tcp', 'udp'] as const) {
    const r = await one('library openCamera → frame event', t, (url) => ({ cmd: process.execPath, args: [clientPath('ours-reader'), DIST, url, t] }), opts.durationS, 'idle process, 1 stream');
    opts.log(`B4 ${r.label}: p50 ${r.p50Ms.toFixed(3)} p99 ${r.p99Ms.toFixed(3)} max ${r.maxMs.toFixed(3)} ms over ${r.frames} frames`);
    rows.push(r);
  }
  if (nodeRedAvailable()) {
    const r = await one('Node-RED: rtsp-mjpeg in → next node', 'tcp', (url) => nodeRedCommand(url, 'tcp'), opts.durationS + 5, 'Node-RED 4, delivered to a function node');
    opts.log(`B4 ${r.label}: p50 ${r.p50Ms.toFixed(3)} p99 ${r.p99Ms.toFixed(3)} max ${r.maxMs.toFixed(3)} ms over ${r.frames} frames`);
    rows.push(r);
  }
  return rows;
}
