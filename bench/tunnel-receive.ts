/**
 * Receive cost of the RTSP-over-HTTP tunnel against a plain TCP connection: 1 GiB of `$`
 * interleaved frames (1400-byte payloads) from a local server through each path into the
 * RTSP reader, twice each, with the process CPU time (server writes included, the same in
 * both) printed per run. The tunnel's GET reads into a ReadSlab like the plain connection,
 * so the figures should match. Not part of `npm run bench`; run alone:
 *   node --import tsx bench/tunnel-receive.ts
 */
import * as net from 'node:net';
import { openHttpTunnel } from '../src/transport/tunnel/open';
import { ReadSlab } from '../src/transport/read-slab';
import { RtspReader } from '../src/rtsp/message';
import { interleavedFrame } from '../src/rtsp/serialize';
import { startFakeTunnelServer } from '../test/support/fake-tunnel-server';

const TOTAL = 1024 * 1024 * 1024;
const block = Buffer.concat(Array.from({ length: 46 }, () => interleavedFrame(0, Buffer.alloc(1400, 1))));
function pump(s: net.Socket, done: () => void): void {
  let sent = 0;
  const go = (): void => {
    while (sent < TOTAL) { sent += block.length; if (!s.write(block)) { s.once('drain', go); return; } }
    done();
  };
  go();
}
function reader(onFrame: () => void) {
  return new RtspReader({ onResponse(): void { /* none */ }, onRequest(): void { /* none */ }, onInterleaved: onFrame, onError(e): void { throw e; } });
}
async function plain(): Promise<number> {
  const server = net.createServer((s) => pump(s, () => s.end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const c0 = process.cpuUsage(); const t0 = Date.now();
  let frames = 0; const rd = reader(() => frames++); const slab = new ReadSlab();
  await new Promise<void>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, onread: { buffer: () => slab.next(), callback: (n, region) => { rd.push(slab.filled(region as Buffer, n)); return true; } } });
    s.on('end', () => resolve());
  });
  const c = process.cpuUsage(c0); server.close();
  console.log(`plain TCP: ${frames} frames, ${Date.now() - t0} ms wall, cpu ${((c.user + c.system) / 1000).toFixed(0)} ms`);
  return c.user + c.system;
}
async function tunnel(): Promise<number> {
  const server = await startFakeTunnelServer();
  const t = await openHttpTunnel({ host: '127.0.0.1', port: server.port, path: '/cam' });
  const c0 = process.cpuUsage(); const t0 = Date.now();
  let frames = 0; const rd = reader(() => frames++);
  t.setReceiver((chunk) => rd.push(chunk));
  await new Promise<void>((resolve) => { t.on('close', () => resolve()); pump(server.getSocket()!, () => server.getSocket()!.end()); });
  const c = process.cpuUsage(c0); await server.close();
  console.log(`tunnel:    ${frames} frames, ${Date.now() - t0} ms wall, cpu ${((c.user + c.system) / 1000).toFixed(0)} ms`);
  return c.user + c.system;
}
(async () => { for (let i = 0; i < 2; i++) { await plain(); await tunnel(); } })();
