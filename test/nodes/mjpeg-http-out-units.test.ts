/**
 * The Node-RED-side rules of `mjpeg http out` and the camera URL guard, without a runtime:
 * who holds a path and who takes it over, which editor and http-in routes overlap a path,
 * and how a deploy body's camera URLs give up their credentials (vectors and a property: any
 * body, never a throw, never userinfo left in a cleaned URL).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { PathClaims, type PathClaimant } from '../../src/nodes/lib/path-claims';
import { editorOverlap, nodeRouteOverlaps } from '../../src/nodes/lib/route-overlap';
import { installDeployGuard, moveUrlCredentials } from '../../src/nodes/lib/deploy-guard';
import { splitUrlCredentials } from '../../src/nodes/lib/url-credentials';

type ExpressApp = ((req: unknown, res: unknown) => void) & {
  use(...a: unknown[]): unknown; get(path: string, h: unknown): unknown; post(path: string, h: unknown): unknown;
};
const express = createRequire(join(__dirname, '..', '..', 'package.json'))('express') as (() => ExpressApp) & { json(): unknown };

describe('path claims', () => {
  test('the first holds the path, the next waits and takes it when the first lets go', () => {
    const claims = new PathClaims();
    const taken: string[] = [];
    const mk = (id: string): PathClaimant => ({ id, label: id, take: () => taken.push(id) });
    const [a, b, c] = [mk('a'), mk('b'), mk('c')];
    assert.equal(claims.claim('/p', a), null);
    assert.equal(claims.claim('/p', b), a);
    assert.equal(claims.claim('/p', c), a);
    claims.release('/p', c);
    claims.release('/p', a);
    assert.deepEqual(taken, ['b']);
    assert.equal(claims.owner('/p'), b);
    claims.release('/p', b);
    assert.equal(claims.owner('/p'), null);
    assert.equal(claims.claim('/p', a), null, 'free again');
  });
});

describe('route overlaps', () => {
  test('the editor answers a path when httpNodeRoot lies inside httpAdminRoot', () => {
    const admin = express();
    admin.get('/debug/view/:file', () => undefined);
    const same = { httpAdminRoot: '/', httpNodeRoot: '/' };
    assert.equal(editorOverlap('/flows', same, admin), '/flows');
    assert.equal(editorOverlap('/icons/x', same, admin), '/icons');
    assert.equal(editorOverlap('/debug', same, admin), null);
    assert.equal(editorOverlap('/debug/view/a', same, admin), '/debug/view/:file', 'a GET route a node added to the editor');
    assert.equal(editorOverlap('/debug/view', same, admin), '/debug/view/:file', 'its snapshot route is taken');
    assert.equal(editorOverlap('/cameras/front', same, admin), null);
    assert.equal(editorOverlap('/flows', { httpAdminRoot: '/admin', httpNodeRoot: '/' }, admin), null);
    assert.equal(editorOverlap('/admin/flows', { httpAdminRoot: '/admin/', httpNodeRoot: '/' }, admin), '/admin/flows');
    assert.equal(editorOverlap('/flows', { httpAdminRoot: '/', httpNodeRoot: '/api' }, admin), null);
    assert.equal(editorOverlap('/flows', { httpAdminRoot: false, httpNodeRoot: '/' }, admin), null);
  });

  test('GET routes of RED.httpNode that match the path or its snapshot', () => {
    const node = express();
    node.get('/cam/:id', () => undefined);
    node.post('/front', () => undefined);
    node.get('/front/snapshot.jpg', () => undefined);
    assert.deepEqual(nodeRouteOverlaps('/cam/front', node), ['/cam/:id']);
    assert.deepEqual(nodeRouteOverlaps('/front', node), ['/front/snapshot.jpg']);
    assert.deepEqual(nodeRouteOverlaps('/other', node), []);
    assert.deepEqual(nodeRouteOverlaps('/x', null), []);
  });
});

describe('camera URL credentials in a deploy body', () => {
  const SECRET = 'p@ss:w/rd%';
  const dirty = `rtsp://admin:${encodeURIComponent(SECRET)}@10.0.0.5:554/live`;

  test('v1 array, v2 with a plain credential set, /flow bodies; the credential fields win', () => {
    const v1 = [{ id: 'c1', type: 'rtsp-camera', url: dirty }, { id: 'x', type: 'inject', url: dirty }];
    assert.equal(moveUrlCredentials(v1, 'rtsp-camera', () => undefined), 1);
    assert.deepEqual(v1[0], { id: 'c1', type: 'rtsp-camera', url: 'rtsp://10.0.0.5:554/live', credentials: { username: 'admin', password: SECRET } });
    assert.equal(v1[1]?.url, dirty, 'other node types are not touched');

    const typed = [{ id: 'c2', type: 'rtsp-camera', url: dirty, credentials: { username: 'typed', password: '' } }];
    moveUrlCredentials(typed, 'rtsp-camera', () => undefined);
    assert.deepEqual(typed[0]?.credentials, { username: 'typed', password: SECRET }, 'a typed user name wins; an empty password is filled');

    const kept = [{ id: 'c3', type: 'rtsp-camera', url: dirty, credentials: { password: '__PWRD__' } }];
    moveUrlCredentials(kept, 'rtsp-camera', () => ({ username: 'saved', password: 'stored' }));
    assert.deepEqual(kept[0]?.credentials, { password: '__PWRD__' }, 'stored credentials win');
    assert.equal(kept[0]?.url, 'rtsp://10.0.0.5:554/live');

    const v2 = { flows: [{ id: 'c4', type: 'rtsp-camera', url: dirty }], credentials: { c4: { username: '' } } };
    moveUrlCredentials(v2, 'rtsp-camera', () => undefined);
    assert.deepEqual(v2.credentials.c4, { username: 'admin', password: SECRET });

    const flow = { id: 'tab', nodes: [], configs: [{ id: 'c5', type: 'rtsp-camera', url: 'rtsps://bob@[::1]:8322/a' }] };
    moveUrlCredentials(flow, 'rtsp-camera', () => undefined);
    assert.deepEqual(flow.configs[0], { id: 'c5', type: 'rtsp-camera', url: 'rtsps://[::1]:8322/a', credentials: { username: 'bob' } });

    const encrypted = { flows: [{ id: 'c6', type: 'rtsp-camera', url: dirty }], credentials: { $: 'abc' } };
    assert.equal(moveUrlCredentials(encrypted, 'rtsp-camera', () => undefined), 0, 'an encrypted set cannot be merged');
  });

  test('any body: no throw, and a cleaned URL holds no userinfo (property)', () => {
    const node = fc.record({
      id: fc.string(), type: fc.constantFrom('rtsp-camera', 'other'),
      url: fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true }).map((u) => u.replace('://', '://u:p@'))),
      credentials: fc.option(fc.dictionary(fc.string(), fc.string())),
    }, { requiredKeys: [] });
    fc.assert(fc.property(fc.oneof(fc.array(node), fc.record({ flows: fc.array(node), credentials: fc.option(fc.anything()) }), fc.anything()), (body) => {
      moveUrlCredentials(body, 'rtsp-camera', () => undefined);
      // an encrypted credential set ('$') cannot be merged: such a body is left as it is (vector above)
      const creds = (body as { credentials?: unknown } | null)?.credentials;
      if (typeof creds === 'object' && creds !== null && '$' in creds) return;
      const list = Array.isArray(body) ? body : (body as { flows?: unknown[] } | null)?.flows ?? [];
      for (const n of list as { id?: unknown; type?: unknown; url?: unknown }[]) {
        // a node without an id has nowhere to keep credentials: Node-RED refuses it anyway
        if (n && typeof n.id === 'string' && n.type === 'rtsp-camera' && typeof n.url === 'string') {
          const again = splitUrlCredentials(n.url);
          assert.ok(again.username === undefined && again.password === undefined, `userinfo left in ${n.url}`);
        }
      }
    }), { numRuns: 200 });
  });

  test('the guard sits after the admin app\'s body parsers, before its routes, also when RED.httpAdmin is mounted on it', async () => {
    const editor = express();
    editor.use(express.json());
    const seen: unknown[] = [];
    editor.post('/flows', (req: { body: unknown }, res: { end(): void }) => {
      seen.push(req.body);
      res.end();
    });
    const runtimeApp = express();
    editor.use(runtimeApp);
    let moved = 0;
    assert.equal(installDeployGuard(runtimeApp, 'rtsp-camera', () => undefined, (n) => (moved += n)), true);
    const server = createServer(editor);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/flows`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ id: 'c', type: 'rtsp-camera', url: dirty }]),
      });
      assert.equal(r.status, 200);
      assert.deepEqual(seen, [[{ id: 'c', type: 'rtsp-camera', url: 'rtsp://10.0.0.5:554/live', credentials: { username: 'admin', password: SECRET } }]]);
      assert.equal(moved, 1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    assert.equal(installDeployGuard(null, 'rtsp-camera', () => undefined, () => undefined), false);
  });
});
