/**
 * The built package inside a real Node-RED 4 runtime with adminAuth on (the test helper's
 * runtime stubs RED.auth, so permission checks need the real thing): Node-RED loads the
 * types from package.json, serves the icons, refuses the "Test connection" endpoint
 * to anonymous and read-only users and answers it for an admin; the "Find cameras" endpoints
 * ask for the read (search) and write (profiles, with credentials) permissions; every example flow deploys,
 * and the snapshot example serves a JPEG over HTTP from the demo camera.
 * The package is laid out in a temporary folder exactly as the build lays it out (package.json,
 * nodes/*.html + locales + icons, examples), except that nodes/<type>.js loads the TypeScript
 * source through tsx instead of dist/: the test does not depend on (or race with) a build.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
}
const RED = req('node-red') as RedRuntime;
const express = req('express') as () => ((rq: unknown, rs: unknown) => void) & { use(path: string, h: unknown): void };
const bcrypt = req('bcryptjs') as { hashSync(pw: string, rounds: number): string };

const ADMIN_PW = 'admin-pw-for-tests';
let server: Server;
let base = '';
let userDir = '';
let pkgDir = '';
let demo: DemoCamera | undefined;

/** the package as Node-RED sees it after `npm run build`, with the node files pointing at src/ */
function layOutPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-pkg-'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  mkdirSync(join(dir, 'nodes'));
  cpSync(join(root, 'nodes', 'locales'), join(dir, 'nodes', 'locales'), { recursive: true });
  cpSync(join(root, 'icons'), join(dir, 'nodes', 'icons'), { recursive: true });
  cpSync(join(root, 'examples'), join(dir, 'examples'), { recursive: true });
  for (const file of Object.values(pkg['node-red'].nodes)) {
    const base = file.replace(/^nodes\//, '').replace(/\.js$/, '');
    cpSync(join(root, 'nodes', `${base}.html`), join(dir, 'nodes', `${base}.html`));
    writeFileSync(join(dir, 'nodes', `${base}.js`), `module.exports = require(${JSON.stringify(join(root, 'src', 'nodes', `${base}.ts`))});\n`);
  }
  return dir;
}

/** Static API tokens (adminAuth.tokens): a password login would start Node-RED's one-week
 * session-expiry timer, which keeps the test process alive. */
const TOKENS = { admin: 'admin-token-for-tests', viewer: 'viewer-token-for-tests' };
async function token(username: 'admin' | 'viewer'): Promise<string> {
  return TOKENS[username];
}

function cam(): DemoCamera {
  assert.ok(demo, 'demo camera not started');
  return demo;
}

function postTest(body: unknown, bearer?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  return fetch(`${base}/rtsp-camera/test`, { method: 'POST', headers, body: JSON.stringify(body) });
}

before(async () => {
  pkgDir = layOutPackage();
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 10 });
  userDir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-nr-'));
  const hash = bcrypt.hashSync(ADMIN_PW, 4);
  const app = express();
  server = createServer(app);
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: 'test-only-secret',
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    nodesDir: [pkgDir],
    adminAuth: {
      type: 'credentials',
      users: [
        { username: 'admin', password: hash, permissions: '*' },
        { username: 'viewer', password: hash, permissions: 'read' },
      ],
      tokens: [
        { token: TOKENS.admin, user: 'admin', scope: '*' },
        { token: TOKENS.viewer, user: 'viewer', scope: 'read' },
      ],
    },
    logging: { console: { level: 'off' } },
    editorTheme: { tours: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
  });
  app.use('/', RED.httpAdmin);
  app.use('/api', RED.httpNode);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  await RED.start();
});

after(async () => {
  await RED.stop().catch(() => undefined);
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (demo) await demo.close();
  for (const d of [userDir, pkgDir]) if (d) rmSync(d, { recursive: true, force: true });
});

test('Node-RED loads the types from package.json and serves the icons', async () => {
  const t = await token('admin');
  const r = await fetch(`${base}/nodes`, { headers: { accept: 'application/json', authorization: `Bearer ${t}` } });
  const sets = (await r.json()) as { module: string; types: string[]; enabled: boolean; err?: string }[];
  const ours = sets.filter((s) => s.module === 'node-red-contrib-rtsp-mjpeg');
  assert.deepEqual(ours.flatMap((s) => s.types).sort(), ['mjpeg http out', 'mjpeg motion', 'mjpeg record', 'onvif events', 'rtcp stats', 'rtsp-camera', 'rtsp-mjpeg in']);
  for (const s of ours) assert.equal(s.err, undefined, s.err);
  for (const icon of ['camera.svg', 'stats.svg', 'mjpeg-http.svg', 'motion.svg', 'record.svg', 'camera-events.svg']) {
    const i = await fetch(`${base}/icons/node-red-contrib-rtsp-mjpeg/${icon}`, { headers: { authorization: `Bearer ${t}` } });
    assert.equal(i.status, 200, icon);
    assert.match(i.headers.get('content-type') ?? '', /svg/);
  }
});

