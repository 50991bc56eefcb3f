/**
 * A/B of library builds on B2's setup: one 1280×720 25 fps stream from GStreamer's RTSP
 * server; each build's ours-reader (and the minimal Node reader as the floor) runs alone for
 * 20 s, steady CPU = CPU seconds between 4 s and 16 s, runs alternating so both builds see the
 * same machine. Usage:
 *   npx tsc -p tsconfig.json --outDir bench/results/tmp/ab-old   (on the old tree)
 *   npx tsc -p tsconfig.json --outDir bench/results/tmp/ab-new   (on the new tree)
 *   npx tsx bench/ab.ts <runs> old=$PWD/bench/results/tmp/ab-old new=$PWD/bench/results/tmp/ab-new
 * (build outputs inside the repository, so that they find node_modules).
 */
import { compileClients, clientPath } from './lib/compile';
import { startGstServer, ROOT } from './lib/gst-server';
import { measureProcess } from './lib/proc';
const [runsA, ...rest] = process.argv.slice(2);
const runs = Math.max(1, Number(runsA ?? 3));
const variants = rest.map((s) => s.split('='));
void (async (): Promise<void> => {
  compileClients();
  const server = await startGstServer({ width: 1280, height: 720, fps: 25, durationS: 3600 });
  const res: Record<string, number[]> = {};
  try {
    for (let r = 0; r < runs; r++) {
      for (const t of ['tcp', 'udp']) {
        const list: [string, string[]][] = variants.map(([name, dist]) => [`${name}-${t}`, [clientPath('ours-reader'), dist!, server.url, t]]);
        list.push([`minimal-${t}`, [clientPath('minimal-reader'), server.url, t]]);
        for (const [id, args] of list) {
          const m = await measureProcess({ cmd: process.execPath, args, cwd: ROOT, durationMs: 20000, sampleAtMs: [4000, 16000] });
          const steady = (m.samples[1]! - m.samples[0]!) / 12;
          (res[id] ??= []).push(steady * 100);
          console.log(id, (steady * 100).toFixed(2), m.totalCpu.toFixed(2), m.stdout.trim().split('\n').pop()?.slice(0, 60));
        }
      }
    }
  } finally { await server.helper.stop(); }
  for (const [k, v] of Object.entries(res)) { const s = [...v].sort((a, b) => a - b); console.log(k.padEnd(20), 'median', s[Math.floor(s.length / 2)]!.toFixed(2), 'all', s.map((x) => x.toFixed(2)).join(' ')); }
})();
