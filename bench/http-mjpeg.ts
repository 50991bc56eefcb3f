/**
 * HTTP MJPEG receive cost: one 640×480 15 fps multipart stream (the demo camera's HTTP side,
 * its own process: one encoder, the same parts to every viewer at the same time) received at
 * once by our library (bench/clients/http-reader.ts, compiled, plain node) and by
 * `ffmpeg -f mjpeg -i URL -c copy -f image2pipe /dev/null`, and, for scale, by a Node process
 * that only reads the socket into one reused buffer (bench/clients/http-floor.ts: what Node
 * itself costs on this stream). After a warm-up, a steady window:
 * CPU (utime+stime from /proc/<pid>/stat) and wake-ups (voluntary + involuntary context
 * switches summed over every thread in /proc/<pid>/task/*) of each process, and the frames
 * each received in the window. Printed as ratios ours / ffmpeg from this one run.
 *
 *   node --import tsx bench/http-mjpeg.ts [--warmup 5] [--window 20] [--runs 3]
 *
 * Not part of `npm run bench`; writes bench/results/http-mjpeg.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileClients, compileLibrary, clientPath, DIST } from './lib/compile';
import { ROOT } from './lib/gst-server';
import { readProcCpu, sleep, startHelper } from './lib/proc';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}
const WARMUP_S = arg('warmup', 5);
const WINDOW_S = arg('window', 20);
const RUNS = arg('runs', 3);

/** voluntary + involuntary context switches of every thread of `pid` */
function wakeups(pid: number): number {
  let n = 0;
  let tasks: string[] = [];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return NaN; }
  for (const t of tasks) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      n += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0);
    } catch { /* thread gone */ }
  }
  return n;
}

interface Side { cpuS: number; wakeups: number; frames: number; threads: number }

function spawnClient(cmd: string, args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20000); });
  child.stderr!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20000); });
  return { child, out: () => out };
}

const ffmpegFrames = (s: string): number => Number([...s.replace(/\r/g, '\n').matchAll(/frame=\s*(\d+)/g)].pop()?.[1] ?? NaN);
const ourFrames = (s: string): number => Number([...s.matchAll(/^frames (\d+)$/gm)].pop()?.[1] ?? NaN);

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  try { process.kill(c.pid!, 'SIGTERM'); } catch { /* gone */ }
  await Promise.race([done, sleep(5000)]);
  if (c.exitCode === null) { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } }
}

async function oneRun(url: string): Promise<{ ours: Side; ffmpeg: Side; floor: Side }> {
  const ours = spawnClient(process.execPath, [clientPath('http-reader'), DIST, url]);
  const floor = spawnClient(process.execPath, [clientPath('http-floor'), url]);
  const ff = spawnClient('ffmpeg', ['-nostdin', '-loglevel', 'error', '-stats', '-f', 'mjpeg', '-i', url, '-c', 'copy', '-f', 'image2pipe', '-y', '/dev/null']);
  try {
    await sleep(WARMUP_S * 1000);
    const at = (c: ChildProcess): { cpu: number; wake: number } => ({ cpu: readProcCpu(c.pid!)?.cpu ?? NaN, wake: wakeups(c.pid!) });
    const a0 = at(ours.child);
    const b0 = at(ff.child);
    const c0 = at(floor.child);
    const ffFrames0 = ffmpegFrames(ff.out());
    const ourFrames0 = ourFrames(ours.out());
    await sleep(WINDOW_S * 1000);
    const a1 = at(ours.child);
    const b1 = at(ff.child);
    const c1 = at(floor.child);
    const ffFrames1 = ffmpegFrames(ff.out());
    const ourFrames1 = ourFrames(ours.out());
    const threads = (c: ChildProcess): number => { try { return readdirSync(`/proc/${c.pid!}/task`).length; } catch { return NaN; } };
    const tOurs = threads(ours.child);
    const tFf = threads(ff.child);
    return {
      ours: { cpuS: a1.cpu - a0.cpu, wakeups: a1.wake - a0.wake, frames: ourFrames1 - ourFrames0, threads: tOurs },
      ffmpeg: { cpuS: b1.cpu - b0.cpu, wakeups: b1.wake - b0.wake, frames: ffFrames1 - ffFrames0, threads: tFf },
      floor: { cpuS: c1.cpu - c0.cpu, wakeups: c1.wake - c0.wake, frames: NaN, threads: threads(floor.child) },
    };
  } finally {
    await stop(ours.child);
    await stop(ff.child);
    await stop(floor.child);
  }
}

