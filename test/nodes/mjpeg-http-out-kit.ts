/**
 * What the `mjpeg http out` attack and failure tests share: RED.httpNode of the test helper's
 * runtime served on a free port (optionally behind an httpNodeAuth-style function, mounted in
 * front of it as red.js mounts httpNodeAuth), raw TCP clients for what an HTTP library will not
 * do (pipelining, vanishing mid-request, never reading), and the node's status history.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Node, NodeAPI } from 'node-red';

type App = (req: IncomingMessage, res: ServerResponse) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface NodeServer {
  port: number;
  base: string;
  /** the node module to load instead of `module` (hands its RED.httpNode to the server) */
  wrap(module: (RED: NodeAPI) => void): (RED: NodeAPI) => void;
  /** a function run in front of every request, like settings.js httpNodeAuth; null for none */
  setAuth(fn: Middleware | null): void;
  close(): Promise<void>;
}

export async function startNodeServer(): Promise<NodeServer> {
  let app: App | null = null;
  let auth: Middleware | null = null;
  const server: Server = createServer((req, res) => {
    const run = (): void => {
      if (app) app(req, res);
      else {
        res.statusCode = 500;
        res.end('no flow loaded\n');
      }
    };
    if (auth) auth(req, res, run);
    else run();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    wrap: (module) => (RED) => {
      app = RED.httpNode as unknown as App;
      module(RED);
    },
    setAuth: (fn) => {
      auth = fn;
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A raw TCP client: writes what it is told, keeps every byte it gets (unless paused). */
export interface RawClient {
  socket: Socket;
  received(): Buffer;
  /** status codes of the responses seen so far, in order */
  statuses(): number[];
  closed: boolean;
  close(): void;
}

export function rawClient(port: number, opts: { read?: boolean } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let bytes = 0;
    const c: RawClient = {
      socket,
      received: () => Buffer.concat(chunks),
      statuses: () => [...Buffer.concat(chunks).toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])),
      closed: false,
      close: () => socket.destroy(),
    };
    socket.on('close', () => (c.closed = true));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (opts.read === false) socket.pause();
      resolve(c);
    });
    socket.once('error', reject);
    socket.on('data', (d: Buffer) => {
      // keep the beginning of a stream only: enough for the status lines and the first parts
      if (bytes < 4_000_000) chunks.push(d);
      bytes += d.length;
    });
  });
}

export const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n${extra}\r\n`;

/** calls of one node's method: the helper's spies sit on the shared Node prototype */
export function callsOf(n: Node, method: 'status' | 'error' | 'warn' | 'log'): unknown[][] {
  const spy = (n as unknown as Record<string, { getCalls(): { thisValue: unknown; args: unknown[] }[] }>)[method];
  return (spy?.getCalls() ?? []).filter((c) => c.thisValue === n).map((c) => c.args);
}

export function statusTexts(n: Node): string[] {
  return callsOf(n, 'status').map((a) => String((a[0] as { text?: string } | undefined)?.text ?? ''));
}
