/**
 * The live view inside a real Node-RED 4 runtime (node-red's own init/start, editor and admin
 * API included, core nodes loaded), laid out as Node-RED loads the package, with the editor
 * and the HTTP nodes on one root (httpAdminRoot = httpNodeRoot = "/", Node-RED's default):
 * - cross-origin reads: the editor's CORS middleware answers `*` for everything it sees, the
 *   live-view routes (with httpNodeCors unset) send no Access-Control-Allow-Origin;
 * - paths that the editor or an `http in` node also answers: warning status and log line;
 * - camera URLs with `user:pass@` deployed through the admin API: flows.json stays clean, the
 *   credentials land in the (encrypted) credential store and the camera works;
 * - the Test connection route sends a stored password only to the address it was saved for,
 *   and never another node's (an MQTT broker's) password.
 * The nodes' .js files load the TypeScript source through tsx (no build needed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { until } from '../support/node-red-helper-lite';

const root = join(__dirname, '..', '..');
const req = createRequire(join(root, 'package.json'));

interface RedRuntime {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: (rq: unknown, rs: unknown, next: () => void) => void;
  httpNode: (rq: unknown, rs: unknown, next: () => void) => void;
  events: { on(e: string, f: (x: unknown) => void): void; removeListener(e: string, f: (x: unknown) => void): void };
}
const RED = req('node-red') as RedRuntime;
const express = req('express') as () => ((rq: unknown, rs: unknown) => void) & { use(path: string, h: unknown): void };

const SECRET = 'Cam:p@ss/w0rd%';
const SECRET_FORMS = [SECRET, encodeURIComponent(SECRET), 'p@ss/w0rd'];
const USER = 'admin';
let server: Server;
let base = '';
let userDir = '';
let pkgDir = '';
const cams: DemoCamera[] = [];
const statuses: { id: string; text: string }[] = [];
const warnings: { id?: string; msg: string }[] = [];
const onStatus = (e: unknown): void => {
  const s = e as { id: string; status?: { text?: string } };
  statuses.push({ id: s.id, text: String(s.status?.text ?? '') });
};

/** the package as Node-RED sees it after `npm run build`, with the node files pointing at src/ */
function layOutPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-pkg-'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  mkdirSync(join(dir, 'nodes'));
  cpSync(join(root, 'nodes', 'locales'), join(dir, 'nodes', 'locales'), { recursive: true });
  cpSync(join(root, 'icons'), join(dir, 'nodes', 'icons'), { recursive: true });
  for (const file of Object.values(pkg['node-red'].nodes)) {
    const name = file.replace(/^nodes\//, '').replace(/\.js$/, '');
    cpSync(join(root, 'nodes', `${name}.html`), join(dir, 'nodes', `${name}.html`));
    writeFileSync(join(dir, 'nodes', `${name}.js`), `module.exports = require(${JSON.stringify(join(root, 'src', 'nodes', `${name}.ts`))});\n`);
  }
  return dir;
}

async function demoCam(auth = true): Promise<DemoCamera> {
  const c = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 10, ...(auth ? { auth: 'digest' as const, username: USER, password: SECRET } : {}) });
  cams.push(c);
  return c;
}

async function deploy(flow: unknown[]): Promise<void> {
  const r = await fetch(`${base}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flow),
  });
  assert.ok(r.status === 200 || r.status === 204, `deploy answered ${r.status}: ${await r.text()}`);
}

function postTest(body: unknown): Promise<Response> {
  return fetch(`${base}/rtsp-camera/test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

const tab = { id: 'rt-tab', type: 'tab', label: 'live view' };

before(async () => {
  pkgDir = layOutPackage();
  userDir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-nr-'));
  const app = express();
  server = createServer(app);
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: 'test-only-secret',
    // Node-RED's defaults, spelled out: the editor and the HTTP nodes share the root
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    nodesDir: [pkgDir],
    logging: {
      console: { level: 'off' },
      capture: {
        level: 'warn', metrics: false, audit: false,
        handler: () => (m: { level: number; msg: unknown; id?: string }) => {
          if (m.level === 30) warnings.push({ id: m.id, msg: String(m.msg) });
        },
      },
    },
    editorTheme: { tours: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
  });
  // what red.js does: the editor first, then the HTTP nodes, on the same root
  app.use('/', RED.httpAdmin);
  app.use('/', RED.httpNode);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  await RED.start();
  RED.events.on('node-status', onStatus);
});

after(async () => {
  RED.events.removeListener('node-status', onStatus);
  await RED.stop().catch(() => undefined);
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  for (const c of cams) await c.close();
  for (const d of [userDir, pkgDir]) if (d) rmSync(d, { recursive: true, force: true });
});

test('cross-origin: the editor answers "*", the live-view routes send no Access-Control-Allow-Origin without httpNodeCors', async () => {
  const cam = await demoCam(false);
  await deploy([tab,
    { id: 'cors-cam', type: 'rtsp-camera', name: 'cors', url: cam.url, transport: 'tcp' },
    { id: 'cors-out', type: 'mjpeg http out', z: 'rt-tab', camera: 'cors-cam', path: '/cors/cam', maxFps: 0, maxViewers: 5, wires: [] }]);
  const origin = { origin: 'https://elsewhere.example' };
  // same root: the editor's CORS middleware sees every request first
  assert.equal((await fetch(`${base}/settings`, { headers: origin })).headers.get('access-control-allow-origin'), '*');
  let snap: Response | null = null;
  await until(async () => {
    snap = await fetch(`${base}/cors/cam/snapshot.jpg`, { headers: origin });
    return snap.status === 200;
  }, 'a snapshot', 10000);
  const s = snap as unknown as Response;
  assert.equal(s.headers.get('content-type'), 'image/jpeg');
  assert.equal(s.headers.get('access-control-allow-origin'), null, 'a page on another origin cannot read the snapshot');
  const ctl = new AbortController();
  const stream = await fetch(`${base}/cors/cam`, { headers: origin, signal: ctl.signal });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers.get('access-control-allow-origin'), null);
  ctl.abort();
});