async function main(): Promise<void> {
  compileClients();
  if (!compileLibrary()) throw new Error('library did not compile');
  const { helper, match } = await startHelper(process.execPath, [join(DIST, 'cli.js'), 'demo-camera', '--port', '0', '--http-port', '0', '--width', '640', '--height', '480', '--fps', '15'],
    /demo camera over HTTP: (http:\/\/\S+)\/stream/, 20000);
  const url = `${match[1]!}/stream`;
  const rows: { ours: Side; ffmpeg: Side; floor: Side }[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const r = await oneRun(url);
      rows.push(r);
      const ratio = r.ours.cpuS / r.ffmpeg.cpuS;
      process.stdout.write(`run ${i + 1}: ours ${(r.ours.cpuS * 1000).toFixed(0)} ms CPU, ${r.ours.wakeups} wake-ups, ${r.ours.frames} frames; `
        + `ffmpeg ${(r.ffmpeg.cpuS * 1000).toFixed(0)} ms CPU, ${r.ffmpeg.wakeups} wake-ups, ${r.ffmpeg.frames} frames; `
        + `node floor ${(r.floor.cpuS * 1000).toFixed(0)} ms CPU, ${r.floor.wakeups} wake-ups; CPU ratio ours/ffmpeg ${ratio.toFixed(2)}\n`);
    }
  } finally {
    await helper.stop();
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const pct = (cpuS: number): string => `${((cpuS / WINDOW_S) * 100).toFixed(2)} %`;
  const o = { cpu: med(rows.map((r) => r.ours.cpuS)), wake: med(rows.map((r) => r.ours.wakeups)), frames: med(rows.map((r) => r.ours.frames)), threads: rows[0]!.ours.threads };
  const f = { cpu: med(rows.map((r) => r.ffmpeg.cpuS)), wake: med(rows.map((r) => r.ffmpeg.wakeups)), frames: med(rows.map((r) => r.ffmpeg.frames)), threads: rows[0]!.ffmpeg.threads };
  const z = { cpu: med(rows.map((r) => r.floor.cpuS)), wake: med(rows.map((r) => r.floor.wakeups)), threads: rows[0]!.floor.threads };
  const ratios = rows.map((r) => r.ours.cpuS / r.ffmpeg.cpuS);
  const md = [
    `# HTTP MJPEG receive: our library vs \`ffmpeg -f mjpeg -i URL -c copy\``,
    '',
    `One 640×480 15 fps multipart stream (the demo camera's HTTP side, ~20 kB per frame), both clients on it at the same time; ${WARMUP_S} s warm-up, then a ${WINDOW_S} s window; ${RUNS} runs, medians; Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Command: \`node --import tsx bench/http-mjpeg.ts --runs ${RUNS} --warmup ${WARMUP_S} --window ${WINDOW_S}\`. CPU from /proc in 10 ms ticks.`,
    '',
    '| client | CPU in the window | share of one core | wake-ups (all threads) | wake-ups per frame | frames | threads |',
    '|---|---|---|---|---|---|---|',
    `| ours (openCamera, http-reader) | ${(o.cpu * 1000).toFixed(0)} ms | ${pct(o.cpu)} | ${o.wake} | ${(o.wake / o.frames).toFixed(2)} | ${o.frames} | ${o.threads} |`,
    `| ffmpeg -f mjpeg -c copy | ${(f.cpu * 1000).toFixed(0)} ms | ${pct(f.cpu)} | ${f.wake} | ${(f.wake / f.frames).toFixed(2)} | ${f.frames} | ${f.threads} |`,
    `| Node floor (reads only, one reused buffer) | ${(z.cpu * 1000).toFixed(0)} ms | ${pct(z.cpu)} | ${z.wake} | — | — | ${z.threads} |`,
    '',
    `CPU ratio ours / ffmpeg per run: ${ratios.map((x) => x.toFixed(2)).join(', ')} (median ${med(ratios).toFixed(2)}); Node floor / ffmpeg ${(z.cpu / f.cpu).toFixed(2)}. Wake-up ratio ours / ffmpeg: ${(o.wake / f.wake).toFixed(2)}.`,
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'bench', 'results', 'http-mjpeg.md'), md);
  process.stdout.write(`\n${md}`);
}

main().catch((e: unknown) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
