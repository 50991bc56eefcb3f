// Own file (own process): the handle comparison must not see other tests' sockets and timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { startDemoCamera } from '../../src/sim/demo-camera';
import { closeAfter } from '../support/cleanup';

test('demo camera close() leaves no active handle and disconnects its clients', async (t) => {
  // File-system requests of the test runner's module loader come and go: only sockets,
  // servers and timers are this test's business.
  const transient = (r: string): boolean => r === 'Timeout' || r.startsWith('FSReq');
  const before = process.getActiveResourcesInfo().sort();
  const cam = closeAfter(t, await startDemoCamera({ width: 160, height: 120, fps: 25, audio: true, sessionTimeoutSec: 5 }));
  const sock = net.connect(cam.port, '127.0.0.1');
  t.after(() => { sock.destroy(); });
  let received = 0;
  let closed = false;
  sock.on('data', (d) => { received += d.length; });
  sock.on('close', () => { closed = true; });
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.once('connect', () => r()));
  let cseq = 0;
  const req = (m: string, uri: string, extra = ''): void => { sock.write(`${m} ${uri} RTSP/1.0\r\nCSeq: ${++cseq}\r\n${extra}\r\n`); };
  req('SETUP', `${cam.url}/stream=0`, 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n');
  const deadline = Date.now() + 5000;
  let text = '';
  sock.on('data', (d) => { text += d.toString('latin1'); });
  while (!/Session: (\w+)/.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const session = /Session: (\w+)/.exec(text)![1]!;
  req('SETUP', `${cam.url}/stream=1`, `Transport: RTP/AVP/TCP;unicast;interleaved=2-3\r\nSession: ${session}\r\n`);
  req('PLAY', `${cam.url}/`, `Session: ${session}\r\n`);
  while (received < 20000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(received >= 20000, 'media flowed');
  assert.equal(cam.stats.activeSessions, 1);
  await cam.close();
  while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.ok(closed, 'server closed the client connection');
  // The client socket's own handle is released a loop turn after 'close': allow a short settle.
  const now = (): string[] => process.getActiveResourcesInfo().filter((r) => !transient(r)).sort();
  const settle = Date.now() + 1000;
  while (JSON.stringify(now()) !== JSON.stringify(before.filter((r) => !transient(r))) && Date.now() < settle) {
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(now(), before.filter((r) => !transient(r)));
  // Timers: none of ours remain (only this test's own settle loop may have used one).
  assert.ok(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length <= before.filter((r) => r === 'Timeout').length);
  await cam.close(); // idempotent
});
