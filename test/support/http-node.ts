/**
 * Serves the `RED.httpNode` of node-red-node-test-helper's runtime on a free port: the helper
 * creates that Express app but mounts it nowhere. `withHttpNode(module)` wraps a node module
 * so each load hands its RED.httpNode to the server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeAPI } from 'node-red';

type App = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpNodeServer {
  /** http://127.0.0.1:PORT (httpNodeRoot is /) */
  base: string;
  /** the node module to load instead of `module` */
  wrap(module: (RED: NodeAPI) => void): (RED: NodeAPI) => void;
  close(): Promise<void>;
}

export async function startHttpNodeServer(): Promise<HttpNodeServer> {
  let app: App | null = null;
  const server: Server = createServer((req, res) => {
    if (app) app(req, res);
    else {
      res.statusCode = 500;
      res.end('no flow loaded\n');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    wrap: (module) => (RED) => {
      app = RED.httpNode as unknown as App;
      module(RED);
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
