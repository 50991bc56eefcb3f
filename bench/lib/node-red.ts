/**
 * "Ours inside Node-RED": a real Node-RED 4 process (node_modules/node-red/red.js) with a
 * temporary user dir: settings.js pointing nodesDir at a private copy of our node files
 * (requiring the bench's compiled library, so the package's dist/ is never touched), and a
 * flows.json written before start (rtsp-camera → rtsp-mjpeg in → function node). The
 * function node records CLOCK_MONOTONIC arrival per RTP timestamp through a
 * functionGlobalContext hook, written to BENCH_LATENCY_OUT at exit (used by B4).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, TMP } from './compile';
import { ROOT } from './gst-server';

export const RED_JS = join(ROOT, 'node_modules', 'node-red', 'red.js');

export function nodeRedAvailable(): boolean {
  return existsSync(RED_JS) && existsSync(join(DIST, 'nodes', 'rtsp-mjpeg-in.js')) && existsSync(join(ROOT, 'nodes', 'rtsp-mjpeg-in.html'));
}

/** Creates the user dir for one Node-RED run against `url`; returns node + args. */
export function nodeRedCommand(url: string, transport: 'tcp' | 'udp'): { cmd: string; args: string[]; userDir: string } {
  const userDir = mkdtempSync(join(TMP, 'nodered-'));
  const nodesDir = join(userDir, 'bench-nodes');
  mkdirSync(nodesDir, { recursive: true });
  for (const f of readdirSync(join(ROOT, 'nodes'))) {
    if (f.endsWith('.html')) {
      const base = f.slice(0, -5);
      cpSync(join(ROOT, 'nodes', f), join(nodesDir, f));
      writeFileSync(join(nodesDir, `${base}.js`), `module.exports = require(${JSON.stringify(join(DIST, 'nodes', `${base}.js`))});\n`);
    }
  }
  for (const d of ['locales', 'icons']) if (existsSync(join(ROOT, 'nodes', d))) cpSync(join(ROOT, 'nodes', d), join(nodesDir, d), { recursive: true });
  writeFileSync(join(userDir, 'settings.js'), `
const fs = require('fs');
const rec = {};
process.on('exit', () => { if (process.env.BENCH_LATENCY_OUT) fs.writeFileSync(process.env.BENCH_LATENCY_OUT, JSON.stringify(rec)); });
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: 0,
  flowFile: 'flows.json',
  nodesDir: [${JSON.stringify(nodesDir)}],
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  editorTheme: { tours: false },
  functionGlobalContext: { benchRecord: (ts) => { rec[ts] = process.hrtime.bigint().toString(); } },
};
`);
  const flows = [
    { id: 'benchtab', type: 'tab', label: 'bench' },
    { id: 'benchcam', type: 'rtsp-camera', name: 'bench', url, transport },
    { id: 'benchin', type: 'rtsp-mjpeg in', z: 'benchtab', name: '', camera: 'benchcam', maxFps: '', mode: 'stream', x: 100, y: 100, wires: [['benchfn']] },
    { id: 'benchfn', type: 'function', z: 'benchtab', name: 'record', func: "global.get('benchRecord')(msg.frame.rtpTimestamp);\nreturn null;", outputs: 1, x: 300, y: 100, wires: [[]] },
  ];
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
  return { cmd: process.execPath, args: [RED_JS, '--userDir', userDir, '--settings', join(userDir, 'settings.js')], userDir };
}
