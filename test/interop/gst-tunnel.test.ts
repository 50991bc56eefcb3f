/**
 * RTSP over HTTP (the QuickTime tunnel) against GStreamer's RTSP server, which serves the
 * tunnel on its RTSP port: our HttpTunnel opens the GET and POST connections, and a full RTSP
 * exchange (OPTIONS, DESCRIBE, SETUP RTP/AVP/TCP interleaved, PLAY, TEARDOWN) runs through it
 * with the repository's message serializer and reader, with no authentication, Basic and
 * Digest (GStreamer checks credentials on the tunnelled RTSP requests, not on the GET).
 * Interleaved RTP is rebuilt into JPEGs by our depacketizer and every one is decoded by djpeg;
 * a receiver report written into the tunnel reaches the server's RTP session; after our POST
 * connection is closed, the TEARDOWN reaches the server on a new POST with the same cookie.
 * After TEARDOWN and destroy(), both TCP connections must be gone on both ends
 * (/proc/net/tcp), not merely destroyed on our side. Then the same through the public
 * surfaces: openCamera({ transport: 'http' }) and `rtsp-mjpeg grab --transport http`.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessPeer, startGstServer, runClient, assertGoodRun, type GstServer } from '../support/peers';
import { decodeJpeg } from '../support/djpeg';
import { openHttpTunnel } from '../../src/transport/tunnel/open';
import type { HttpTunnel } from '../../src/transport/tunnel/socket';
import { RtspReader, header, type RtspResponse } from '../../src/rtsp/message';
import { serializeRequest, interleavedFrame } from '../../src/rtsp/serialize';
import { buildReceiverReportCompound } from '../../src/rtcp/build';
import { Authenticator } from '../../src/rtsp/auth';
import { parseSdp, pickVideoTrack } from '../../src/sdp/media';
import { parseTransport, parseSessionHeader } from '../../src/rtsp/transport-header';
import { JpegDepacketizer, type JpegFrame } from '../../src/jpeg/depacketizer';

const USER = 'viewer';
const PASSWORD = 'tunnel:pa ss"1';
const FRAMES = 10;
const ROOT = join(__dirname, '..', '..');

/** IPv4 TCP connections in /proc/net/tcp touching `port` on 127.0.0.1, by state name. */
function tcpStates(port: number): { client: string[]; server: string[] } {
  const names: Record<string, string> = { '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING' };
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const out = { client: [] as string[], server: [] as string[] };
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [local, remote, st] = [f[1]!, f[2]!, names[f[3]!] ?? f[3]!];
    if (remote === `0100007F:${hex}`) out.client.push(st);
    else if (local === `0100007F:${hex}` && st !== 'LISTEN') out.server.push(st);
  }
  return out;
}

/** A minimal RTSP client over the tunnel: one request at a time, RTSP-level 401 answered. */
class TunnelClient {
  private cseq = 0;
  private waiting: ((res: RtspResponse) => void) | null = null;
  private auth: Authenticator | null = null;
  session: string | null = null;
  readonly frames: JpegFrame[] = [];
  readonly depay = new JpegDepacketizer();
  rtpChannel = -1;
  /** 401s answered at the RTSP level */
  challenges = 0;
  readerError: Error | null = null;
  private frameWaiter: (() => void) | null = null;

  constructor(private readonly tunnel: HttpTunnel, private readonly creds?: { user: string; password: string }) {
    const reader = new RtspReader({
      onResponse: (res) => { const w = this.waiting; this.waiting = null; w?.(res); },
      onRequest: () => undefined,
      onInterleaved: (channel, data, start, end) => {
        if (channel !== this.rtpChannel) return;
        const frame = this.depay.push(data.subarray(start, end));
        if (frame) {
          this.frames.push(frame);
          if (this.frames.length >= FRAMES) this.frameWaiter?.();
        }
      },
      onError: (err) => { this.readerError = err; },
    });
    tunnel.setReceiver((chunk) => reader.push(chunk));
  }

