/**
 * `npm start` for a headless machine and its mistakes:
 * - HOST=0.0.0.0 makes the editor and the live view reachable on the machine's other
 *   addresses, with a warning about an editor without a log-in; NODE_RED_USERNAME and
 *   NODE_RED_PASSWORD then put both behind a log-in;
 * - a busy editor port or demo camera port ends npm start at once with the variable to change;
 * - a user directory with a settings.js of its own is never overwritten.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort as freePort } from '../support/peers';
import { get, nonLoopbackAddress, runStart, until, type StartRun } from './support/npm-start';

const dirs: string[] = [];
const userDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-host-'));
  dirs.push(d);
  return d;
};

/** a listener holding a port, as another program would */
async function hold(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('npm start: HOST, log-in, busy ports', { timeout: 150_000 }, () => {
  let run: StartRun | undefined;
  after(async () => {
    await run?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('HOST=0.0.0.0: the editor and the live view answer on a non-loopback address, with a warning', async (t) => {
    const lan = nonLoopbackAddress();
    if (!lan) { t.skip('this machine has no non-loopback IPv4 address'); return; }
    const port = await freePort();
    run = runStart({ HOST: '0.0.0.0', PORT: String(port), DEMO_CAMERA_PORT: String(await freePort()), NODE_RED_USER_DIR: userDir() });
    try {
      await run.waitFor('Node-RED editor:', 90_000);
      assert.match(run.output(), new RegExp(`Node-RED editor: .*http://${lan.replace(/\./g, '\\.')}:${port}/`), 'the address to open from another machine is printed');
      await run.waitFor('WARNING: the editor is open to every machine', 10_000);
      const editor = await get(`http://${lan}:${port}/`);
      assert.equal(editor.status, 200, 'editor on the non-loopback address');
      assert.match(editor.text, /Node-RED/);
      await until(async () => (await get(`http://${lan}:${port}/camera/demo/snapshot.jpg`)).status === 200, 'the live view on the non-loopback address', 30_000);
      assert.equal(await run.stop(), 0, 'Ctrl-C ends it cleanly');
    } finally {
      await run.stop();
      run = undefined;
    }
  });

  test('NODE_RED_USERNAME/PASSWORD: admin API and live view need the log-in; the password is written nowhere', async (t) => {
    const lan = nonLoopbackAddress();
    if (!lan) { t.skip('this machine has no non-loopback IPv4 address'); return; }
    const port = await freePort();
    const dir = userDir();
    const password = 'correct horse battery';
    run = runStart({ HOST: '0.0.0.0', PORT: String(port), DEMO_CAMERA_PORT: String(await freePort()), NODE_RED_USER_DIR: dir, NODE_RED_USERNAME: 'admin', NODE_RED_PASSWORD: password });
    try {
      await run.waitFor('Node-RED editor:', 90_000);
      assert.equal((await get(`http://${lan}:${port}/flows`)).status, 401, 'admin API without a token');
      assert.equal((await get(`http://${lan}:${port}/camera/demo/snapshot.jpg`)).status, 401, 'live view without the log-in');
      const basic = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
      await until(async () => (await get(`http://${lan}:${port}/camera/demo/snapshot.jpg`, basic)).status === 200, 'the live view with the log-in', 30_000);
      const tok = await fetch(`http://${lan}:${port}/auth/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password }).toString(),
      });
      assert.equal(tok.status, 200, 'log-in to the editor');
      const { access_token: token } = await tok.json() as { access_token: string };
      const flows = await get(`http://${lan}:${port}/flows`, { authorization: `Bearer ${token}` });
      assert.equal(flows.status, 200);
      assert.ok(flows.text.includes('demo-cam'), 'the demo flow was deployed');
      assert.ok(!readFileSync(join(dir, 'settings.js'), 'utf8').includes(password), 'settings.js holds a hash, not the password');
      assert.ok(!run.output().includes(password), 'the password is not printed');
      assert.ok(!run.output().includes('WARNING'), 'no warning with a log-in');
      assert.equal(await run.stop(), 0, 'Ctrl-C ends it cleanly');
    } finally {
      await run.stop();
      run = undefined;
    }
  });

  test('a busy editor port: npm start stops at once and names PORT', async () => {
    const { server, port } = await hold();
    try {
      const r = runStart({ PORT: String(port), NODE_RED_USER_DIR: userDir() });
      try {
        assert.equal(await r.exited(), 2);
        assert.match(r.output(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use .*set PORT to a free port, e\\.g\\. PORT=${port + 1} npm start`));
      } finally {
        await r.stop();
      }
    } finally {
      server.close();
    }
  });

  test('a busy demo camera port: npm start stops and names DEMO_CAMERA_PORT; the demo camera itself names --port', async () => {
    const { server, port } = await hold();
    try {
      const r = runStart({ PORT: String(await freePort()), DEMO_CAMERA_PORT: String(port), NODE_RED_USER_DIR: userDir() });
      try {
        assert.equal(await r.exited(), 2);
        assert.match(r.output(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: choose another with --port`));
        assert.match(r.output(), new RegExp(`set DEMO_CAMERA_PORT to a free port, e\\.g\\. DEMO_CAMERA_PORT=${port + 1} npm start`));
      } finally {
        await r.stop();
      }
    } finally {
      server.close();
    }
  });

  test('a user directory with its own settings.js is left alone', async () => {
    const dir = userDir();
    const mine = 'module.exports = { uiPort: 1880 };\n';
    writeFileSync(join(dir, 'settings.js'), mine);
    const r = runStart({ PORT: String(await freePort()), NODE_RED_USER_DIR: dir });
    try {
      assert.equal(await r.exited(), 2);
      assert.match(r.output(), /has its own settings\.js, which npm start would overwrite/);
      assert.equal(readFileSync(join(dir, 'settings.js'), 'utf8'), mine);
    } finally {
      await r.stop();
    }
  });
});
