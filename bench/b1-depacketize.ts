/**
 * B1: the full in-process receive path over recorded GStreamer packet streams (720p, 1080p):
 * MediaTrack.onRtp = RTP parse → sequencer → RFC 2435 depacketizer → JPEG Buffer → receiver
 * stats, against a baseline that only copies the same payload bytes into one Buffer per frame
 * (the least any receiver must do). Target: ours ≤ 1.5× the baseline's time.
 *
 * Each pass replays the recording once; between passes (outside the timed region) sequence
 * numbers and timestamps are advanced in place so the sequencer sees one continuous stream.
 * Each variant runs in its own fresh process (rounds rotate the order); time is the process's
 * CPU time per pass (getrusage), median per process, then median over processes.
 */
import { MediaTrack } from '../src/camera/media-track';
import { JpegDepacketizer } from '../src/jpeg/depacketizer';
import { loadRecording, recordingFile, type Recording } from './lib/recordings';
import { median, spread, type Spread } from './lib/stats';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface B1Row {
  stream: string;
  frames: number;
  packets: number;
  payloadMiBPerPass: number;
  /** CPU ms per pass (one replay of the recording), median and spread */
  baselineMs: Spread;
  oursMs: Spread;
  depacketizerOnlyMs: Spread;
  ratio: number;
  /** frames per second of CPU time, ours */
  oursFramesPerCpuSecond: number;
  framesOk: boolean;
}

let sink = 0;

function advance(rec: Recording, pass: number): void {
  const nPk = rec.packets.length;
  const nFr = rec.frames.length;
  for (let i = 0; i < nPk; i++) {
    const p = rec.packets[i]!;
    p.writeUInt16BE((i + pass * nPk) & 0xffff, 2);
  }
  for (let f = 0; f < nFr; f++) {
    const ts = ((f + pass * nFr) * 3600) >>> 0;
    for (const p of rec.frames[f]!) p.writeUInt32BE(ts, 4);
  }
}

function baselinePass(rec: Recording): number {
  let parts: Buffer[] = [];
  let total = 0;
  let frames = 0;
  for (const p of rec.packets) {
    const pl = p.subarray(12);
    parts.push(pl);
    total += pl.length;
    if (p[1]! & 0x80) {
      const jpeg = Buffer.concat(parts, total);
      sink += jpeg.length;
      frames++;
      parts = [];
      total = 0;
    }
  }
  return frames;
}

function makeOurs(rec: Recording): { track: MediaTrack; count: () => number } {
  let frames = 0;
  let t = 0;
  const track = new MediaTrack({
    info: { kind: 'video', encoding: 'JPEG', payloadType: 26, clockRate: 90000, control: 'bench', width: rec.width, height: rec.height },
    video: true,
    ssrc: 0x12345678,
    cname: 'bench',
    now: () => (t += 0.85), // monotonic, cheap: ~40 ms per 47 packets
    onFrame: (frame) => { sink += frame.jpeg.length; frames++; },
  });
  return { track, count: () => frames };
}

type Variant = 'baseline' | 'ours' | 'depacketizer';

/** One variant over one recording in this (fresh) process; returns ms per pass after warm-up. */
function measureVariant(variant: Variant, w: number, h: number, passes: number): { ms: number[]; frames: number; expected: number } {
  const rec = loadRecording(recordingFile(w, h, 250), w, h);
  const ours = makeOurs(rec);
  const dep = new JpegDepacketizer();
  let depFrames = 0;
  const ms: number[] = [];
  let frames = 0, expected = 0;
  const warm = 5;
  for (let pass = 0; pass < warm + passes; pass++) {
    advance(rec, pass);
    const before = variant === 'ours' ? ours.count() : depFrames;
    // Process CPU time (getrusage, µs), not wall time: the machine is shared, and another
    // process taking the core must not count against the variant being measured.
    const c0 = process.cpuUsage();
    let n = 0;
    if (variant === 'baseline') n = baselinePass(rec);
    else if (variant === 'ours') for (const p of rec.packets) ours.track.onRtp(p);
    else for (const p of rec.packets) { const f = dep.push(p); if (f) { sink += f.jpeg.length; depFrames++; } }
    const cu = process.cpuUsage(c0);
    const dt = (cu.user + cu.system) / 1000;
    if (variant === 'ours') n = ours.count() - before;
    else if (variant === 'depacketizer') n = depFrames - before;
    if (pass >= warm) { ms.push(dt); frames += n; expected += rec.frames.length; }
  }
  ours.track.close();
  return { ms, frames, expected };
}

export async function runB1(opts: { passes: number; rounds: number; log: (s: string) => void }): Promise<B1Row[]> {
  const rows: B1Row[] = [];
  const variants: Variant[] = ['baseline', 'ours', 'depacketizer'];
  for (const [w, h] of [[1280, 720], [1920, 1080]] as const) {
    const rec = loadRecording(recordingFile(w, h, 250), w, h); // generate once, outside the workers
    const per: Record<Variant, number[]> = { baseline: [], ours: [], depacketizer: [] };
    let framesOk = true;
    for (let round = 0; round < opts.rounds; round++) {
      // Each variant in its own fresh process (no GC debt carried between variants); order rotates.
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(k + round) % variants.length]!;
        const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--b1-worker', v, String(w), String(h), String(opts.passes)],
          { cwd: join(__dirname, '..'), timeout: 120000, encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').pop()!) as { ms: number[]; frames: number; expected: number };
        per[v].push(median(r.ms)); // one number per process: its median pass
        // The sequencer may hold back the first packets while it validates the source (probation).
        if (r.frames < r.expected - 2) framesOk = false;
      }
    }
    const b = spread(per.baseline), o = spread(per.ours), d = spread(per.depacketizer);
    const row: B1Row = {
      stream: `${w}x${h} q85 (${(rec.payloadBytes / rec.frames.length / 1000).toFixed(1)} kB/frame, ${(rec.packets.length / rec.frames.length).toFixed(0)} pkt/frame)`,
      frames: rec.frames.length,
      packets: rec.packets.length,
      payloadMiBPerPass: rec.payloadBytes / 2 ** 20,
      baselineMs: b,
      oursMs: o,
      depacketizerOnlyMs: d,
      ratio: o.median / b.median,
      oursFramesPerCpuSecond: rec.frames.length / (o.median / 1000),
      framesOk,
    };
    opts.log(`B1 ${row.stream}: baseline ${b.median.toFixed(2)} ms/pass, ours ${o.median.toFixed(2)} ms (${row.ratio.toFixed(2)}x), depacketizer only ${d.median.toFixed(2)} ms`);
    rows.push(row);
  }
  return rows;
}

if (process.argv[2] === '--b1-worker') {
  const [v, w, h, passes] = process.argv.slice(3);
  const r = measureVariant(v as Variant, Number(w), Number(h), Number(passes));
  process.stdout.write(JSON.stringify(r) + '\n' + (sink === -1 ? '' : ''));
}
