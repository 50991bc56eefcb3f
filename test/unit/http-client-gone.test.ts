/**
 * http/client-gone on a real Node http server and raw TCP clients: a response queued behind
 * another one on a pipelined connection hears that its client left (Node tells only the
 * response that holds the socket), a route that runs after the client left sees it gone, one
 * listener per connection however many responses wait on it, and a response that becomes
 * current runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { clientGone, watchClient, whenCurrent } from '../../src/http/client-gone';
import { waitUntil } from '../support/mjpeg-client';

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

async function withServer(handler: (req: IncomingMessage, res: ServerResponse) => void, body: (port: number) => Promise<void>): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await body((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => undefined);
    s.once('error', reject);
  });
}

test('100 pipelined requests behind a response that never ends: all hear the connection close, with one listener on it', async () => {
  let gone = 0;
  let first: ServerResponse | null = null;
  const queued: ServerResponse[] = [];
  await withServer((req, res) => {
    if (!first) {
      first = res;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('streaming');
    } else queued.push(res);
    assert.ok(watchClient(req, res, () => gone++));
  }, async (port) => {
    const s = await client(port);
    s.write(Array.from({ length: 101 }, () => GET('/s')).join(''));
    assert.ok(await waitUntil(() => queued.length === 100, 3000), `${queued.length} requests parsed`);
    assert.ok(queued.every((r) => r.socket === null), 'the queued responses have no socket yet');
    const sock = (first as unknown as ServerResponse).socket as Socket;
    assert.ok(sock.listenerCount('close') <= 4, `${sock.listenerCount('close')} close listeners on the connection`);
    s.destroy();
    assert.ok(await waitUntil(() => gone === 101, 3000), `${gone} of 101 heard it`);
  });
});

test('a route that runs after its client left sees it gone and takes nothing', async () => {
  const seen: boolean[] = [];
  await withServer((req, res) => {
    setTimeout(() => {
      seen.push(clientGone(req, res));
      seen.push(watchClient(req, res, () => undefined) === null);
    }, 200);
  }, async (port) => {
    const s = await client(port);
    s.write(GET('/late'));
    await new Promise((r) => setTimeout(r, 30));
    s.destroy();
    assert.ok(await waitUntil(() => seen.length === 2, 3000));
    assert.deepEqual(seen, [true, true]);
  });
});

test('whenCurrent: at once for the current response; later for a queued one; never for one whose client left', async () => {
  const order: string[] = [];
  await withServer((req, res) => {
    const path = req.url ?? '';
    whenCurrent(req, res, () => {
      order.push(`ready ${path}`);
      res.end(path);
    }, () => order.push(`gone ${path}`));
  }, async (port) => {
    const s = await client(port);
    s.write(GET('/a') + GET('/b'));
    assert.ok(await waitUntil(() => order.length === 2, 3000), order.join(', '));
    assert.deepEqual(order, ['ready /a', 'ready /b']);
    s.destroy();
  });
});
