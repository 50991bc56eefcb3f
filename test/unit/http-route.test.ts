/**
 * Mounting routes on an Express app the way `mjpeg http out` mounts them on RED.httpNode:
 * exact paths (no Express patterns), GET and HEAD only, httpNodeMiddleware and the
 * httpNodeCors origin rule in front of the handler, and nothing left after unmounting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Request, Response, NextFunction } from 'express';
import { mountGetRoutes, type RouteApp } from '../../src/nodes/lib/http-route';

// Express comes with Node-RED (a devDependency), as in a user's Node-RED
const express = createRequire(join(__dirname, '..', '..', 'package.json'))('express') as () => RouteApp & ((req: unknown, res: unknown) => void);

test('exact GET/HEAD routes behind httpNodeMiddleware and httpNodeCors; gone after unmount', async () => {
  const app = express();
  const seen: string[] = [];
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    seen.push(req.path);
    if (req.headers['x-deny']) {
      res.status(403).end();
      return;
    }
    next();
  };
  const unmount = mountGetRoutes(app, { httpNodeMiddleware: middleware, httpNodeCors: { origin: '*' } },
    (p) => p === '/cam:1' || p === '/cam:1/snapshot.jpg',
    (req, res) => {
      res.status(200).type('text/plain').send(`served ${req.path}`);
    });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const ok = await fetch(`${base}/cam:1`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'served /cam:1');
    assert.equal(ok.headers.get('access-control-allow-origin'), '*');
    assert.equal((await fetch(`${base}/cam:1/snapshot.jpg`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${base}/cam:1`, { headers: { 'x-deny': '1' } })).status, 403, 'middleware runs first');
    assert.equal((await fetch(`${base}/camX1`)).status, 404, 'not an Express pattern');
    assert.equal((await fetch(`${base}/cam:1/other`)).status, 404);
    assert.equal((await fetch(`${base}/cam:1`, { method: 'POST' })).status, 404);
    assert.deepEqual(seen, ['/cam:1', '/cam:1/snapshot.jpg', '/cam:1']);
    unmount();
    assert.equal((await fetch(`${base}/cam:1`)).status, 404, 'unmounted');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('CORS: the editor\'s "*" is dropped unless httpNodeCors allows; httpNodeCors applies as configured', async () => {
  const cases: [cors: unknown, origin: string, expected: string | null][] = [
    [undefined, 'https://evil.example', null],
    [{ origin: 'https://app.example' }, 'https://evil.example', 'https://app.example'],
    [{ origin: ['https://app.example', /\.lan$/] }, 'http://cam.lan', 'http://cam.lan'],
    [{ origin: ['https://app.example'] }, 'https://evil.example', null],
    [{ origin: '*' }, 'https://any.example', '*'],
  ];
  for (const [cors, origin, expected] of cases) {
    const app = express();
    // what Node-RED's editor app does to every request it sees when it shares the root
    app.use((_req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      next();
    });
    mountGetRoutes(app, { httpNodeCors: cors }, (p) => p === '/cam', (_req, res) => {
      res.status(200).end('ok');
    });
    const server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/cam`, { headers: { origin } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), expected, `${JSON.stringify(cors)} from ${origin}`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }
});
