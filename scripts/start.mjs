// `npm start`: build (when dist/ is not current), start the built-in demo camera on 127.0.0.1,
// start Node-RED 4 (a devDependency) with a user directory inside the repo (.node-red/,
// gitignored) that loads this package, deploy the demo flow on the first run (a flow the user
// has is kept), print the editor URL, and stop everything on Ctrl-C.
//
// Environment (README "Pointing it at your own camera" has the table): PORT, HOST,
// NODE_RED_USERNAME / NODE_RED_PASSWORD, RTSP_URL, RTSP_USERNAME / RTSP_PASSWORD,
// RTSP_TRANSPORT, DEMO_CAMERA_PORT, RESET_FLOWS=1, NODE_RED_USER_DIR, SKIP_BUILD=1.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, URLSearchParams } from 'node:url';
import { request } from 'node:http';
import { buildIfStale } from './build-if-stale.mjs';
import { liveViewPaths, planFlow, splitCredentials } from './start-flow.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const env = process.env;
const userDir = env.NODE_RED_USER_DIR || join(root, '.node-red');
const port = Number(env.PORT || 1880);
// where the editor listens; 127.0.0.1 keeps it on this machine
const host = env.HOST || '127.0.0.1';
const wildcard = host === '0.0.0.0' || host === '::';
// this script talks to Node-RED on loopback when it listens everywhere
const apiHost = wildcard ? '127.0.0.1' : host;
const demoPort = Number(env.DEMO_CAMERA_PORT || 8554);
const TRANSPORTS = ['tcp', 'auto', 'udp', 'multicast', 'http'];
const SETTINGS_MARK = '// Written by scripts/start.mjs for the demo; edit scripts/start.mjs instead.';
const children = [];
let stopping = false;

function log(msg) { process.stdout.write(`[start] ${msg}\n`); }

/** a mistake in the environment: the message names the variable to change */
class Usage extends Error {}

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  const live = children.filter((c) => c.exitCode === null && c.signalCode === null);
  if (live.length > 0) log('stopping demo camera and Node-RED');
  const waits = live.map((c) => new Promise((res) => {
    c.once('exit', res);
    try { c.kill('SIGINT'); } catch { res(); }
    setTimeout(() => { try { c.kill('SIGKILL'); } catch { /* gone */ } }, 8000).unref();
  }));
  Promise.all(waits).then(() => process.exit(code));
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

function checkEnv() {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Usage(`PORT=${env.PORT} is not a port number (1-65535)`);
  if (!Number.isInteger(demoPort) || demoPort < 0 || demoPort > 65535) throw new Usage(`DEMO_CAMERA_PORT=${env.DEMO_CAMERA_PORT} is not a port number`);
  if (env.RTSP_TRANSPORT && !TRANSPORTS.includes(env.RTSP_TRANSPORT)) throw new Usage(`RTSP_TRANSPORT must be one of ${TRANSPORTS.join(', ')}`);
  if (!!env.NODE_RED_USERNAME !== !!env.NODE_RED_PASSWORD) throw new Usage('set both NODE_RED_USERNAME and NODE_RED_PASSWORD (or neither)');
}

/** null when `h:p` can be listened on, else the error code (EADDRINUSE, EADDRNOTAVAIL, …) */
function listenError(h, p) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e) => resolve(e.code || e.message));
    s.listen({ host: h, port: p, exclusive: true }, () => s.close(() => resolve(null)));
  });
}

const isLoopback = (h) => h === 'localhost' || h === '::1' || /^127\./.test(h);
const hostForUrl = (h) => (h.includes(':') ? `[${h}]` : h);

