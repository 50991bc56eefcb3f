/**
 * Each failure a user meets reaches the node's status and a Catch node with its own reason,
 * a detail that says what was tried, and no stack trace: a host name that does not resolve,
 * a camera that never answers, a network without a route, a path the camera does not have,
 * a camera that only sends H.264 (which must not be hammered). All cameras run in one flow
 * so the suite waits for the slowest (the 10 s request timeout) only once. Also: the camera
 * config node's info log, one line per connection change and never one per retry.
 */
import { test, describe, before, after, afterEach, type TestContext } from 'node:test';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { NodeMessage } from 'node-red';
import { helper, until, sleep, type FlowNode } from '../support/node-red-helper';
import { startFakeServer, type FakeServer } from '../support/fake-rtsp-server';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import rtcpStatsNode from '../../src/nodes/rtcp-stats';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { takePorts } from '../support/ports';

const NODES = [cameraNode, mjpegInNode, rtcpStatsNode];
const SECRET = 'n0t-in-any:message';
const tab: FlowNode = { id: 'f1', type: 'tab' };

const H264_SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=h264 only', 'c=IN IP4 0.0.0.0', 't=0 0',
  'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 packetization-mode=1', 'a=control:stream=0'].join('\r\n') + '\r\n';

/**
 * Documentation-range IPv6 addresses (RFC 3849) whose connect fails with the routing error
 * named: injected by replacing net.connect for these hosts only, so the case runs the same on
 * every machine, whatever its routes (some sandboxes proxy every address, some have no IPv6).
 */
const UNREACHABLE: Record<string, 'ENETUNREACH' | 'EHOSTUNREACH'> = { '2001:db8::1': 'ENETUNREACH', '2001:db8::2': 'EHOSTUNREACH' };
/** node:net itself (the module object the library calls connect on), not an import wrapper */
const netModule = createRequire(__filename)('node:net') as typeof net;

/** Makes connects to the UNREACHABLE hosts fail as the kernel would, for the test's duration. */
function injectRoutingErrors(t: TestContext): void {
  const original = netModule.connect.bind(netModule) as (...a: unknown[]) => net.Socket;
  t.mock.method(netModule, 'connect', (...args: unknown[]): net.Socket => {
    const o = args[0] as { host?: string; port?: number } | undefined;
    const code = typeof o === 'object' && o?.host !== undefined ? UNREACHABLE[o.host] : undefined;
    if (!code) return original(...args);
    const s = new netModule.Socket();
    const err = Object.assign(new Error(`connect ${code} ${o!.host}:${o!.port}`), { code, errno: code === 'ENETUNREACH' ? -101 : -113, syscall: 'connect', address: o!.host, port: o!.port });
    process.nextTick(() => s.destroy(err));
    return s;
  });
}

/** camera `cam<k>` and its `rtsp-mjpeg in` */
function caseNodes(k: string, url: string): FlowNode[] {
  return [
    { id: `cam${k}`, type: 'rtsp-camera', name: `camera ${k}`, url, transport: 'tcp' },
    { id: `in${k}`, type: 'rtsp-mjpeg in', z: 'f1', camera: `cam${k}`, maxFps: 0, mode: 'stream', wires: [[]] },
  ];
}

const statusTexts = (id: string): string[] =>
  ((helper.getNode(id).status as unknown as { args: [{ text?: string }][] }).args).map(([s]) => s?.text ?? '');

let silent: net.Server | null = null;
let fake: FakeServer | null = null;
let demo: DemoCamera | null = null;

before(async () => {
  await helper.startServer();
});
afterEach(async () => {
  await helper.unload();
  if (fake) await fake.close();
  fake = null;
  if (silent) await new Promise<void>((r) => silent!.close(() => r()));
  silent = null;
  if (demo) await demo.close();
  demo = null;
});
after(async () => {
  await helper.stopServer();
});

