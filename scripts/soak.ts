/**
 * Soak test: stream from the demo camera under packet loss for N minutes and print
 * the client's RSS and heap every minute, then the RSS/heap slope after warm-up.
 *
 *   npm run soak -- --minutes 10 [--loss 1] [--transport udp|tcp] [--fps 15] [--width 640 --height 480]
 *                   [--warmup 1] [--sample-sec 10] [--json FILE]
 *
 * The demo camera runs in a child process so the figures are the client's alone (the
 * camera's encoder caches would otherwise dominate). Heap is measured after a forced GC
 * (v8 `--expose-gc` set at run time) so it shows retained memory, not garbage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { openCamera } from '../src/camera/open';
import { startDemoCamera } from '../src/sim/demo-camera';
import type { CameraState } from '../src/camera/types';

interface Args {
  minutes: number;
  loss: number;
  transport: 'udp' | 'tcp';
  fps: number;
  width: number;
  height: number;
  warmup: number;
  sampleSec: number;
  json: string | null;
  child: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { minutes: 10, loss: 1, transport: 'udp', fps: 15, width: 640, height: 480, warmup: 1, sampleSec: 10, json: null, child: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const n = (): number => {
      const x = Number(v());
      if (!Number.isFinite(x) || x < 0) throw new Error(`${k} needs a non-negative number`);
      return x;
    };
    switch (k) {
      case '--minutes': a.minutes = n(); break;
      case '--loss': a.loss = n(); break;
      case '--transport': {
        const t = v();
        if (t !== 'udp' && t !== 'tcp') throw new Error('--transport udp|tcp');
        a.transport = t;
        break;
      }
      case '--fps': a.fps = n(); break;
      case '--width': a.width = n(); break;
      case '--height': a.height = n(); break;
      case '--warmup': a.warmup = n(); break;
      case '--sample-sec': a.sampleSec = Math.max(1, n()); break;
      case '--json': a.json = v(); break;
      case '--camera-child': a.child = true; break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  if (!(a.minutes > 0)) throw new Error('--minutes must be > 0');
  return a;
}

/** Child mode: run the demo camera until the parent goes away; print the URL on stdout. */
async function runCameraChild(a: Args): Promise<void> {
  const cam = await startDemoCamera({ fps: a.fps, width: a.width, height: a.height, faults: { lossPercent: a.loss } });
  process.stdout.write(`URL ${cam.url}\n`);
  const stop = (): void => { void cam.close().then(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

function startCameraProcess(a: Args): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--camera-child', '--loss', String(a.loss), '--fps', String(a.fps), '--width', String(a.width), '--height', String(a.height)], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('demo camera did not start within 20 s')), 20000);
    child.on('exit', (code) => reject(new Error(`demo camera exited (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /URL (\S+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
  });
}

const MB = 1024 * 1024;

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

interface Sample { t: number; rss: number; heap: number; ext: number; frames: number; dropped: number; state: CameraState }

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) return runCameraChild(a);

  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;

  const { child, url } = await startCameraProcess(a);
  const cam = openCamera(url, { transport: a.transport, reconnectMinMs: 500, reconnectMaxMs: 5000, stallTimeoutMs: 5000 });
  let frames = 0;
  let bytes = 0;
  const states: Record<string, number> = {};
  cam.on('frame', (jpeg) => { frames++; bytes += jpeg.length; });
  cam.on('state', (s) => { states[s.state] = (states[s.state] ?? 0) + 1; });
  cam.on('error', () => { /* counted through the state changes */ });

  const t0 = Date.now();
  const samples: Sample[] = [];
  const take = (): Sample => {
    gc();
    const m = process.memoryUsage();
    const st = cam.getStats();
    const s: Sample = { t: (Date.now() - t0) / 60000, rss: m.rss / MB, heap: m.heapUsed / MB, ext: (m.external + m.arrayBuffers) / MB, frames: st.framesEmitted, dropped: st.framesDropped, state: cam.state };
    samples.push(s);
    return s;
  };
  process.stdout.write(`soak: ${url} transport=${a.transport} loss=${a.loss}% fps=${a.fps} ${a.width}x${a.height} for ${a.minutes} min (warm-up ${a.warmup} min)\n`);
  process.stdout.write('minute   rss_MB  heap_MB  ext_MB   frames  dropped  state\n');
  const print = (s: Sample): void => {
    process.stdout.write(`${s.t.toFixed(2).padStart(6)} ${s.rss.toFixed(1).padStart(8)} ${s.heap.toFixed(2).padStart(8)} ${s.ext.toFixed(2).padStart(7)} ${String(s.frames).padStart(8)} ${String(s.dropped).padStart(8)}  ${s.state}\n`);
  };
  print(take());
  const endAt = t0 + a.minutes * 60000;
  let nextPrint = t0 + 60000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const s = take();
      if (Date.now() >= nextPrint - 500) {
        print(s);
        nextPrint += 60000;
      }
      if (Date.now() >= endAt - 500) {
        clearInterval(timer);
        resolve();
      }
    }, a.sampleSec * 1000);
  });
  await cam.close();
  child.stdin!.end();
  child.kill('SIGTERM');

  const warm = samples.filter((s) => s.t >= a.warmup);
  const rssSlope = slope(warm.map((s) => s.t), warm.map((s) => s.rss));
  const heapSlope = slope(warm.map((s) => s.t), warm.map((s) => s.heap));
  const last = samples[samples.length - 1]!;
  const summary = {
    minutes: a.minutes, transport: a.transport, lossPercent: a.loss, frames, megabytes: Math.round((bytes / MB) * 10) / 10,
    framesDropped: last.dropped, stateChanges: states,
    rssSlopeMBPerMin: Math.round(rssSlope * 1000) / 1000, heapSlopeMBPerMin: Math.round(heapSlope * 1000) / 1000,
    rssAfterWarmupMB: warm.length ? [Math.min(...warm.map((s) => s.rss)), Math.max(...warm.map((s) => s.rss))].map((x) => Math.round(x * 10) / 10) : [],
    samplesAfterWarmup: warm.length,
  };
  process.stdout.write(`summary ${JSON.stringify(summary)}\n`);
  if (a.json) writeFileSync(a.json, JSON.stringify({ summary, samples }, null, 2));
  process.exitCode = frames > 0 ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`soak: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