  async request(method: string, uri: string, extra: [string, string][] = []): Promise<RtspResponse> {
    for (let round = 0; round < 3; round++) {
      const headers: [string, string][] = [['CSeq', String(++this.cseq)], ['User-Agent', 'tunnel-interop']];
      const authorization = this.auth?.authorization(method, uri);
      if (authorization) headers.push(['Authorization', authorization]);
      if (this.session !== null) headers.push(['Session', this.session]);
      headers.push(...extra);
      const res = await new Promise<RtspResponse>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${method}: no response through the tunnel within 8 s`)), 8000);
        this.waiting = (r): void => { clearTimeout(timer); resolve(r); };
        this.tunnel.write(serializeRequest(method, uri, headers));
      });
      assert.equal(res.cseq, this.cseq, `${method}: CSeq of the response`);
      if (res.statusCode !== 401 || !this.creds) return res;
      this.challenges++;
      this.auth ??= new Authenticator(this.creds.user, this.creds.password);
      assert.equal(this.auth.onChallenge(res.headers.get('www-authenticate') ?? []), 'retry', `${method}: challenge answered`);
    }
    throw new Error(`${method}: still 401 after answering the challenge`);
  }

  waitFrames(ms: number): Promise<boolean> {
    if (this.frames.length >= FRAMES) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.frameWaiter = (): void => { clearTimeout(timer); this.frameWaiter = null; resolve(true); };
    });
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

describe('GStreamer RTSP server: RTSP over HTTP tunnel', () => {
  const servers: GstServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  for (const auth of ['none', 'basic', 'digest'] as const) {
    test(`auth ${auth}: OPTIONS, DESCRIBE, SETUP interleaved, PLAY through the tunnel; ${FRAMES} frames decode; both connections closed after TEARDOWN`, async (t) => {
      if (!skipUnlessPeer(t, 'gst-rtsp-server', 'djpeg')) return;
      const server = await startGstServer({ auth, user: USER, password: PASSWORD, protocols: 'tcp', duration: 60 });
      servers.push(server);
      const url = server.url;
      let tunnel: HttpTunnel | null = null;
      const tunnelErrors: Error[] = [];
      try {
        tunnel = await openHttpTunnel({ host: '127.0.0.1', port: server.port, path: '/cam', timeoutMs: 8000 });
        tunnel.on('error', (e: Error) => tunnelErrors.push(e));
        const closed = new Promise<void>((resolve) => tunnel!.once('close', () => resolve()));
        assert.equal(tunnel.remoteAddress, '127.0.0.1');
        assert.deepEqual(tcpStates(server.port).client.filter((s) => s === 'ESTABLISHED').length, 2, 'GET and POST connections open');

        const client = new TunnelClient(tunnel, auth === 'none' ? undefined : { user: USER, password: PASSWORD });
        const options = await client.request('OPTIONS', url);
        assert.equal(options.statusCode, 200, `OPTIONS: ${options.statusCode} ${options.reason}`);
        const describe = await client.request('DESCRIBE', url, [['Accept', 'application/sdp']]);
        assert.equal(describe.statusCode, 200, `DESCRIBE: ${describe.statusCode} ${describe.reason}`);
        const sdp = parseSdp(describe.body.toString('utf8'), header(describe.headers, 'Content-Base') ?? url);
        const track = sdp && pickVideoTrack(sdp);
        assert.ok(sdp && track && track.encoding === 'JPEG', 'SDP offers a JPEG track');
        const setup = await client.request('SETUP', track.control, [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']]);
        assert.equal(setup.statusCode, 200, `SETUP: ${setup.statusCode} ${setup.reason}`);
        client.session = parseSessionHeader(header(setup.headers, 'Session') ?? '').id;
        assert.ok(client.session, 'SETUP reply has a Session');
        const tr = parseTransport(header(setup.headers, 'Transport') ?? '')[0];
        client.rtpChannel = tr?.interleaved?.[0] ?? 0;
        const play = await client.request('PLAY', sdp.sessionControl);
        assert.equal(play.statusCode, 200, `PLAY: ${play.statusCode} ${play.reason}`);

        assert.ok(await client.waitFrames(10000), `only ${client.frames.length} frames through the tunnel in 10 s; depacketizer ${JSON.stringify(client.depay.stats)}`);
        assert.equal(client.readerError, null);
        for (const f of client.frames.slice(0, FRAMES)) {
          const d = decodeJpeg(f.jpeg);
          assert.ok(d.ok, `djpeg: ${d.error ?? ''}`);
          assert.equal(d.width, 320);
          assert.equal(d.height, 240);
        }

        // RTCP back to the server goes the same way (base64 on the POST), as the connection's sendInterleaved will send it
        const rtcpChannel = tr?.interleaved?.[1] ?? 1;
        const mediaSsrc = client.frames[0]!.ssrc;
        tunnel.write(interleavedFrame(rtcpChannel, buildReceiverReportCompound({ ssrc: 0x7e57, cname: 'tunnel@test', blocks: [{
          ssrc: mediaSsrc, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 1, jitter: 0, lastSr: 0, delaySinceLastSr: 0,
        }] })));
        assert.ok(await waitUntil(() => server.rtcp.some((r) => r.hasRR && r.cnames.includes('tunnel@test')), 3000),
          `the server saw no receiver report from the tunnel: ${JSON.stringify(server.rtcp.map((r) => r.line))}`);

        // Our POST closed (as a proxy may do): the TEARDOWN goes on a new POST with the same
        // cookie, which GStreamer binds to the tunnel it still holds.
        (tunnel as unknown as { post: { socket: { destroy(): void } } | null }).post?.socket.destroy();
        assert.ok(await waitUntil(() => {
          const st = tcpStates(server.port);
          return st.client.filter((x) => x === 'ESTABLISHED').length === 1 && st.server.filter((x) => x === 'ESTABLISHED').length === 1 && !st.server.includes('CLOSE_WAIT');
        }, 3000), `POST connection closed on both ends: ${JSON.stringify(tcpStates(server.port))}`);
        const teardown = await client.request('TEARDOWN', sdp.sessionControl);
        assert.equal(tunnel.postReopens, 1);
        assert.equal(teardown.statusCode, 200, `TEARDOWN: ${teardown.statusCode} ${teardown.reason}`);
        if (auth !== 'none') assert.ok(client.challenges > 0, 'the server challenged the tunnelled requests');
        tunnel.destroy();
        let timer: NodeJS.Timeout | undefined;
        const closedInTime = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), 3000); })]);
        clearTimeout(timer);
        assert.ok(closedInTime, "no 'close' event within 3 s of destroy()");
        assert.equal(tunnel.writableLength, 0);
        // Our side: no connection to the server left open; the server's side: closed too
        // (CLOSE_WAIT would mean the server never closed its end).
        const gone = await waitUntil(() => {
          const s = tcpStates(server.port);
          return !s.client.some((x) => x === 'ESTABLISHED' || x === 'CLOSE_WAIT') && !s.server.some((x) => x === 'ESTABLISHED' || x === 'CLOSE_WAIT');
        }, 3000);
        assert.ok(gone, `connections still open after TEARDOWN + destroy: ${JSON.stringify(tcpStates(server.port))}`);
        assert.deepEqual(tunnelErrors.map((e) => e.message), []);
      } finally {
        tunnel?.destroy();
      }
    });
  }
});

/** Runs the CLI from source (as test/unit/cli-commands.test.ts does), bounded in time. */
function runCli(args: string[], env: Record<string, string>, timeoutMs = 30000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = ''; let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

/** No connection to `port` left open on either end (CLOSE_WAIT: one side never closed). */
function allClosed(port: number): boolean {
  const s = tcpStates(port);
  return !s.client.some((x) => x === 'ESTABLISHED' || x === 'CLOSE_WAIT') && !s.server.some((x) => x === 'ESTABLISHED' || x === 'CLOSE_WAIT');
}

describe("GStreamer RTSP server: transport 'http' in the library and the CLI", () => {
  const servers: GstServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  for (const auth of ['basic', 'digest'] as const) {
    test(`auth ${auth}: openCamera({ transport: 'http' }) and grab --transport http stream; every frame decodes; GET and POST closed after TEARDOWN`, async (t) => {
      if (!skipUnlessPeer(t, 'gst-rtsp-server', 'djpeg', 'ffmpeg')) return;
      const server = await startGstServer({ auth, user: USER, password: PASSWORD, protocols: 'tcp', duration: 60 });
      servers.push(server);

      // library
      let open = 0;
      const run = await runClient(server.url, { transport: 'http', username: USER, password: PASSWORD }, {
        streamMs: 1000,
        during: async () => { open = tcpStates(server.port).client.filter((s) => s === 'ESTABLISHED').length; },
      });
      assertGoodRun(run, { width: 320, height: 240 });
      assert.equal(run.stats?.transport, 'http');
      assert.equal(open, 2, 'GET and POST connections while playing');
      assert.ok(await waitUntil(() => server.teardowns() === 1, 3000), 'TEARDOWN reached the server through the tunnel');
      assert.ok(await waitUntil(() => allClosed(server.port), 3000), `connections still open after close(): ${JSON.stringify(tcpStates(server.port))}`);

      // CLI (password from the environment, as documented)
      const dir = mkdtempSync(join(tmpdir(), 'grab-http-'));
      try {
        const r = await runCli(['grab', server.url, '--transport', 'http', '--username', USER, '--frames', '5', '--out', dir, '--timeout', '20'], { RTSP_PASSWORD: PASSWORD });
        assert.equal(r.code, 0, r.err);
        const stats = JSON.parse(r.out.trim().split('\n').pop()!) as { transport: string; framesEmitted: number };
        assert.equal(stats.transport, 'http');
        const files = readdirSync(dir).sort();
        assert.equal(files.length, 5, files.join(','));
        for (const f of files) {
          const d = decodeJpeg(readFileSync(join(dir, f)));
          assert.ok(d.ok && d.width === 320 && d.height === 240, `${f}: ${d.error ?? `${d.width}x${d.height}`}`);
        }
        assert.ok(!r.out.includes(PASSWORD) && !r.err.includes(PASSWORD), 'password printed');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assert.ok(await waitUntil(() => server.teardowns() === 2, 3000), 'the CLI sent TEARDOWN through the tunnel');
      assert.ok(await waitUntil(() => allClosed(server.port), 3000), `connections still open after grab: ${JSON.stringify(tcpStates(server.port))}`);
    });
  }
});
