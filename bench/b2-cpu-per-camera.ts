/**
 * B2: CPU per camera. One 1280×720 25 fps stream from GStreamer's RTSP server (shared media,
 * jpegenc q85); each client runs alone for 20 s (clients run one after another, round-robin
 * over the repetitions, so all of them see the same server in the same run). Per run:
 *  - steady-state CPU rate: (utime+stime at 16 s − at 4 s) / 12 s, from /proc/<pid>/stat;
 *  - whole-process CPU and peak RSS at exit (wait4 rusage via GNU time), start-up included.
 * Medians of the runs, with min–max spread. Ratios, not absolute times, are the headline.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clientPath, DIST, TMP } from './lib/compile';
import { startGstServer, ROOT } from './lib/gst-server';
import { measureProcess, type MeasureResult } from './lib/proc';
import { spread, type Spread } from './lib/stats';

export interface B2Client {
  id: string;
  label: string;
  transport: 'tcp' | 'udp';
  /** the command, given the server URL */
  command: (url: string, scratch: string) => { cmd: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** frames received, from the client's own output, or null when it does not say */
  frames: (r: MeasureResult) => number | null;
  /** extra seconds added before the window for slow starters (Node-RED loads for seconds) */
  warmupS?: number;
}

export interface B2Row {
  id: string;
  label: string;
  transport: string;
  /** fraction of one core, steady state (4–16 s) */
  steadyCore: Spread;
  /** whole-process CPU seconds over the 20 s run */
  totalCpuS: Spread;
  maxRssMiB: Spread;
  frames: Spread;
  runs: number;
  failures: string[];
}

const lastJson = (s: string): Record<string, number> | null => {
  const line = s.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  try { return line ? (JSON.parse(line) as Record<string, number>) : null; } catch { return null; }
};
const ffmpegFrames = (r: MeasureResult): number | null => {
  const m = [...r.stderr.matchAll(/frame=\s*(\d+)/g)].pop();
  return m ? Number(m[1]) : null;
};

const ffmpeg = (t: 'tcp' | 'udp'): B2Client => ({
  id: `ffmpeg-${t}`, label: `ffmpeg -c copy -f image2pipe (${t.toUpperCase()})`, transport: t,
  command: (url) => ({ cmd: 'ffmpeg', args: ['-nostdin', '-loglevel', 'error', '-stats', '-rtsp_transport', t, '-i', url, '-c', 'copy', '-f', 'image2pipe', '-y', '/dev/null'] }),
  frames: ffmpegFrames,
});

export function b2Clients(opts: { haveLibrary: boolean; haveCli: boolean; nodeRed: B2Client | null }): B2Client[] {
  const list: B2Client[] = [];
  if (opts.haveLibrary) {
    for (const t of ['tcp', 'udp'] as const) {
      list.push({
        id: `ours-lib-${t}`, label: `ours: library openCamera (${t.toUpperCase()})`, transport: t,
        command: (url) => ({ cmd: process.execPath, args: [clientPath('ours-reader'), DIST, url, t] }),
        frames: (r) => lastJson(r.stdout)?.['frames'] ?? null,
      });
    }
  }
  if (opts.haveCli) {
    list.push({
      id: 'ours-cli-tcp', label: 'ours: CLI rtsp-mjpeg grab (TCP, writes each JPEG to a tmpfs file)', transport: 'tcp',
      command: (url, scratch) => ({ cmd: process.execPath, args: [join(DIST, 'cli.js'), 'grab', url, '--frames', '100000', '--out', scratch, '--transport', 'tcp', '--timeout', '120'] }),
      frames: () => null,
    });
  }
  if (opts.nodeRed) list.push(opts.nodeRed);
  list.push(ffmpeg('tcp'), ffmpeg('udp'));
  list.push({
    id: 'gst-tcp', label: 'GStreamer rtspsrc ! rtpjpegdepay ! fakesink (TCP)', transport: 'tcp',
    command: (url) => ({ cmd: 'gst-launch-1.0', args: ['-q', 'rtspsrc', `location=${url}`, 'protocols=tcp', '!', 'rtpjpegdepay', '!', 'fakesink'] }),
    frames: () => null,
  });
  list.push({
    id: 'msl-tcp', label: 'media-stream-library 13 (TCP)', transport: 'tcp',
    command: (url) => ({ cmd: process.execPath, args: [clientPath('msl-reader'), url] }),
    frames: (r) => lastJson(r.stdout)?.['frames'] ?? null,
  });
  for (const t of ['tcp', 'udp'] as const) {
    list.push({
      id: `minimal-${t}`, label: `minimal Node reader, counts bytes (${t.toUpperCase()})`, transport: t,
      command: (url) => ({ cmd: process.execPath, args: [clientPath('minimal-reader'), url, t] }),
      frames: () => null,
    });
  }
  return list;
}

export async function runB2(opts: { clients: B2Client[]; runs: number; durationS: number; log: (s: string) => void }): Promise<{ rows: B2Row[]; serverUrl: string }> {
  const dur = opts.durationS * 1000;
  // Steady window 4–16 s of a 20 s run; scaled for shorter debug runs.
  const a = Math.round(dur * 0.2), b = Math.round(dur * 0.8);
  const server = await startGstServer({ width: 1280, height: 720, fps: 25, durationS: opts.runs * opts.clients.length * (opts.durationS + 10) + 120 });
  const results = new Map<string, { steady: number[]; total: number[]; rss: number[]; frames: number[]; failures: string[] }>();
  for (const c of opts.clients) results.set(c.id, { steady: [], total: [], rss: [], frames: [], failures: [] });
  try {
    for (let run = 0; run < opts.runs; run++) {
      for (const c of opts.clients) {
        const scratch = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : TMP, 'bench-b2-'));
        const { cmd, args, env } = c.command(server.url, scratch);
        const w = (c.warmupS ?? 0) * 1000;
        const r = await measureProcess({ cmd, args, env, cwd: ROOT, durationMs: dur + w, sampleAtMs: [a + w, b + w] });
        rmSync(scratch, { recursive: true, force: true });
        const acc = results.get(c.id)!;
        const steady = (r.samples[1]! - r.samples[0]!) / ((b - a) / 1000);
        const frames = c.frames(r);
        if (!Number.isFinite(steady) || (frames !== null && frames < opts.durationS * 25 * 0.5)) {
          acc.failures.push(`run ${run + 1}: steady=${steady} frames=${frames} stderr=${r.stderr.slice(-200).replace(/\s+/g, ' ')}`);
        }
        acc.steady.push(steady);
        acc.total.push(r.totalCpu);
        acc.rss.push(r.maxRssKiB / 1024);
        if (frames !== null) acc.frames.push(frames);
        opts.log(`B2 run ${run + 1}/${opts.runs} ${c.id}: steady ${(steady * 100).toFixed(2)} % core, total ${r.totalCpu.toFixed(2)} s, ${(r.maxRssKiB / 1024).toFixed(1)} MiB, frames ${frames ?? '-'}`);
      }
    }
  } finally {
    await server.helper.stop();
  }
  const rows = opts.clients.map((c) => {
    const acc = results.get(c.id)!;
    return {
      id: c.id, label: c.label, transport: c.transport,
      steadyCore: spread(acc.steady), totalCpuS: spread(acc.total), maxRssMiB: spread(acc.rss), frames: spread(acc.frames),
      runs: opts.runs, failures: acc.failures,
    };
  });
  return { rows, serverUrl: server.url };
}
