/**
 * B3: streams per core. N concurrent 720p25 streams into ONE Node process (our library,
 * openCamera × N), from a separate cheap sender process that replays GStreamer-recorded
 * packets (bench/clients/replay-sender.ts), over TCP and UDP. Steady-state CPU of the
 * receiver from /proc over the middle of the run; streams/core = N / (fraction of a core).
 * Lost frames are counted by the receiver from the RTP-timestamp span it saw.
 * The same N streams are also received by N ffmpeg processes (TCP, smaller N) for the chart.
 * RSS at the end of the window feeds B5 (RSS per additional stream).
 */
import { spawn } from 'node:child_process';
import { clientPath, DIST } from './lib/compile';
import { ROOT } from './lib/gst-server';
import { measureProcess, readProcCpu, readProcCpuSum, sleep, startHelper } from './lib/proc';
import { recordingFile } from './lib/recordings';

export interface B3Row {
  transport: 'tcp' | 'udp';
  n: number;
  /** receiver: fraction of one core, steady window */
  core: number;
  streamsPerCore: number;
  /** CPU ms per stream per second */
  msPerStreamPerS: number;
  framesReceived: number;
  framesLost: number;
  framesDropped: number;
  silentStreams: number;
  rssMiB: number;
  /** sender process, fraction of a core (a saturated sender caps what N can show) */
  senderCore: number;
  senderSkipped: number;
}

export interface FfmpegNRow { n: number; core: number; rssMiB: number }

async function startSender(fps: number): Promise<{ url: string; pid: number; stop: () => Promise<string> }> {
  const { helper, match } = await startHelper(process.execPath, [clientPath('replay-sender'), recordingFile(1280, 720, 250), String(fps)], /READY (\S+)/, 10000);
  return {
    url: match[1]!, pid: helper.pid,
    stop: async () => { await helper.stop(); return helper.output(); },
  };
}

export async function runB3(opts: { ns: number[]; ffmpegNs: number[]; durationS: number; log: (s: string) => void }): Promise<{ rows: B3Row[]; ffmpeg: FfmpegNRow[]; windowS: [number, number] }> {
  const rows: B3Row[] = [];
  const dur = opts.durationS * 1000;
  const a = Math.round(dur * 0.35), b = Math.round(dur * 0.9);
  for (const transport of ['tcp', 'udp'] as const) {
    for (const n of opts.ns) {
      const sender = await startSender(25);
      let s0 = 0;
      setTimeout(() => { s0 = readProcCpu(sender.pid)?.cpu ?? NaN; }, a);
      let s1 = 0;
      setTimeout(() => { s1 = readProcCpu(sender.pid)?.cpu ?? NaN; }, b);
      let rss = NaN;
      const r = await measureProcess({ cmd: process.execPath, args: [clientPath('ours-reader'), DIST, sender.url, transport, String(n)], cwd: ROOT, durationMs: dur, sampleAtMs: [a, b], rssEveryMs: 1000 });
      rss = r.rssSeries.length ? r.rssSeries[r.rssSeries.length - 1]![1] / 1024 : NaN;
      const out = await sender.stop();
      const sc = JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}') as { senderSkipped?: number };
      const res = JSON.parse(r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}') as { frames?: number; lost?: number; dropped?: number; silent?: number };
      const core = (r.samples[1]! - r.samples[0]!) / ((b - a) / 1000);
      const row: B3Row = {
        transport, n, core, streamsPerCore: n / core, msPerStreamPerS: (core * 1000) / n,
        framesReceived: res.frames ?? NaN, framesLost: res.lost ?? NaN, framesDropped: res.dropped ?? NaN, silentStreams: res.silent ?? NaN,
        rssMiB: rss, senderCore: (s1 - s0) / ((b - a) / 1000), senderSkipped: sc.senderSkipped ?? NaN,
      };
      opts.log(`B3 ${transport} N=${n}: receiver ${(core * 100).toFixed(1)} % core → ${row.streamsPerCore.toFixed(0)} streams/core; frames ${row.framesReceived} lost ${row.framesLost} dropped ${row.framesDropped} silent ${row.silentStreams}; RSS ${rss.toFixed(1)} MiB; sender ${(row.senderCore * 100).toFixed(0)} %`);
      rows.push(row);
    }
  }
  const ffRows: FfmpegNRow[] = [];
  for (const n of opts.ffmpegNs) {
    const sender = await startSender(25);
    const kids = Array.from({ length: n }, () => spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', sender.url, '-c', 'copy', '-f', 'image2pipe', '-y', '/dev/null'], { detached: true, stdio: 'ignore' }));
    const pids = kids.map((k) => k.pid!);
    try {
      await sleep(a);
      const c0 = readProcCpuSum(pids);
      await sleep(b - a);
      const c1 = readProcCpuSum(pids);
      const core = ((c1?.cpu ?? NaN) - (c0?.cpu ?? NaN)) / ((b - a) / 1000);
      ffRows.push({ n, core, rssMiB: (c1?.rssKiB ?? NaN) / 1024 });
      opts.log(`B3 ffmpeg×${n} tcp: ${(core * 100).toFixed(1)} % core, RSS sum ${((c1?.rssKiB ?? NaN) / 1024).toFixed(0)} MiB`);
    } finally {
      for (const p of pids) { try { process.kill(-p, 'SIGKILL'); } catch { /* gone */ } }
      await sender.stop();
    }
  }
  return { rows, ffmpeg: ffRows, windowS: [a / 1000, b / 1000] };
}
