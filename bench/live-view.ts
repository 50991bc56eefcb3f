/**
 * `npm run bench:live-view`: what browsers watching a camera through `mjpeg http out` cost
 * Node-RED. One real Node-RED 4 process (red.js) with rtsp-camera → mjpeg http out, one
 * GStreamer RTSP server sending 1280×720 at 25 fps, and a separate viewer process. In one
 * run the same Node-RED goes through 0 (the camera alone), 1, 10 and 50 viewers; for each
 * phase its CPU (from /proc/<pid>/stat over a steady window) and RSS are reported as a ratio
 * to the camera alone, and the cost of one more viewer as a fraction of the camera's.
 * Writes bench/results/live-view.json and live-view.md. Reported, never asserted.
 *
 *   node --import tsx bench/live-view.ts [--seconds 15] [--rounds 3] [--viewers 1,10,50]
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { clientPath, compileClients, compileLibrary, DIST, TMP } from './lib/compile';
import { ROOT, startGstServer } from './lib/gst-server';
import { RED_JS } from './lib/node-red';
import { readProcCpu, sleep, startHelper, type Helper } from './lib/proc';
import { median } from './lib/stats';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function userDirFor(cameraUrl: string, port: number): string {
  mkdirSync(TMP, { recursive: true });
  const userDir = mkdtempSync(join(TMP, 'liveview-'));
  const nodesDir = join(userDir, 'bench-nodes');
  mkdirSync(nodesDir, { recursive: true });
  for (const f of readdirSync(join(ROOT, 'nodes'))) {
    if (!f.endsWith('.html')) continue;
    const base = f.slice(0, -5);
    cpSync(join(ROOT, 'nodes', f), join(nodesDir, f));
    writeFileSync(join(nodesDir, `${base}.js`), `module.exports = require(${JSON.stringify(join(DIST, 'nodes', `${base}.js`))});\n`);
  }
  cpSync(join(ROOT, 'nodes', 'locales'), join(nodesDir, 'locales'), { recursive: true });
  cpSync(join(ROOT, 'icons'), join(nodesDir, 'icons'), { recursive: true });
  writeFileSync(join(userDir, 'settings.js'), `module.exports = {
  uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', nodesDir: [${JSON.stringify(nodesDir)}],
  logging: { console: { level: 'info', metrics: false, audit: false } }, editorTheme: { tours: false }, credentialSecret: 'bench-only',
  telemetry: { enabled: false, updateNotification: false }, diagnostics: { enabled: false, ui: false },
};\n`);
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify([
    { id: 'lvtab', type: 'tab', label: 'bench' },
    { id: 'lvcam', type: 'rtsp-camera', name: 'bench', url: cameraUrl, transport: 'tcp', connect: 'always' },
    { id: 'lvout', type: 'mjpeg http out', z: 'lvtab', camera: 'lvcam', path: '/bench', maxFps: 0, maxViewers: 1000, x: 100, y: 100, wires: [] },
  ]));
  return userDir;
}

interface Phase { viewers: number; cpuPct: number; rssMiB: number; viewerFps: number; viewerMbps: number; viewerCpuPct: number }

async function main(): Promise<void> {
  const seconds = Number(arg('--seconds') ?? 15);
  const counts = (arg('--viewers') ?? '1,10,50').split(',').map(Number);
  const rounds = Math.max(1, Number(arg('--rounds') ?? 3));
  compileClients();
  if (!compileLibrary() || !existsSync(join(DIST, 'nodes', 'mjpeg-http-out.js'))) throw new Error('the library did not compile');
  const gst = await startGstServer({ width: 1280, height: 720, fps: 25, durationS: 60 + rounds * (counts.length + 1) * (seconds + 5) * 2 });
  const port = await freePort();
  const userDir = userDirFor(gst.url, port);
  let red: Helper | null = null;
  const viewer = spawn(process.execPath, [clientPath('mjpeg-viewers'), `http://127.0.0.1:${port}/bench`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const replies = createInterface({ input: viewer.stdout });
  const ask = (line: string): Promise<Record<string, number>> => new Promise((resolve) => {
    replies.once('line', (l) => resolve(JSON.parse(l) as Record<string, number>));
    viewer.stdin.write(`${line}\n`);
  });
  try {
    ({ helper: red } = await startHelper(process.execPath, [RED_JS, '--userDir', userDir, '--settings', join(userDir, 'settings.js')],
      /Server now running at/, 60000));
    const pid = red.pid;
    await sleep(5000); // the camera connects and the JIT settles
    const measured: Phase[] = [];
    // the phases are repeated in rounds and each figure is the median over the rounds: a
    // shared machine's noise then moves all of them, not one phase
    for (let round = 0; round < rounds; round++) for (const n of [0, ...counts]) {
      await ask(String(n));
      await sleep(3000);
      const c0 = readProcCpu(pid);
      const v0 = readProcCpu(viewer.pid!);
      const r0 = await ask('report');
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const c1 = readProcCpu(pid);
      const v1 = readProcCpu(viewer.pid!);
      const r1 = await ask('report');
      const dt = (performance.now() - t0) / 1000;
      if (!c0 || !c1 || !v0 || !v1) throw new Error('a process went away');
      const phase: Phase = {
        viewers: n,
        cpuPct: ((c1.cpu - c0.cpu) / dt) * 100,
        rssMiB: c1.rssKiB / 1024,
        viewerFps: n ? ((r1.parts ?? 0) - (r0.parts ?? 0)) / dt / n : 0,
        viewerMbps: n ? (((r1.bytes ?? 0) - (r0.bytes ?? 0)) * 8) / dt / 1e6 / n : 0,
        viewerCpuPct: ((v1.cpu - v0.cpu) / dt) * 100,
      };
      measured.push(phase);
      process.stderr.write(`round ${round + 1}: ${JSON.stringify(phase)}\n`);
    }
    const phases: Phase[] = [0, ...counts].map((n) => {
      const of = measured.filter((p) => p.viewers === n);
      const med = (k: keyof Phase): number => median(of.map((p) => p[k]));
      return { viewers: n, cpuPct: med('cpuPct'), rssMiB: med('rssMiB'), viewerFps: med('viewerFps'), viewerMbps: med('viewerMbps'), viewerCpuPct: med('viewerCpuPct') };
    });
    const base = phases[0] as Phase;
    const first = phases.find((p) => p.viewers === 1);
    const rows = phases.map((p) => ({
      ...p,
      cpuRatio: p.cpuPct / base.cpuPct,
      perViewer: p.viewers ? (p.cpuPct - base.cpuPct) / p.viewers / base.cpuPct : 0,
      // what one more viewer costs once the stream is served at all
      perViewerBeyondFirst: first && p.viewers > 1 ? (p.cpuPct - first.cpuPct) / (p.viewers - 1) / base.cpuPct : null,
      rssRatio: p.rssMiB / base.rssMiB,
    }));
    const result = { date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version }, camera: '1280×720 25 fps (GStreamer, TCP)', seconds, rounds, rows, measured };
    const out = join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'live-view.json'), `${JSON.stringify(result, null, 2)}\n`);
    const md = [
      `Live view bench (${result.date}, ${result.machine.cpus}× ${result.machine.model}, Node ${result.machine.node}): one ${result.camera} camera → mjpeg http out, Node-RED process only, ${seconds} s per phase, median of ${rounds} rounds.`,
      '',
      '| viewers | Node-RED CPU (% of a core) | × camera alone | per viewer, × camera | per viewer beyond the first, × camera | RSS MiB | × camera alone | fps per viewer | Mbit/s per viewer |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.viewers === 0 ? '0 (camera alone)' : r.viewers} | ${r.cpuPct.toFixed(2)} % | ${r.cpuRatio.toFixed(2)} | ${r.viewers ? r.perViewer.toFixed(3) : '–'} | ${r.perViewerBeyondFirst === null ? '–' : r.perViewerBeyondFirst.toFixed(3)} | ${r.rssMiB.toFixed(0)} | ${r.rssRatio.toFixed(2)} | ${r.viewers ? r.viewerFps.toFixed(1) : '–'} | ${r.viewers ? r.viewerMbps.toFixed(1) : '–'} |`),
      '',
    ].join('\n');
    writeFileSync(join(out, 'live-view.md'), md);
    process.stdout.write(md);
  } finally {
    viewer.stdin.end();
    viewer.kill();
    await red?.stop();
    await gst.helper.stop();
    rmSync(userDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