test('POST /rtsp-camera/test: 401 without a token and for read-only users, works for an admin', async () => {
  assert.equal((await postTest({ url: cam().url })).status, 401);
  assert.equal((await postTest({ url: cam().url }, 'not-a-token')).status, 401);
  assert.equal((await postTest({ url: cam().url }, await token('viewer'))).status, 401);
  const r = await postTest({ url: cam().url, transport: 'tcp' }, await token('admin'));
  assert.equal(r.status, 200);
  const body = (await r.json()) as { ok: boolean; width: number; codec: string };
  assert.equal(body.ok, true, JSON.stringify(body));
  assert.equal(body.width, 160);
  assert.equal(body.codec, 'JPEG');
});

test('Find cameras: the search needs rtsp-camera.read, reading profiles (credentials) rtsp-camera.write', async () => {
  const onvifCam = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 5, onvif: { discoveryPort: 0, motionEverySec: 0 } });
  try {
    const post = (path: string, body: unknown, bearer?: string): Promise<Response> => fetch(`${base}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: JSON.stringify(body),
    });
    const search = { hosts: `127.0.0.1:${onvifCam.onvif!.discoveryPort}`, multicast: false, timeout: 0.6 };
    assert.equal((await post('/rtsp-camera/onvif/discover', search)).status, 401);
    const found = await post('/rtsp-camera/onvif/discover', search, await token('viewer'));
    assert.equal(found.status, 200);
    assert.deepEqual(((await found.json()) as { devices: { deviceUrl: string }[] }).devices.map((d) => d.deviceUrl), [onvifCam.onvif!.deviceUrl]);
    const ask = { url: onvifCam.onvif!.deviceUrl };
    assert.equal((await post('/rtsp-camera/onvif/profiles', ask)).status, 401);
    assert.equal((await post('/rtsp-camera/onvif/profiles', ask, await token('viewer'))).status, 401);
    const r = await post('/rtsp-camera/onvif/profiles', ask, await token('admin'));
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { jpegStreamUri: string }).jpegStreamUri, onvifCam.url);
  } finally {
    await onvifCam.close();
  }
});

test('every example flow deploys in Node-RED 4; the snapshot example serves a JPEG', async () => {
  const t = await token('admin');
  const dir = join(root, 'examples');
  const nodes: Record<string, unknown>[] = [{ id: 'examples-tab', type: 'tab', label: 'examples' }];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    for (const n of JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>[]) {
      // Dashboard 2 is not installed in this runtime: its nodes would hold all flows back as
      // "missing types"; the e2e suite deploys that example whole, with the dashboard
      if (String(n.type).startsWith('ui-')) continue;
      // the examples share one camera config node (same id), as an import into the editor does
      if (nodes.some((m) => m.id === n.id)) continue;
      if (n.type === 'rtsp-camera') n.url = cam().url;
      if (n.type === 'file') n.filename = join(userDir, String(n.filename).replace(/^.*\//, ''));
      if ('x' in n) n.z = 'examples-tab';
      nodes.push(n);
    }
  }
  const playsBefore = cam().stats.plays;
  const d = await fetch(`${base}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t}`, 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(nodes),
  });
  assert.ok(d.status === 200 || d.status === 204, `deploy answered ${d.status}: ${await d.text()}`);
  let jpeg: Buffer | null = null;
  await until(async () => {
    const r = await fetch(`${base}/api/camera/snapshot.jpg`);
    if (r.status !== 200) return false;
    jpeg = Buffer.from(await r.arrayBuffer());
    return r.headers.get('content-type') === 'image/jpeg';
  }, 'GET /api/camera/snapshot.jpg returns a JPEG', 10000);
  const b = jpeg as unknown as Buffer;
  assert.ok(b[0] === 0xff && b[1] === 0xd8 && b[b.length - 1] === 0xd9);
  // one shared session per camera config node: 4 examples, one camera, one session
  assert.equal(nodes.filter((n) => n.type === 'rtsp-camera').length, 1);
  assert.equal(cam().stats.plays - playsBefore, 1, 'one RTSP session for the nodes of all examples');
});