describe('error reasons through status and Catch', () => {
  test('host not found, timeout, network unreachable, a missing path, an H.264-only camera', { timeout: 60_000 }, async (t) => {
    // accepts the TCP connection, reads (so it sees the client close) and never says a word
    const quiet = net.createServer((sock) => sock.on('error', () => undefined).resume());
    silent = quiet;
    await new Promise<void>((r) => quiet.listen(0, '127.0.0.1', () => r()));
    const silentPort = (quiet.address() as net.AddressInfo).port;
    const server = await startFakeServer((req, c) => {
      if (req.method === 'OPTIONS') c.reply(req, 200, { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN' });
      else if (req.method === 'DESCRIBE' && req.uri.endsWith('/h264')) c.reply(req, 200, { 'Content-Type': 'application/sdp', 'Content-Base': `${req.uri}/` }, H264_SDP);
      else if (req.method === 'DESCRIBE') c.reply(req, 404);
      else c.reply(req, 455);
    });
    fake = server;
    injectRoutingErrors(t);

    const cases: { k: string; url: string; reason: string; status: RegExp; detail: RegExp }[] = [
      { k: 'Host', url: 'rtsp://camera.invalid:554/stream', reason: 'host not found',
        status: /^host not found: check the host name, retry in \d+ s$/, detail: /^host not found: cannot connect to camera\.invalid:554: (ENOTFOUND|EAI_AGAIN)/ },
      { k: 'Timeout', url: `rtsp://127.0.0.1:${silentPort}/stream`, reason: 'timeout',
        status: /^timeout, retry in \d+ s$/, detail: /^timeout: OPTIONS: no response within 10000 ms$/ },
      { k: '404', url: server.url('/missing'), reason: 'not found',
        status: /^not found: check the path in the URL, retry in \d+ s$/, detail: /^not found: DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/missing: 404 Not Found$/ },
      { k: 'H264', url: server.url('/h264'), reason: 'unsupported codec',
        status: /^unsupported codec: enable a Motion-JPEG stream on the camera, retry in (2[4-9]|3[0-6]) s$/, detail: /^unsupported codec: the video track is H264, not Motion-JPEG$/ },
    ];
    for (const [i, [host, code]] of Object.entries(UNREACHABLE).entries()) {
      cases.push({ k: `Unreachable${i}`, url: `rtsp://[${host}]:554/stream`, reason: 'network unreachable',
        status: /^network unreachable: check the address and the network route, retry in \d+ s$/, detail: new RegExp(`^network unreachable: cannot connect to \\[?${host}\\]?:554: ${code}$`) });
    }
    const creds: Record<string, { username: string; password: string }> = {};
    for (const c of cases) creds[`cam${c.k}`] = { username: 'admin', password: SECRET };
    // one Catch node for all (the test helper cannot load two): messages sorted by source
    await helper.load(NODES, [tab, ...cases.flatMap((c) => caseNodes(c.k, c.url)),
      { id: 'c1', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['hc']] }, { id: 'hc', type: 'helper', z: 'f1' }], creds);
    const caught = new Map<string, NodeMessage[]>(cases.map((c) => [c.k, []]));
    helper.getNode('hc').on('input', (m: NodeMessage) => {
      const source = String((m.error as { source?: { id?: string } } | undefined)?.source?.id).replace(/^in/, '');
      (caught.get(source) ?? caught.set(source, []).get(source)!).push(m);
    });
    await until(() => cases.every((c) => caught.get(c.k)!.length > 0 && statusTexts(`in${c.k}`).some((s) => c.status.test(s))),
      'every case reported', 20_000);
    // the H.264 camera must still be waiting for its first retry after several seconds
    await sleep(3000);

    for (const c of cases) {
      const msgs = caught.get(c.k)!;
      assert.equal(msgs.length, 1, `${c.k}: one Catch message`);
      const m = msgs[0]!;
      assert.equal(m.reason, c.reason, c.k);
      const err = m.error as Record<string, unknown>;
      assert.equal(err.code, c.reason, `${c.k}: msg.error.code`);
      assert.match(String(err.message), c.detail, `${c.k}: msg.error.message`);
      assert.equal('stack' in err, false, `${c.k}: no stack in msg.error (${String(err.stack)})`);
      assert.ok(statusTexts(`in${c.k}`).some((s) => c.status.test(s)), `${c.k}: status ${JSON.stringify(statusTexts(`in${c.k}`))}`);
      assert.ok(!JSON.stringify(m).includes(SECRET) && !statusTexts(`in${c.k}`).join().includes(SECRET), `${c.k}: no password`);
    }
    // the first H.264 retry is due after 24..36 s (the schedule itself: camera-backoff.test.ts)
    const h264Connections = server.conns.filter((cn) => server.requests.some((r) => r.connIndex === cn.index && r.uri.endsWith('/h264'))).length;
    assert.equal(h264Connections, 1, 'the H.264-only camera is not retried within seconds');
    const missingDescribes = server.requests.filter((r) => r.method === 'DESCRIBE' && r.uri.endsWith('/missing')).length;
    assert.ok(missingDescribes >= 2 && missingDescribes <= 4, `a repeated 404 backs off after the first quick retry (${missingDescribes} DESCRIBEs)`);
  });
});

describe('connection log', () => {
  test('one info line for connected, lost and recovered; none per retry; no password', { timeout: 30_000 }, async () => {
    const password = 'pa55:w@rd';
    // a port no other test process binds, so it is still free when the camera comes back
    demo = await startDemoCamera({ port: await takePorts(1), width: 320, height: 240, fps: 15, auth: 'digest', username: 'admin', password });
    const url = demo.url;
    const port = Number(new URL(url.replace(/^rtsp:/, 'http:')).port);
    await helper.load(NODES, [tab,
      { id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp', reconnectMin: 0.1, reconnectMax: 0.2 },
      { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [[]] }],
    { cam: { username: 'admin', password } });
    const cam = helper.getNode('cam');
    const lines = (): string[] => ((cam.log as unknown as { args: unknown[][] }).args).map((a) => String(a[0]));
    await until(() => lines().length === 1, 'the connected line');
    assert.match(lines()[0]!, new RegExp(`^connected to ${url.replace(/[.]/g, '\\.')} over tcp, 320×240 at 15 fps$`));

    await demo.close();
    demo = null;
    await until(() => lines().length === 2, 'the lost line');
    assert.match(lines()[1]!, /^lost rtsp:\/\/127\.0\.0\.1:\d+\/\S*: (connection lost|end of stream)/);
    // many retries while the camera is down (0.1..0.2 s apart), and still two lines
    await until(() => statusTexts('in1').filter((s) => /retry/.test(s)).length >= 5, 'several retries');
    assert.equal(lines().length, 2, lines().join('\n'));

    demo = await startDemoCamera({ port, width: 320, height: 240, fps: 15, auth: 'digest', username: 'admin', password });
    await until(() => lines().length === 3, 'the recovered line', 10_000);
    assert.match(lines()[2]!, /^recovered rtsp:\/\/127\.0\.0\.1:\d+\/\S* after \d+ s, over tcp, 320×240 at 15 fps$/);
    assert.ok(statusTexts('in1').includes('connected, waiting for frames'), 'waiting for frames after connecting');
    assert.ok(statusTexts('in1').every((s) => !/^0\.0 fps/.test(s)), 'never a green 0.0 fps');
    assert.ok(!lines().join('\n').includes(password) && !lines().join('\n').includes(encodeURIComponent(password)));
  });
});