/** the addresses other machines can use when Node-RED listens on every interface */
function reachableHosts() {
  if (!wildcard) return [host];
  const out = ['127.0.0.1'];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

/** resolves with the first match of `re` in the child's output so far (`seen`) or to come */
function waitForLine(child, re, what, timeoutMs, seen = { text: '' }) {
  return new Promise((resolve, reject) => {
    const done = () => { clearTimeout(timer); child.stdout.off('data', onData); child.off('exit', onExit); };
    const timer = setTimeout(() => { done(); reject(new Error(`${what} did not start within ${timeoutMs / 1000} s`)); }, timeoutMs);
    const check = () => {
      const m = re.exec(seen.text);
      if (m) { done(); resolve(m); }
      if (seen.text.length > 1e6) seen.text = seen.text.slice(-1e5);
    };
    const onData = (d) => { seen.text += d.toString(); check(); };
    const onExit = (c) => { done(); reject(new Error(`${what} exited with code ${c}`)); };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    check();
  });
}

function http(method, path, { body, token, form } = {}) {
  return new Promise((resolve, reject) => {
    const data = form ? Buffer.from(new URLSearchParams(form).toString()) : body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = {
      'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      'node-red-api-version': 'v1',
      'node-red-deployment-type': 'full',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(data ? { 'content-length': data.length } : {}),
    };
    const req = request({ host: apiHost, port, path, method, headers, timeout: 30000 }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function startDemoCamera() {
  // --scene: the scripted scene (an object walking across at known times) that the demo
  // flow's motion node reports and its record node clips
  const cam = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'demo-camera', '--host', '127.0.0.1', '--port', String(demoPort), '--scene'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(cam);
  let err = '';
  cam.stderr.on('data', (d) => { err += d.toString(); process.stderr.write(d); });
  try {
    const seen = { text: '' };
    const m = await waitForLine(cam, /(rtsp:\/\/\S+)/, 'demo camera', 15000, seen);
    // its ONVIF service (the next line; another port than 8580 when that one is taken)
    const onvif = await waitForLine(cam, /demo camera ONVIF: (http:\/\/\S+)/, 'demo camera ONVIF', 2000, seen).then((o) => o[1], () => null);
    cam.stdout.on('data', () => {}); // keep draining
    return { url: m[1], onvif };
  } catch (e) {
    if (/in use/.test(err)) throw new Usage(`the demo camera's port ${demoPort} is in use (another npm start or demo camera?): set DEMO_CAMERA_PORT to a free port, e.g. DEMO_CAMERA_PORT=${demoPort + 1} npm start`);
    throw e;
  }
}

function settingsSource(auth) {
  const lines = [
    `uiHost: ${JSON.stringify(host)},`,
    `uiPort: ${port},`,
    `flowFile: 'flows.json',`,
    `credentialSecret: 'demo-user-dir-only',`,
    `nodesDir: [${JSON.stringify(root)}],`,
    `logging: { console: { level: 'info', metrics: false, audit: false } },`,
    `telemetry: { enabled: false, updateNotification: false },`,
    `diagnostics: { enabled: false, ui: false },`,
    `editorTheme: { tours: false, projects: { enabled: false } },`,
    `functionExternalModules: false,`,
    `externalModules: { autoInstall: false, palette: { allowInstall: false } },`,
  ];
  if (auth) {
    // the editor and admin API (adminAuth) and the HTTP routes of the flows, such as the
    // live view (httpNodeAuth), both behind the one user; only the bcrypt hash is written
    lines.push(`adminAuth: { type: 'credentials', users: [{ username: ${JSON.stringify(auth.username)}, password: ${JSON.stringify(auth.hash)}, permissions: '*' }] },`);
    lines.push(`httpNodeAuth: { user: ${JSON.stringify(auth.username)}, pass: ${JSON.stringify(auth.hash)} },`);
  }
  return `${SETTINGS_MARK}\nmodule.exports = {\n${lines.map((l) => `  ${l}`).join('\n')}\n};\n`;
}

function bcryptHash(password) {
  // Node-RED's own bcrypt implementation, so the hash is one it accepts
  const bcrypt = createRequire(require.resolve('node-red/package.json'))('bcryptjs');
  return bcrypt.hashSync(password, 10);
}

async function adminToken() {
  if (!env.NODE_RED_USERNAME) return null;
  const r = await http('POST', '/auth/token', { form: { client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: env.NODE_RED_USERNAME, password: env.NODE_RED_PASSWORD } });
  if (r.status !== 200) throw new Error(`logging in to the admin API failed: HTTP ${r.status}`);
  return JSON.parse(r.body).access_token;
}

async function main() {
  checkEnv();
  if (!env.SKIP_BUILD) buildIfStale((m) => log(m));
  mkdirSync(userDir, { recursive: true });
  // npm start writes its own settings.js: never over the one of a real Node-RED installation
  const settingsFile = join(userDir, 'settings.js');
  if (existsSync(settingsFile) && !readFileSync(settingsFile, 'utf8').startsWith(SETTINGS_MARK)) {
    throw new Usage(`NODE_RED_USER_DIR=${userDir} has its own settings.js, which npm start would overwrite: choose an empty folder, or install the package into that Node-RED (README: "Installing into your own Node-RED")`);
  }

  const busy = await listenError(host, port);
  if (busy === 'EADDRINUSE') throw new Usage(`port ${port} on ${host} is in use (another Node-RED?): set PORT to a free port, e.g. PORT=${port + 1} npm start`);
  if (busy === 'EADDRNOTAVAIL') throw new Usage(`HOST=${host} is not an address of this machine (0.0.0.0: every address)`);
  if (busy) throw new Usage(`cannot listen on ${host}:${port} (${busy}): check HOST and PORT`);

  let camera = null;
  let demoUrl = null;
  let demoOnvifUrl = null;
  if (env.RTSP_URL) camera = splitCredentials(env.RTSP_URL, env);
  else {
    ({ url: demoUrl, onvif: demoOnvifUrl } = await startDemoCamera());
    log(`demo camera at ${demoUrl}${demoOnvifUrl ? ` (ONVIF ${demoOnvifUrl})` : ''}`);
  }

  // The flow is settled before Node-RED starts, so a camera node never connects to a URL it
  // is about to leave (a demo camera port from last time would log 'connection refused').
  const flowFile = join(userDir, 'flows.json');
  let current = [];
  let unreadable = null;
  try {
    current = JSON.parse(readFileSync(flowFile, 'utf8'));
  } catch (e) {
    if (e.code !== 'ENOENT') unreadable = e.message;
  }
  const demo = JSON.parse(readFileSync(join(root, 'scripts', 'demo', 'flow.json'), 'utf8'));
  const plan = unreadable && !env.RESET_FLOWS
    ? { deploy: null, notes: [`${flowFile} could not be read (${unreadable}): left as it is; RESET_FLOWS=1 npm start replaces it with the demo flow`] }
    : planFlow(Array.isArray(current) ? current : [], demo, { reset: !!env.RESET_FLOWS, camera, demoUrl, demoOnvifUrl, transport: env.RTSP_TRANSPORT });
  // credentials go through the admin API (Node-RED encrypts them); until that deploy, safe
  // mode keeps the flows stopped
  const viaApi = !!plan.deploy && plan.deploy.some((n) => n.credentials);
  if (plan.deploy && !viaApi) writeFileSync(flowFile, `${JSON.stringify(plan.deploy, null, 4)}\n`);

  const auth = env.NODE_RED_USERNAME ? { username: env.NODE_RED_USERNAME, hash: bcryptHash(env.NODE_RED_PASSWORD) } : null;
  writeFileSync(settingsFile, settingsSource(auth));
  const redJs = require.resolve('node-red/red.js');
  if (viaApi) log('Node-RED starts with its flows stopped (safe mode) until the camera credentials are deployed');
  const red = spawn(process.execPath, [redJs, '-u', userDir, '-s', settingsFile, '-p', String(port), ...(viaApi ? ['--safe'] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: userDir });
  children.push(red);
  red.stdout.pipe(process.stdout);
  // the HTTP port is open only once this line is out ("Started flows" may come earlier, e.g.
  // when other node modules, such as the dashboard, are loaded too)
  const seen = { text: '' };
  try {
    await waitForLine(red, /Server now running/, 'Node-RED', 60000, seen);
  } catch (e) {
    if (/port in use|EADDRINUSE/i.test(seen.text)) throw new Usage(`port ${port} on ${host} is in use: set PORT to a free port, e.g. PORT=${port + 1} npm start`);
    throw e;
  }

  if (viaApi) {
    const token = await adminToken();
    const r = await http('POST', '/flows', { body: plan.deploy, token });
    if (r.status !== 204 && r.status !== 200) throw new Error(`deploying the flow failed: HTTP ${r.status} ${r.body}`);
    if (token) await http('POST', '/auth/revoke', { body: { token }, token }).catch(() => undefined);
  }
  for (const n of plan.notes) log(n);

  const urls = reachableHosts().map((h) => `http://${hostForUrl(h)}:${port}`);
  log(`Node-RED editor: ${urls.map((u) => `${u}/`).join('  ')}  (Ctrl-C to stop)`);
  // the flow's 'mjpeg http out' nodes: the camera in any browser, no plug-in
  for (const p of liveViewPaths(plan.deploy ?? current).slice(0, 5)) {
    log(`live view in a browser: ${urls[urls.length - 1]}${p}  (snapshot: ${p}/snapshot.jpg)`);
  }
  if (!isLoopback(host) && !auth) {
    log(`WARNING: the editor is open to every machine that reaches ${host}:${port}. Whoever opens it can change`);
    log('the flows and run any command on this machine (function and exec nodes), and watch the cameras.');
    log('Set NODE_RED_USERNAME and NODE_RED_PASSWORD to require a log-in (README: "Opening the editor from another machine").');
  }
  // the demo flow's motion and record nodes
  const final = plan.deploy ?? current;
  if (final.some((n) => n.type === 'mjpeg motion')) log(`motion events in the editor's debug sidebar; clips in ${join(userDir, 'clips')}`);
  red.once('exit', (c) => { if (!stopping) { log(`Node-RED exited (${c})`); stopAll(c ?? 1); } });
}

main().catch((err) => {
  process.stderr.write(`[start] ${err instanceof Usage ? '' : 'error: '}${err.message}\n`);
  stopAll(err instanceof Usage ? 2 : 1);
});
