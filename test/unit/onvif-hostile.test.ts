/**
 * Hostile SOAP: a device (or something pretending to be one) that answers with a 100 MB reply,
 * a 100 MB reply without a length, 100 000 nested elements, an entity-expansion bomb, 60 000
 * elements, a reply dripped a byte at a time, or a login page. Each gets a clear error, in
 * bounded time, without the process holding more than a few MiB of it.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { queryDevice } from '../../src/onvif/device';
import { CameraError } from '../../src/errors';

type Mode = 'huge' | 'huge-chunked' | 'deep' | 'bomb' | 'many' | 'drip' | 'html';

const ENV_OPEN = '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>';
const ENV_CLOSE = '</s:Body></s:Envelope>';

interface Hostile { url: string; sentBytes(): number; close(): Promise<void> }

async function hostile(mode: Mode): Promise<Hostile> {
  let sent = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const write = (s: string | Buffer): boolean => { sent += s.length; return res.write(s); };
      switch (mode) {
        case 'huge': case 'huge-chunked': {
          const total = 100 * 1024 * 1024;
          res.writeHead(200, mode === 'huge' ? { 'content-type': 'application/soap+xml', 'content-length': total } : { 'content-type': 'application/soap+xml' });
          const chunk = Buffer.alloc(64 * 1024, 0x61);
          chunk.write(ENV_OPEN);
          let left = total;
          const pump = (): void => {
            while (left > 0 && !res.destroyed) {
              left -= chunk.length;
              if (!write(chunk)) { res.once('drain', pump); return; }
            }
            if (!res.destroyed) res.end();
          };
          res.on('close', () => { left = 0; });
          pump();
          return;
        }
        case 'deep': {
          const n = 100000;
          res.writeHead(200, { 'content-type': 'application/soap+xml' });
          res.end(`${ENV_OPEN}${'<a>'.repeat(n)}${'</a>'.repeat(n)}${ENV_CLOSE}`);
          return;
        }
        case 'bomb': {
          const levels = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('');
          res.writeHead(200, { 'content-type': 'application/soap+xml' });
          res.end(`<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY l0 "lol">${levels}]>${ENV_OPEN}<x>&l9;</x>${ENV_CLOSE}`);
          return;
        }
        case 'many': {
          res.writeHead(200, { 'content-type': 'application/soap+xml' });
          res.end(`${ENV_OPEN}<r>${'<i/>'.repeat(60000)}</r>${ENV_CLOSE}`);
          return;
        }
        case 'drip': {
          res.writeHead(200, { 'content-type': 'application/soap+xml' });
          const tick = setInterval(() => { if (res.destroyed) { clearInterval(tick); timers.delete(tick); } else write('<'); }, 100);
          timers.add(tick);
          return;
        }
        case 'html':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<!doctype html><html><body><form action="/login">Password <input name=pw></form></body></html>');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/onvif/device_service`,
    sentBytes: () => sent,
    close: async () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function expectFailure(mode: Mode, reason: string, message: RegExp, timeoutMs = 10000): Promise<{ ms: number; sent: number; heapMB: number; buffersMB: number }> {
  const h = await hostile(mode);
  try {
    global.gc?.();
    const m0 = process.memoryUsage();
    const t0 = Date.now();
    let err: unknown = null;
    try { await queryDevice(h.url, { timeoutMs }); } catch (e) { err = e; }
    const ms = Date.now() - t0;
    const m1 = process.memoryUsage();
    assert.ok(err instanceof CameraError, `${mode}: ${String(err)}`);
    assert.equal(err.reason, reason, `${mode}: ${err.message}`);
    assert.match(err.message, message);
    const r = { ms, sent: h.sentBytes(), heapMB: (m1.heapUsed - m0.heapUsed) / 2 ** 20, buffersMB: (m1.arrayBuffers - m0.arrayBuffers) / 2 ** 20 };
    console.log(`[hostile] ${mode}: ${err.reason} after ${ms} ms; server sent ${(r.sent / 2 ** 20).toFixed(1)} MiB; heap +${r.heapMB.toFixed(1)} MiB, buffers +${r.buffersMB.toFixed(1)} MiB`);
    return r;
  } finally {
    await h.close();
  }
}

describe('hostile SOAP replies', () => {
  test('a 100 MB reply with its length: refused before reading it', async () => {
    const r = await expectFailure('huge', 'protocol error', /a reply of 104857600 bytes, more than the 1048576 accepted/);
    assert.ok(r.ms < 5000, `${r.ms} ms`);
    assert.ok(r.buffersMB < 32, `${r.buffersMB} MiB of buffers held`);
  });

  test('a 100 MB reply without a length: cut off at the 1 MiB bound', async () => {
    const r = await expectFailure('huge-chunked', 'protocol error', /more than the 1048576 bytes accepted/);
    assert.ok(r.ms < 5000, `${r.ms} ms`);
    assert.ok(r.sent < 40 * 2 ** 20, `the server got to send ${Math.round(r.sent / 2 ** 20)} MiB before we hung up`);
    assert.ok(r.buffersMB < 32 && r.heapMB < 64, `${r.buffersMB} MiB buffers, ${r.heapMB} MiB heap`);
  });

  test('100 000 nested elements: refused at the depth bound', async () => {
    const r = await expectFailure('deep', 'protocol error', /nested|not well-formed/);
    assert.ok(r.ms < 5000, `${r.ms} ms`);
  });

  test('an entity-expansion bomb (10^9 "lol"s): refused, nothing expanded', async () => {
    const r = await expectFailure('bomb', 'protocol error', /document type declaration/);
    assert.ok(r.ms < 2000 && r.heapMB < 16, `${r.ms} ms, ${r.heapMB} MiB`);
  });

  test('60 000 elements: refused at the element bound', async () => {
    await expectFailure('many', 'protocol error', /more than 50000 elements/);
  });

  test('a reply dripped a byte every 100 ms: timeout, the whole reply bounded in time', async () => {
    const r = await expectFailure('drip', 'timeout', /no complete reply within 1\.5 s/, 1500);
    assert.ok(r.ms < 4000, `${r.ms} ms`);
  });

  test('a login page instead of SOAP', async () => {
    await expectFailure('html', 'protocol error', /not a SOAP envelope|not well-formed|not XML/);
  });
});
