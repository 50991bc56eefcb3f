/**
 * `npm run bench:motion`: what motion detection on the JPEG itself costs.
 *
 * 1. Per frame, in this process: the DC-only analysis of a 1280×720 frame (DC reader +
 *    detector) against jpeg-js decoding the same frame completely, in the same run (ratio).
 *    Frames: the demo camera's scene (our encoder, quality 85, sensor noise), GStreamer
 *    videotestsrc smpte and FFmpeg testsrc2 at high quality when those are installed.
 * 2. One camera (GStreamer, 1280×720, 25 fps, jpegenc q85; the demo camera if GStreamer is
 *    missing) received by our library in a child process, with and without motion analysis
 *    at 5 frames a second: whole-process CPU from /proc over a steady window, alternating
 *    rounds, medians; the analysis's own CPU measured inside the child as well.
 *
 * Writes bench/results/motion.json and motion.md. Reported, never asserted.
 *   node --import tsx bench/motion.ts [--seconds 20] [--rounds 2]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { decode as jpegJsDecode } from 'jpeg-js';
import { readDcMap } from '../src/jpeg/dc-reader';
import { MotionDetector } from '../src/motion/detector';
import { JpegEncoder } from '../src/jpeg/encoder';
import { TestPattern } from '../src/sim/test-pattern';
import { Scene } from '../src/sim/scene';
import { startDemoCamera } from '../src/sim/demo-camera';
import { clientPath, compileClients, compileLibrary, DIST } from './lib/compile';
import { ROOT, startGstServer } from './lib/gst-server';
import { measureProcess } from './lib/proc';
import { median } from './lib/stats';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = arg('--seconds', 20);
const ROUNDS = arg('--rounds', 2);

interface FrameRow { frame: string; bytes: number; dcMs: number; readerMs: number; jpegJsMs: number; ratio: number }

function cpuMsPer(fn: () => void, minMs: number): number {
  for (let i = 0; i < 3; i++) fn(); // warm up
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

function frames(): { name: string; jpeg: Buffer }[] {
  const out: { name: string; jpeg: Buffer }[] = [];
  const enc = new JpegEncoder({ width: 1280, height: 720, subsampling: '420', quality: 85 });
  const p = enc.allocPlanes();
  const pat = new TestPattern(1280, 720, p, new Scene(1280, 720, {}, 0));
  pat.render(p, 150, 10_000);
  out.push({ name: 'demo scene, our encoder q85, noise σ 3', jpeg: enc.encode(p) });
  const gst = spawnSync('gst-launch-1.0', ['-q', 'videotestsrc', 'pattern=smpte', 'num-buffers=1', '!', 'video/x-raw,width=1280,height=720', '!', 'jpegenc', 'quality=85', '!', 'fdsink'], { maxBuffer: 1 << 24 });
  if (gst.status === 0 && gst.stdout.length > 1000) out.push({ name: 'GStreamer smpte, jpegenc q85', jpeg: gst.stdout });
  const ff = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720', '-frames:v', '1', '-q:v', '2', '-f', 'mjpeg', '-'], { maxBuffer: 1 << 24 });
  if (ff.status === 0 && ff.stdout.length > 1000) out.push({ name: 'FFmpeg testsrc2, -q:v 2', jpeg: ff.stdout });
  const ffn = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720,noise=alls=12:allf=t', '-frames:v', '1', '-q:v', '3', '-f', 'mjpeg', '-'], { maxBuffer: 1 << 24 });
  if (ffn.status === 0 && ffn.stdout.length > 1000) out.push({ name: 'FFmpeg testsrc2 + noise 12, -q:v 3 (a grainy night picture)', jpeg: ffn.stdout });
  return out;
}

function perFrame(): FrameRow[] {
  const rows: FrameRow[] = [];
  for (const { name, jpeg } of frames()) {
    const det = new MotionDetector();
    let means: Float32Array | undefined;
    let t = 0;
    const dc = (): void => {
      const m = readDcMap(jpeg, { reuse: means });
      means = m.means;
      det.analyse(m, (t += 200));
    };
    const reader = (): void => {
      means = readDcMap(jpeg, { reuse: means }).means;
    };
    const full = (): void => {
      jpegJsDecode(jpeg, { useTArray: true, formatAsRGBA: false });
    };
    const dcRounds: number[] = [], readerRounds: number[] = [], fullRounds: number[] = [];
    for (let r = 0; r < 3; r++) {
      dcRounds.push(cpuMsPer(dc, 1000));
      readerRounds.push(cpuMsPer(reader, 500));
      fullRounds.push(cpuMsPer(full, 1500));
    }
    const dcMs = median(dcRounds), jpegJsMs = median(fullRounds);
    rows.push({ frame: name, bytes: jpeg.length, dcMs, readerMs: median(readerRounds), jpegJsMs, ratio: jpegJsMs / dcMs });
    process.stdout.write(`  ${name}: ${jpeg.length} bytes, DC-only ${dcMs.toFixed(2)} ms, jpeg-js ${jpegJsMs.toFixed(1)} ms, ${(jpegJsMs / dcMs).toFixed(0)}×\n`);
  }
  return rows;
}

interface CameraRow { variant: string; cpuPct: number[]; analysisPctOfCore: number[]; frames: number[]; analysed: number[] }

async function oneCamera(): Promise<{ source: string; rows: CameraRow[] }> {
  compileClients();
  if (!compileLibrary()) throw new Error('library did not compile');
  let url: string;
  let stop: () => Promise<void>;
  let source: string;
  try {
    const g = await startGstServer({ width: 1280, height: 720, fps: 25, quality: 85, durationS: (SECONDS + 15) * ROUNDS * 2 + 60 });
    url = g.url;
    stop = () => g.helper.stop();
    source = 'GStreamer videotestsrc smpte 1280×720 25 fps, jpegenc q85, TCP';
  } catch {
    const d = await startDemoCamera({ port: 0, width: 1280, height: 720, fps: 25, scene: true });
    url = d.url;
    stop = () => d.close();
    source = 'demo camera scene 1280×720 25 fps (GStreamer missing), TCP';
  }
  const rows: CameraRow[] = [
    { variant: 'receive only', cpuPct: [], analysisPctOfCore: [], frames: [], analysed: [] },
    { variant: 'receive + motion at 5 fps', cpuPct: [], analysisPctOfCore: [], frames: [], analysed: [] },
  ];
  const warm = 6000;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, rate] of [[0, 0], [1, 5]] as const) {
        const m = await measureProcess({
          cmd: process.execPath, args: [clientPath('motion-reader'), DIST, url, String(rate)],
          durationMs: warm + SECONDS * 1000, sampleAtMs: [warm, warm + SECONDS * 1000],
        });
        const cpu = m.samples[1]! - m.samples[0]!;
        const out = JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}') as { frames?: number; analysed?: number; analysisMs?: number };
        rows[i]!.cpuPct.push((100 * cpu) / SECONDS);
        rows[i]!.frames.push(out.frames ?? 0);
        rows[i]!.analysed.push(out.analysed ?? 0);
        rows[i]!.analysisPctOfCore.push(((out.analysisMs ?? 0) / ((warm + SECONDS * 1000))) * 100);
        process.stdout.write(`  round ${r + 1}, ${rows[i]!.variant}: ${((100 * cpu) / SECONDS).toFixed(2)} % of a core, ${out.frames} frames, ${out.analysed} analysed\n`);
      }
    }
  } finally {
    await stop();
  }
  return { source, rows };
}

async function main(): Promise<void> {
  process.stdout.write(`bench:motion on ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}\n1. one 1280×720 frame, CPU per frame (median of 3 rounds)\n`);
  const frameRows = perFrame();
  process.stdout.write(`2. one camera, ${ROUNDS} rounds of ${SECONDS} s per variant\n`);
  const cam = await oneCamera();
  const [recv, motion] = cam.rows as [CameraRow, CameraRow];
  const summary = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    node: process.version,
    date: new Date().toISOString(),
    perFrame: frameRows,
    camera: {
      source: cam.source,
      receiveOnlyPct: median(recv.cpuPct),
      withMotionPct: median(motion.cpuPct),
      motionCostPct: median(motion.cpuPct) - median(recv.cpuPct),
      analysisInsidePct: median(motion.analysisPctOfCore),
      rows: cam.rows,
    },
  };
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'motion.json'), JSON.stringify(summary, null, 2) + '\n');
  const md = [
    `# Motion detection cost (bench/motion.ts)`,
    '',
    `${summary.machine}, Node ${summary.node}, ${summary.date.slice(0, 10)}. CPU time from process.cpuUsage (per frame) and /proc (per process).`,
    '',
    '| 1280×720 frame | bytes | DC-only analysis (ms CPU) | DC reader alone (ms) | jpeg-js full decode (ms) | jpeg-js ÷ DC-only |',
    '|---|---:|---:|---:|---:|---:|',
    ...frameRows.map((r) => `| ${r.frame} | ${r.bytes} | ${r.dcMs.toFixed(2)} | ${r.readerMs.toFixed(2)} | ${r.jpegJsMs.toFixed(1)} | ${r.ratio.toFixed(0)}× |`),
    '',
    `One camera (${cam.source}), whole child process, median of ${ROUNDS} rounds of ${SECONDS} s:`,
    '',
    '| variant | % of one core | frames received | frames analysed |',
    '|---|---:|---:|---:|',
    ...cam.rows.map((r) => `| ${r.variant} | ${median(r.cpuPct).toFixed(2)} % | ${median(r.frames)} | ${median(r.analysed)} |`),
    '',
    `Motion at 5 fps adds ${summary.camera.motionCostPct.toFixed(2)} % of a core (whole process difference); the analysis itself, timed inside the process, takes ${summary.camera.analysisInsidePct.toFixed(2)} % of a core.`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'motion.md'), md);
  process.stdout.write(`\n${md}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:motion failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
