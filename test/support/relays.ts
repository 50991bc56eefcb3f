/**
 * Third-party RTSP relays for the interop suite, fed by FFmpeg's RTSP muxer (ANNOUNCE +
 * RECORD, RFC 2326 §10.3 and §10.11) and read by our client:
 *
 * - rtsp-server-perl (Debian package; Perl's RTSP::Server 0.06): UDP only, answers a TCP
 *   SETUP with 400 because it finds no client_port in it;
 * - rtsp-streaming-server (npm, a JavaScript port of the same server): UDP only, answers a
 *   TCP SETUP with 461, GET_PARAMETER with 501, `Session: <id>;timeout=30`.
 *
 * Both are started on free ports; FFmpeg publishes testsrc2 as MJPEG with the standard
 * Huffman tables and two quantisation tables (RFC 2435 §4.2 needs both), and the relay is
 * ready once DESCRIBE on its client port answers 200.
 */
import * as net from 'node:net';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPair, spawnTracked, stopChild, waitForLine } from './peers';

export interface Relay {
  /** the URL our client reads */
  url: string;
  /** FFmpeg's warnings so far */
  publisherLog(): string;
  stop(): Promise<void>;
}

/** Status code of one DESCRIBE on a fresh connection (0 when the connection fails). */
function describeStatus(url: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port), u.hostname);
    let buf = '';
    const done = (code: number): void => { clearTimeout(timer); s.destroy(); resolve(code); };
    const timer = setTimeout(() => done(0), 2000);
    s.on('connect', () => s.write(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n`));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const m = /^RTSP\/1\.0 (\d{3})/.exec(buf);
      if (m) done(Number(m[1]));
    });
    s.on('error', () => done(0));
  });
}

async function waitDescribable(url: string, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < end) {
    last = await describeStatus(url);
    if (last === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`relay at ${url} not serving (last DESCRIBE status ${last}): ${what()}`);
}

/** FFmpeg publishing MJPEG to `url` with ANNOUNCE/RECORD over UDP. */
function startPublisher(url: string, o: { width: number; height: number; fps: number; duration: number }): { log(): string; stop(): Promise<void> } {
  const args = ['-hide_banner', '-nostdin', '-v', 'warning', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`,
    '-t', String(o.duration), '-pix_fmt', 'yuvj420p', '-c:v', 'mjpeg', '-q:v', '5', '-huffman', 'default', '-force_duplicated_matrix', '1',
    '-f', 'rtsp', '-rtsp_transport', 'udp', url];
  const child = spawnTracked('ffmpeg', args);
  let log = '';
  child.stdout?.resume();
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  return { log: () => log, stop: () => stopChild(child) };
}

export interface RelayOptions { width?: number; height?: number; fps?: number; duration?: number }

export async function startPerlRelay(o: RelayOptions = {}): Promise<Relay> {
  const clientPort = await freeTcpPort();
  const sourcePort = await freeTcpPort();
  // RTSP::Server hands out UDP ports upwards from here: 2 for the source, 2 per client
  const rtpBase = await freeUdpPair();
  const relay = spawnTracked('timeout', ['-s', 'KILL', String((o.duration ?? 60) + 5), 'rtsp-server-perl',
    '--clientport', String(clientPort), '--serverport', String(sourcePort),
    '--client_listen_address', '127.0.0.1', '--source_listen_address', '127.0.0.1', '--rtp_start_port', String(rtpBase)]);
  let relayLog = '';
  relay.stdout?.on('data', (d: Buffer) => { relayLog = (relayLog + d.toString()).slice(-4000); });
  relay.stderr?.on('data', (d: Buffer) => { relayLog = (relayLog + d.toString()).slice(-4000); });
  await waitListening(sourcePort, 10000);
  const pub = startPublisher(`rtsp://127.0.0.1:${sourcePort}/cam`, { width: o.width ?? 320, height: o.height ?? 240, fps: o.fps ?? 25, duration: o.duration ?? 60 });
  const stop = async (): Promise<void> => { await pub.stop(); await stopChild(relay); };
  const url = `rtsp://127.0.0.1:${clientPort}/cam`;
  try {
    await waitDescribable(url, 15000, () => `${pub.log()} ${relayLog}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, publisherLog: pub.log, stop };
}

export async function startJsRelay(o: RelayOptions = {}): Promise<Relay> {
  const clientPort = await freeTcpPort();
  const sourcePort = await freeTcpPort();
  const rtpBase = await freeUdpPair();
  // In a child process: the package has no stop(), and its sockets must not outlive the test.
  const code = `const S = require('rtsp-streaming-server').default;
new S({ serverPort: ${sourcePort}, clientPort: ${clientPort}, rtpPortStart: ${rtpBase}, rtpPortCount: 10 }).start()
  .then(() => console.log('READY'), (e) => { console.error(e); process.exit(2); });
setTimeout(() => process.exit(0), ${((o.duration ?? 60) + 5) * 1000});`;
  const relay = spawnTracked(process.execPath, ['-e', code], { cwd: join(__dirname, '..', '..') });
  let relayLog = '';
  relay.stderr?.on('data', (d: Buffer) => { relayLog = (relayLog + d.toString()).slice(-4000); });
  try {
    await waitForLine(relay, /^READY/, 10000, 'rtsp-streaming-server');
  } catch (e) {
    await stopChild(relay);
    throw e;
  }
  relay.stdout?.resume();
  const pub = startPublisher(`rtsp://127.0.0.1:${sourcePort}/cam`, { width: o.width ?? 320, height: o.height ?? 240, fps: o.fps ?? 25, duration: o.duration ?? 60 });
  const stop = async (): Promise<void> => { await pub.stop(); await stopChild(relay); };
  const url = `rtsp://127.0.0.1:${clientPort}/cam`;
  try {
    await waitDescribable(url, 15000, () => `${pub.log()} ${relayLog}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, publisherLog: pub.log, stop };
}

function waitListening(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`nothing listens on 127.0.0.1:${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}