test('paths the editor or an http in node also answers: a warning status and log line naming them', async () => {
  warnings.length = 0;
  await deploy([tab,
    { id: 'p-flows', type: 'mjpeg http out', z: 'rt-tab', name: 'shadowed', camera: '', path: '/flows', maxFps: 0, maxViewers: 5, wires: [] },
    { id: 'p-in', type: 'http in', z: 'rt-tab', name: 'api', url: '/api/:id', method: 'get', upload: false, wires: [['p-res']] },
    { id: 'p-res', type: 'http response', z: 'rt-tab', statusCode: '200', headers: {}, wires: [] },
    { id: 'p-api', type: 'mjpeg http out', z: 'rt-tab', name: 'cam api', camera: '', path: '/api/cam', maxFps: 0, maxViewers: 5, wires: [] },
    { id: 'p-ok', type: 'mjpeg http out', z: 'rt-tab', name: 'fine', camera: '', path: '/cameras/fine', maxFps: 0, maxViewers: 5, wires: [] }]);
  const last = (id: string): string => statuses.filter((s) => s.id === id).at(-1)?.text ?? '';
  await until(() => /path overlaps the editor/.test(last('p-flows')), `status of /flows (${last('p-flows')})`);
  await until(() => /path overlaps http in "api"/.test(last('p-api')), `status of /api/cam (${last('p-api')})`);
  assert.ok(warnings.some((w) => w.id === 'p-flows' && /\/flows is also Node-RED's editor route \/flows/.test(w.msg)), JSON.stringify(warnings));
  assert.ok(warnings.some((w) => w.id === 'p-api' && /the GET route \/api\/:id of http in "api"/.test(w.msg)), JSON.stringify(warnings));
  assert.ok(!statuses.some((s) => s.id === 'p-ok' && /overlaps/.test(s.text)), JSON.stringify(statuses));
  assert.ok(!warnings.some((w) => w.id === 'p-ok'));
});

test('a camera URL with user:pass@ deployed through the admin API: flows.json stays clean, the camera connects with the credentials', async () => {
  const cam = await demoCam();
  const dirty = cam.url.replace('rtsp://', `rtsp://${USER}:${encodeURIComponent(SECRET)}@`);
  await deploy([tab,
    { id: 'cred-cam', type: 'rtsp-camera', name: 'with userinfo', url: dirty, transport: 'tcp' },
    { id: 'cred-out', type: 'mjpeg http out', z: 'rt-tab', camera: 'cred-cam', path: '/cred/cam', maxFps: 0, maxViewers: 5, wires: [] }]);
  await until(async () => (await fetch(`${base}/cred/cam/snapshot.jpg`)).status === 200, 'the camera plays with the moved credentials', 10000);
  const flowsJson = readFileSync(join(userDir, 'flows.json'), 'utf8');
  const saved = (JSON.parse(flowsJson) as { id: string; url?: string }[]).find((n) => n.id === 'cred-cam');
  assert.equal(saved?.url, cam.url, 'the saved URL is clean');
  for (const s of SECRET_FORMS) assert.ok(!flowsJson.includes(s), `flows.json holds "${s}"`);
  const credFile = join(userDir, 'flows_cred.json');
  assert.ok(existsSync(credFile), 'the credentials were saved');
  const credText = readFileSync(credFile, 'utf8');
  for (const s of SECRET_FORMS) assert.ok(!credText.includes(s), 'the credential file is encrypted');
  const api = await (await fetch(`${base}/flows`, { headers: { accept: 'application/json' } })).text();
  for (const s of SECRET_FORMS) assert.ok(!api.includes(s), `GET /flows holds "${s}"`);
});

test('Test connection: a stored password goes only to the address it was saved for, never another node\'s', async () => {
  const mine = await demoCam();
  const other = await demoCam();
  await deploy([tab,
    { id: 'tc-cam', type: 'rtsp-camera', name: 'saved', url: mine.url, transport: 'tcp', credentials: { username: USER, password: SECRET } },
    { id: 'tc-mqtt', type: 'mqtt-broker', name: 'broker', broker: '127.0.0.1', port: '1', credentials: { user: USER, password: SECRET } }]);
  const ok = await postTest({ id: 'tc-cam', url: mine.url, transport: 'tcp', username: USER, password: '__PWRD__' });
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { ok: boolean }).ok, true, 'the saved camera itself is tested with its stored password');
  const elsewhere = await postTest({ id: 'tc-cam', url: other.url, transport: 'tcp', username: USER, password: '__PWRD__' });
  assert.equal(elsewhere.status, 400, 'the stored password is not sent to another port');
  assert.equal(((await elsewhere.json()) as { reason: string }).reason, 'password not sent');
  const broker = await postTest({ id: 'tc-mqtt', url: other.url, transport: 'tcp', username: USER, password: '__PWRD__' });
  assert.equal(broker.status, 400, 'an MQTT broker\'s password is not a camera\'s');
  assert.equal(other.stats.connections, 0, 'the other address was never contacted');
});
