/**
 * What one camera costs a whole Node-RED process, by camera size: the flow camera → rtsp
 * camera in → function (returns nothing), fed by the demo camera in its own process, for a
 * 1280×720 25 fps stream (the baseline), a 640×480 10 fps sub-stream and a 640×480 1 fps
 * trickle (about what an idle Node-RED with one connected camera costs). Each case runs in its
 * own Node-RED, 10 s warm-up then 20 s measured; rounds alternate the cases; the ratios to
 * the baseline of the same round are what to read (the machine is shared and noisy).
 *
 * npm run bench:sizes [-- --rounds N]   (needs a build: npm install or npm run build)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const CLK_TCK = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

/** % of one core the Node-RED process used while receiving one camera of this size */
async function measure(width: number, height: number, fps: number): Promise<number> {
  const camPort = await freePort();
  const uiPort = await freePort();
  const cam = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'demo-camera', '--port', String(camPort), '--width', String(width), '--height', String(height), '--fps', String(fps)], { stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'bench-sizes-'));
  let red: ChildProcess | undefined;
  try {
    await sleep(1500);
    writeFileSync(join(dir, 'settings.js'), `module.exports = { uiHost: '127.0.0.1', uiPort: ${uiPort}, flowFile: 'flows.json', nodesDir: [${JSON.stringify(ROOT)}],
  logging: { console: { level: 'warn' } }, editorTheme: { tours: false }, telemetry: { enabled: false, updateNotification: false } };\n`);
    writeFileSync(join(dir, 'flows.json'), JSON.stringify([
      { id: 't', type: 'tab', label: 'bench' },
      { id: 'c', type: 'rtsp-camera', name: 'bench camera', url: `rtsp://127.0.0.1:${camPort}/demo`, transport: 'tcp' },
      { id: 'i', type: 'rtsp-mjpeg in', z: 't', camera: 'c', maxFps: 0, mode: 'stream', wires: [['f']] },
      { id: 'f', type: 'function', z: 't', func: 'return null;', outputs: 1, wires: [[]] },
    ]));
    red = spawn(process.execPath, [join(ROOT, 'node_modules', 'node-red', 'red.js'), '-u', dir, '-s', join(dir, 'settings.js')], { stdio: 'ignore' });
    await sleep(10_000);
    const c0 = cpuSeconds(red.pid!);
    const t0 = process.hrtime.bigint();
    await sleep(20_000);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    return ((cpuSeconds(red.pid!) - c0) / secs) * 100;
  } finally {
    if (red) await stop(red);
    await stop(cam);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Math.max(1, Math.min(10, Number(process.argv[i + 1]) || 2)) : 2;
  const cases = [
    { name: '1280×720 25 fps', w: 1280, h: 720, fps: 25 },
    { name: '640×480 10 fps', w: 640, h: 480, fps: 10 },
    { name: '640×480 1 fps', w: 640, h: 480, fps: 1 },
  ];
  console.log(`Node-RED process CPU, one camera (camera → rtsp camera in → function), ${rounds} round(s)`);
  console.log('| round | case | % of one core | × 1280×720 25 fps |\n|---|---|---|---|');
  for (let r = 1; r <= rounds; r++) {
    const got: number[] = [];
    for (const c of cases) got.push(await measure(c.w, c.h, c.fps));
    cases.forEach((c, k) => console.log(`| ${r} | ${c.name} | ${got[k]!.toFixed(2)} % | ${(got[k]! / got[0]!).toFixed(2)} |`));
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
