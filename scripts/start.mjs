// `npm start`: build, start the built-in demo camera on 127.0.0.1, start Node-RED 4 (a
// devDependency) with a user directory inside the repo (.node-red/, gitignored) that loads this
// package, deploy the demo flow, print the editor URL, and stop everything on Ctrl-C.
//
// Environment: PORT (editor, default 1880), RTSP_URL (use your own camera instead of the demo
// one; credentials may be in the URL, they are moved to the node's credentials), RTSP_USERNAME /
// RTSP_PASSWORD, RTSP_TRANSPORT (tcp|auto|udp|multicast|http), DEMO_CAMERA_PORT (default 8554), RESET_FLOWS=1
// (redeploy the demo flow over an edited one; by default an existing flow with a camera is kept),
// SKIP_BUILD=1.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const userDir = process.env.NODE_RED_USER_DIR || join(root, '.node-red');
const port = Number(process.env.PORT || 1880);
const host = '127.0.0.1';
const children = [];
let stopping = false;

function log(msg) { process.stdout.write(`[start] ${msg}\n`); }

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  log('stopping demo camera and Node-RED');
  const waits = children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((res) => {
    c.once('exit', res);
    try { c.kill('SIGINT'); } catch { res(); }
    setTimeout(() => { try { c.kill('SIGKILL'); } catch { /* gone */ } }, 8000).unref();
  }));
  Promise.all(waits).then(() => process.exit(code));
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

function waitForLine(child, re, what, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    const onData = (d) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) { clearTimeout(timer); resolve(m); }
      if (buf.length > 1e6) buf = buf.slice(-1e5);
    };
    child.stdout.on('data', onData);
    child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`${what} exited with code ${c}`)); });
  });
}

function http(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ host, port, path, method, headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full', ...(data ? { 'content-length': data.length } : {}) } }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** Splits `rtsp://user:pass@host/...` into a clean URL and percent-decoded credentials. */
function splitCredentials(url) {
  const m = /^(rtsps?:\/\/)([^/?#]*@)?(.*)$/i.exec(url);
  if (!m || !m[2]) return { url, username: process.env.RTSP_USERNAME || '', password: process.env.RTSP_PASSWORD || '' };
  const userinfo = m[2].slice(0, -1);
  const i = userinfo.indexOf(':');
  const dec = (s) => { try { return decodeURIComponent(s); } catch { return s; } };
  return { url: m[1] + m[3], username: dec(i < 0 ? userinfo : userinfo.slice(0, i)), password: dec(i < 0 ? '' : userinfo.slice(i + 1)) };
}

async function main() {
  if (!process.env.SKIP_BUILD) {
    log('building');
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    if (b.status !== 0) throw new Error('build failed');
  }
  mkdirSync(userDir, { recursive: true });

  let cameraUrl = process.env.RTSP_URL;
  if (!cameraUrl) {
    const camPort = process.env.DEMO_CAMERA_PORT || '8554';
    // --scene: the scripted scene (an object walking across at known times) that the demo
    // flow's motion node reports and its record node clips
    const cam = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'demo-camera', '--host', host, '--port', camPort, '--scene'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(cam);
    const m = await waitForLine(cam, /(rtsp:\/\/\S+)/, 'demo camera', 15000);
    cameraUrl = m[1];
    cam.stdout.on('data', () => {}); // keep draining
    log(`demo camera at ${cameraUrl}`);
  }
  const cam = splitCredentials(cameraUrl);

  const settingsFile = join(userDir, 'settings.js');
  writeFileSync(settingsFile, `// Written by scripts/start.mjs for the demo; edit scripts/start.mjs instead.
module.exports = {
  uiHost: ${JSON.stringify(host)},
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: 'demo-user-dir-only',
  nodesDir: [${JSON.stringify(root)}],
  logging: { console: { level: 'info', metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  functionExternalModules: false,
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
};
`);
  const redJs = require.resolve('node-red/red.js');
  const red = spawn(process.execPath, [redJs, '-u', userDir, '-s', settingsFile, '-p', String(port)],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: userDir });
  children.push(red);
  red.stdout.pipe(process.stdout);
  // the HTTP port is open only once this line is out ("Started flows" may come earlier, e.g.
  // when other node modules, such as the dashboard, are loaded too)
  await waitForLine(red, /Server now running/, 'Node-RED', 60000);

  const flowFile = join(userDir, 'flows.json');
  let current = [];
  try { current = JSON.parse(readFileSync(flowFile, 'utf8')); } catch { /* first run */ }
  const hasCamera = Array.isArray(current) && current.some((n) => n.type === 'rtsp-camera');
  if (!hasCamera || process.env.RTSP_URL || process.env.RESET_FLOWS) {
    const flow = JSON.parse(readFileSync(join(root, 'scripts', 'demo', 'flow.json'), 'utf8'));
    for (const n of flow) {
      if (n.type === 'rtsp-camera') {
        n.url = cam.url;
        if (process.env.RTSP_TRANSPORT) n.transport = process.env.RTSP_TRANSPORT;
        if (cam.username || cam.password) n.credentials = { username: cam.username, password: cam.password };
        if (process.env.RTSP_URL) n.name = 'my camera';
      }
    }
    const r = await http('POST', '/flows', flow);
    if (r.status !== 204 && r.status !== 200) throw new Error(`deploying the demo flow failed: HTTP ${r.status} ${r.body}`);
    log('demo flow deployed');
  }
  log(`Node-RED editor: http://${host}:${port}/  (Ctrl-C to stop)`);
  // the demo flow's 'mjpeg http out' node: the camera in any browser, no plug-in
  log(`live view in a browser: http://${host}:${port}/camera/demo  (snapshot: /camera/demo/snapshot.jpg)`);
  log(`motion events in the editor's debug sidebar; clips in ${join(userDir, 'clips')}`);
  red.once('exit', (c) => { if (!stopping) { log(`Node-RED exited (${c})`); stopAll(c ?? 1); } });
}

main().catch((err) => { process.stderr.write(`[start] ${err.message}\n`); stopAll(1); });
