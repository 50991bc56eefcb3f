/**
 * Real peers for the interop suite: GStreamer's RTSP server (test/peers/gst-rtsp-server.py),
 * FFmpeg as RTP/JPEG payloader and as reference decoder, VLC as RTSP server, libjpeg-turbo's
 * djpeg, and dumpcap/tshark for captures on lo. Everything binds 127.0.0.1, every child runs
 * in its own process group with a time limit, and every child started here is killed when
 * the test process exits, even if a test failed before calling stop().
 *
 * A missing peer skips the test with the Debian package to install, except under
 * REQUIRE_PEERS=1 (CI), where it fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket, type Socket } from 'node:dgram';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { vectorPackets } from './pcap';
import { decodeEach, pixelHashes } from './djpeg';
import { takePorts } from './ports';
import { openCamera } from '../../src/index';
import type { CameraOptions, FrameInfo, StateChange, StatsReport } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';

export type PeerName = 'gst-rtsp-server' | 'gst-libav' | 'gst-h264' | 'ffmpeg' | 'djpeg' | 'tshark' | 'vlc' | 'rtsp-server-perl';

const PYTHON = '/usr/bin/python3';
const PEERS_DIR = join(__dirname, '..', 'peers');
export const GST_LAUNCHER = join(PEERS_DIR, 'gst-rtsp-server.py');
export const GST_DEPAY = join(PEERS_DIR, 'gst-depay.py');

/* ------------------------------------------------------------------------------------------ */
/* availability                                                                                */

const availability = new Map<PeerName, { ok: boolean; why?: string }>();

function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 15000 });
  return !r.error && r.status === 0;
}

function probe(name: PeerName): { ok: boolean; why?: string } {
  switch (name) {
    case 'gst-rtsp-server': {
      const py = `import gi; gi.require_version('GstRtspServer','1.0'); from gi.repository import Gst, GstRtspServer; Gst.init(None)
for e in ('jpegenc','rtpjpegpay','rtpjpegdepay','videotestsrc','udpsrc','appsrc','mulawenc','rtppcmupay'):
    assert Gst.ElementFactory.find(e), e`;
      if (!existsSync(PYTHON)) return { ok: false, why: `${PYTHON} missing: apt-get install python3-gi` };
      if (!runs(PYTHON, ['-c', py])) {
        return { ok: false, why: 'GStreamer RTSP server not usable from /usr/bin/python3: apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-good gstreamer1.0-plugins-base gstreamer1.0-tools' };
      }
      return { ok: true };
    }
    case 'gst-libav':
      if (!runs('gst-inspect-1.0', ['avenc_mjpeg'])) return { ok: false, why: 'GStreamer avenc_mjpeg missing (restart markers): apt-get install gstreamer1.0-libav' };
      return { ok: true };
    case 'gst-h264':
      if (!runs('gst-inspect-1.0', ['openh264enc']) && !runs('gst-inspect-1.0', ['x264enc'])) return { ok: false, why: 'no GStreamer H.264 encoder (openh264enc): apt-get install gstreamer1.0-plugins-bad' };
      return { ok: true };
    case 'rtsp-server-perl':
      if (!existsSync('/usr/bin/rtsp-server-perl')) return { ok: false, why: 'rtsp-server-perl missing: apt-get install rtsp-server-perl' };
      return { ok: true };
    case 'ffmpeg':
      if (!runs('ffmpeg', ['-hide_banner', '-version'])) return { ok: false, why: 'ffmpeg missing: apt-get install ffmpeg' };
      return { ok: true };
    case 'djpeg':
      if (spawnSync('djpeg', ['-version'], { stdio: 'ignore' }).error) return { ok: false, why: 'djpeg missing: apt-get install libjpeg-turbo-progs' };
      return { ok: true };
    case 'tshark':
      if (!runs('tshark', ['-v']) || !runs('dumpcap', ['-v'])) return { ok: false, why: 'tshark/dumpcap missing: apt-get install tshark' };
      if (!runs('dumpcap', ['-D'])) return { ok: false, why: 'dumpcap cannot list interfaces (capture needs root or the wireshark group)' };
      return { ok: true };
    case 'vlc':
      // VLC refuses to run as root; startVlcServer runs it as nobody, and so does this probe
      if (spawnSync('cvlc', ['--version'], { stdio: 'ignore', timeout: 15000, ...nobodyIds(), env: { ...process.env, HOME: tmpdir() } }).status !== 0) return { ok: false, why: 'cvlc missing: apt-get install vlc-bin vlc-plugin-base' };
      return { ok: true };
  }
}

export function peerAvailable(name: PeerName): { ok: boolean; why?: string } {
  let a = availability.get(name);
  if (!a) {
    a = probe(name);
    availability.set(name, a);
  }
  return a;
}

/**
 * True when every named peer is there. Otherwise skips `t` naming the Debian package(s) and
 * returns false; under REQUIRE_PEERS=1 throws instead, so CI cannot pass by skipping.
 */
export function skipUnlessPeer(t: TestContext, ...names: PeerName[]): boolean {
  const missing = names.map((n) => peerAvailable(n)).filter((a) => !a.ok).map((a) => a.why ?? 'unavailable');
  if (missing.length === 0) return true;
  const msg = `peer missing: ${missing.join('; ')}`;
  if (process.env.REQUIRE_PEERS === '1') throw new Error(`${msg} (REQUIRE_PEERS=1)`);
  t.skip(msg);
  return false;
}

/* ------------------------------------------------------------------------------------------ */
/* child processes                                                                             */

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) killGroup(c, 'SIGKILL');
});

function killGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    try { c.kill(sig); } catch { /* already gone */ }
  }
}

/** Spawns in a new process group (so stop() reaches grandchildren), tracked for exit cleanup. */
export function spawnTracked(cmd: string, args: string[], opts: { uid?: number; gid?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const c = spawn(cmd, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}

/** SIGTERM the group, SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopChild(c: ChildProcess, graceMs = 3000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => killGroup(c, 'SIGKILL'), graceMs);
    c.once('exit', () => { clearTimeout(timer); resolve(); });
    killGroup(c, 'SIGTERM');
  });
}

/** Resolves with the first stdout/stderr line matching `re`; rejects on exit or timeout. */
export function waitForLine(c: ChildProcess, re: RegExp, timeoutMs: number, what: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let tail = '';
    const src = stream === 'stdout' ? c.stdout : c.stderr;
    const other = stream === 'stdout' ? c.stderr : c.stdout;
    const onOther = (d: Buffer): void => { tail = (tail + d.toString()).slice(-2000); };
    const done = (): void => {
      clearTimeout(timer);
      src?.off('data', onData);
      other?.off('data', onOther);
      c.off('exit', onExit);
    };
    const onData = (d: Buffer): void => {
      buf += d.toString();
      tail = (tail + d.toString()).slice(-2000);
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const m = re.exec(l);
        if (m) { done(); resolve(m); return; }
      }
    };
    const onExit = (code: number | null): void => { done(); reject(new Error(`${what} exited (${code}) before ready: ${tail.trim()}`)); };
    const timer = setTimeout(() => { done(); reject(new Error(`${what} not ready within ${timeoutMs} ms: ${tail.trim()}`)); }, timeoutMs);
    src?.on('data', onData);
    other?.on('data', onOther);
    c.once('exit', onExit);
  });
}

/** A TCP port on 127.0.0.1 for a peer to listen on, no other test process's (test/support/ports.ts). */
export function freeTcpPort(): Promise<number> {
  return takePorts(1);
}

/** An even UDP port P with P and P+1 free, no other test process's (RTP convention, RFC 3550 §11). */
export function freeUdpPair(): Promise<number> {
  return takePorts(2);
}

/* ------------------------------------------------------------------------------------------ */
/* GStreamer RTSP server                                                                       */

export interface GstServerOptions {
  port?: number;
  /** listen address (default 127.0.0.1; a test network namespace may use its own) */
  address?: string;
  path?: string;
  width?: number;
  height?: number;
  fps?: number;
  quality?: number;
  pattern?: string;
  format?: 'I420' | 'Y42B';
  mtu?: number;
  auth?: 'none' | 'basic' | 'digest';
  user?: string;
  password?: string;
  protocols?: 'udp' | 'tcp' | 'udp+tcp';
  dri?: boolean;
  audio?: boolean;
  large?: boolean;
  relayUdp?: number;
  /** `h264`: an H.264 stream (openh264enc or x264enc) instead of Motion-JPEG */
  codec?: 'jpeg' | 'h264';
  udpPorts?: [number, number];
  /** multicast address pool `GROUP_LO-GROUP_HI:PORT_LO-PORT_HI`; also allows RTP/AVP;multicast */
  multicast?: string;
  /** hard time limit of the server process, seconds (default 120) */
  duration?: number;
}

/** One receiver report block as the server saw it (RFC 3550 §6.4.1). */
export interface ServerSeenReportBlock {
  reporter: number;
  ssrc: number;
  fractionLost: number;
  cumulativeLost: number;
  extendedHighestSeq: number;
  jitter: number;
  lsr: number;
  dlsr: number;
}

/** One RTCP compound packet the server received, summarised by the launcher. */
export interface ServerSeenRtcp {
  line: string;
  hasRR: boolean;
  cnames: string[];
  blocks: ServerSeenReportBlock[];
}

export interface GstServer {
  url: string;
  port: number;
  /** RTCP compounds received from clients so far (both transports) */
  rtcp: ServerSeenRtcp[];
  /** number of RTSP connections accepted so far */
  connections(): number;
  /** number of TEARDOWN requests the server received so far */
  teardowns(): number;
  /** number of DESCRIBE requests the server received so far */
  describes(): number;
  stop(): Promise<void>;
}

export function parseServerRtcpLine(line: string): ServerSeenRtcp {
  const blocks: ServerSeenReportBlock[] = [];
  const cnames: string[] = [];
  let hasRR = false;
  for (const part of line.replace(/^RTCP /, '').split(' | ')) {
    const pt = /^pt=(\d+)/.exec(part);
    if (!pt) continue;
    if (pt[1] === '201') hasRR = true;
    if (pt[1] === '200' || pt[1] === '201') {
      const reporter = parseInt(/ssrc=([0-9a-f]+)/.exec(part)?.[1] ?? '0', 16);
      for (const m of part.matchAll(/rb=([0-9a-f]+),fraction=(\d+),lost=(-?\d+),ext=(\d+),jitter=(\d+),lsr=([0-9a-f]+),dlsr=(\d+)/g)) {
        blocks.push({
          reporter, ssrc: parseInt(m[1]!, 16), fractionLost: Number(m[2]), cumulativeLost: Number(m[3]),
          extendedHighestSeq: Number(m[4]), jitter: Number(m[5]), lsr: parseInt(m[6]!, 16), dlsr: Number(m[7]),
        });
      }
    }
    if (pt[1] === '202') for (const m of part.matchAll(/cname=(\S+)/g)) cnames.push(m[1]!);
  }
  return { line, hasRR, cnames, blocks };
}

function gstArgs(o: GstServerOptions): string[] {
  const a = ['-u', GST_LAUNCHER, '--exit-on-stdin-eof', '--port', String(o.port ?? 0), '--path', o.path ?? '/cam',
    '--duration', String(o.duration ?? 120)];
  const num = (flag: string, v: number | undefined): void => { if (v !== undefined) a.push(flag, String(v)); };
  num('--width', o.width); num('--height', o.height); num('--fps', o.fps); num('--quality', o.quality); num('--mtu', o.mtu);
  num('--relay-udp', o.relayUdp);
  if (o.address) a.push('--address', o.address);
  if (o.codec) a.push('--codec', o.codec);
  if (o.pattern) a.push('--pattern', o.pattern);
  if (o.format) a.push('--format', o.format);
  if (o.auth) a.push('--auth', o.auth);
  if (o.user !== undefined) a.push('--user', o.user);
  if (o.password !== undefined) a.push('--password', o.password);
  if (o.protocols) a.push('--protocols', o.protocols);
  if (o.dri) a.push('--dri');
  if (o.audio) a.push('--audio');
  if (o.large) a.push('--large');
  if (o.udpPorts) a.push('--udp-ports', `${o.udpPorts[0]}-${o.udpPorts[1]}`);
  if (o.multicast) a.push('--multicast', o.multicast);
  return a;
}

export async function startGstServer(opts: GstServerOptions = {}): Promise<GstServer> {
  const child = spawnTracked(PYTHON, gstArgs(opts));
  const rtcp: ServerSeenRtcp[] = [];
  let connections = 0;
  let teardowns = 0;
  let describes = 0;
  let pending = '';
  child.stdout?.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) {
      if (l.startsWith('RTCP ')) rtcp.push(parseServerRtcpLine(l));
      else if (l.startsWith('CLIENT ')) connections++;
      else if (l === 'TEARDOWN') teardowns++;
      else if (l === 'DESCRIBE') describes++;
    }
  });
  child.stderr?.resume();
  let m: RegExpExecArray;
  try {
    m = await waitForLine(child, /^READY (rtsp:\/\/[0-9.]+:(\d+)\S*)/, 15000, 'gst-rtsp-server.py');
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    url: m[1]!, port: Number(m[2]), rtcp,
    connections: () => connections,
    teardowns: () => teardowns,
    describes: () => describes,
    stop: () => stopChild(child),
  };
}

/* ------------------------------------------------------------------------------------------ */
/* FFmpeg                                                                                      */

export interface FfmpegRtpOptions {
  /** UDP destination port on 127.0.0.1 (RTCP goes to port+1) */
  port: number;
  width?: number;
  height?: number;
  fps?: number;
  /** constant quantizer 2..31 (tables fixed); ignored when bitrateKbps is set */
  qscale?: number;
  /** rate control instead of a constant quantizer: the scaled tables change frame to frame */
  bitrateKbps?: number;
  /** send two tables (luma, chroma) instead of FFmpeg's default single 64-byte table */
  duplicatedMatrix?: boolean;
  /** also write the encoder's own JPEGs (the ground truth) to this file as concatenated MJPEG */
  teeMjpeg?: string;
  /** hard time limit, seconds (default 60) */
  duration?: number;
}

export interface FfmpegRtp {
  stop(): Promise<void>;
  /** stderr so far (warnings such as "1 provided") */
  log(): string;
}

/**
 * FFmpeg's RTP/JPEG payloader (`-f rtp`, rtpenc_jpeg): testsrc2 → MJPEG with the standard
 * Huffman tables (without `-huffman default` it sends no RTP at all, see peers.md §2).
 */
export function startFfmpegRtp(o: FfmpegRtpOptions): FfmpegRtp {
  const size = `${o.width ?? 320}x${o.height ?? 240}`;
  // Rate control alone converges on testsrc2 within ~1.5 s and then keeps one quantizer (so one
  // set of tables) for good; a VBV buffer of one frame forces it to re-pick the quantizer every
  // few frames for as long as the stream runs (measured: ≥2 table sets in every 2 s window).
  const rate = o.bitrateKbps
    ? ['-b:v', `${o.bitrateKbps}k`, '-maxrate', `${o.bitrateKbps}k`, '-bufsize', `${Math.ceil(o.bitrateKbps / (o.fps ?? 25))}k`,
      '-qmin', '2', '-qmax', '31']
    : ['-q:v', String(o.qscale ?? 5)];
  const args = ['-hide_banner', '-nostdin', '-v', 'warning', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${o.fps ?? 25}`,
    '-t', String(o.duration ?? 60), '-pix_fmt', 'yuvj420p', '-c:v', 'mjpeg', ...rate, '-huffman', 'default'];
  if (o.duplicatedMatrix) args.push('-force_duplicated_matrix', '1');
  const rtp = `rtp://127.0.0.1:${o.port}?localaddr=127.0.0.1`;
  if (o.teeMjpeg) args.push('-map', '0:v', '-f', 'tee', `[f=rtp]${rtp}|[f=mjpeg]${o.teeMjpeg}`);
  else args.push('-f', 'rtp', rtp);
  const child = spawnTracked('ffmpeg', args);
  let log = '';
  child.stdout?.resume();
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-20000); });
  return { stop: () => stopChild(child), log: () => log };
}

/** GStreamer's relay mount serving what FFmpeg's payloader sends, packets unchanged. */
export async function startFfmpegRelay(o: Omit<FfmpegRtpOptions, 'port'> & { path?: string }): Promise<{ url: string; ffmpeg: FfmpegRtp; server: GstServer; stop(): Promise<void> }> {
  const port = await freeUdpPair();
  const server = await startGstServer({ relayUdp: port, path: o.path ?? '/ffmpeg', duration: o.duration ?? 60 });
  const ffmpeg = startFfmpegRtp({ ...o, port });
  return {
    url: server.url, ffmpeg, server,
    stop: async () => { await ffmpeg.stop(); await server.stop(); },
  };
}

/** Splits concatenated JPEGs at SOI markers that follow an EOI (no parsing of the scan). */
export function splitMjpeg(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  for (let i = 0; i + 1 < data.length; i++) {
    if (data[i] !== 0xff) continue;
    const m = data[i + 1]!;
    if (m === 0xd8 && start < 0) start = i;
    else if (m === 0xd9 && start >= 0) {
      out.push(data.subarray(start, i + 2));
      start = -1;
      i++;
    }
  }
  return out;
}

/**
 * FFmpeg's MJPEG decoder over a sequence of JPEGs: how many decode and what it complained
 * about. `-err_detect explode` turns concealable damage into errors.
 */
export function ffmpegDecode(frames: Buffer[]): { decoded: number; errors: string } {
  if (frames.length === 0) return { decoded: 0, errors: '' };
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-err_detect', 'explode', '-f', 'mjpeg', '-i', '-',
    '-f', 'framecrc', '-'], { input: Buffer.concat(frames), maxBuffer: 64 * 1024 * 1024, timeout: 60000 });
  const out = r.stdout ? r.stdout.toString() : '';
  const decoded = out.split('\n').filter((l) => /^\s*0,/.test(l)).length;
  return { decoded, errors: (r.error ? r.error.message : '') + (r.stderr ? r.stderr.toString().trim() : '') };
}

/* ------------------------------------------------------------------------------------------ */
/* GStreamer's own depacketizer as reference                                                   */

/** Frames GStreamer's rtpjpegdepay rebuilds from `packets`, keyed by RTP timestamp. */
export function gstDepay(packets: Buffer[], opts: { xDimensions?: [number, number] } = {}): Map<number, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'gst-depay-'));
  try {
    const parts: Buffer[] = [];
    for (const p of packets) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(p.length);
      parts.push(len, p);
    }
    writeFileSync(join(dir, 'packets.bin'), Buffer.concat(parts));
    const args = [GST_DEPAY, '--packets', join(dir, 'packets.bin'), '--out', join(dir, 'out')];
    if (opts.xDimensions) args.push('--extra-caps', `,x-dimensions=(string)"${opts.xDimensions[0]},${opts.xDimensions[1]}"`);
    const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 60000, maxBuffer: 16 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`gst-depay.py failed: ${r.error?.message ?? ''} ${r.stderr}`);
    const frames = new Map<number, Buffer>();
    for (const l of r.stdout.split('\n')) {
      const m = /^FRAME (\d+) (\S+)/.exec(l);
      if (m) frames.set(Number(m[1]), readFileSync(join(dir, 'out', m[2]!)));
    }
    return frames;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/* ------------------------------------------------------------------------------------------ */
/* captures on lo                                                                              */

export interface Capture {
  /** stops dumpcap and returns the classic-pcap file (deleted with cleanup()) */
  stop(): Promise<string>;
  cleanup(): void;
}

/** What startCapture sends to prove the capture live: not RTP (version bits 0), so no reader takes it for media. */
const PROBE = Buffer.from([0, 0, 0, 0]);

/**
 * dumpcap on lo with a BPF filter, classic pcap (test/support/pcap.ts reads it).
 *
 * dumpcap prints "Capturing on" before the kernel hands it packets: on a 2-core machine the
 * first 10-25 ms of traffic after that line were missing from the file, more under load, which
 * is as long as a loopback RTSP handshake. So the capture also takes datagrams to a
 * probe socket of its own, and this resolves only once dumpcap has counted one ("Packets: N"
 * on stderr, shown when -q is not given): everything sent afterwards is in the file.
 */
export async function startCapture(filter: string): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), 'cap-'));
  chmodSync(dir, 0o777);
  const file = join(dir, 'cap.pcap');
  const probe = createSocket('udp4');
  probe.on('message', () => { /* the probes themselves: nothing to do */ });
  await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.bind(0, '127.0.0.1', () => resolve()); });
  const probePort = probe.address().port;
  const child = spawnTracked('dumpcap', ['-i', 'lo', '-P', '-f', `(${filter}) or (udp dst port ${probePort})`, '-w', file, '-a', 'duration:120']);
  child.stdout?.resume();
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-2000); });
  let timer: NodeJS.Timeout | undefined;
  try {
    await waitForLine(child, /Capturing on|File:/, 10000, 'dumpcap', 'stderr');
    timer = setInterval(() => probe.send(PROBE, probePort, '127.0.0.1'), 20);
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(bound);
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        if (err) reject(err); else resolve();
      };
      const onData = (): void => { if (/Packets: [1-9]/.test(log)) done(); };
      const onExit = (code: number | null): void => done(new Error(`dumpcap exited (${code}) before capturing: ${log.trim()}`));
      const bound = setTimeout(() => done(new Error(`dumpcap captured no probe within 10 s: ${log.trim()}`)), 10000);
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
      onData();
    });
  } catch (e) {
    clearInterval(timer);
    await stopChild(child);
    probe.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    clearInterval(timer);
  }
  probe.close();
  return {
    stop: async () => {
      // let the kernel hand the last packets to dumpcap before it stops; a dumpcap killed
      // rather than stopped would leave a file cut mid-record, hence the long grace
      await new Promise((r) => setTimeout(r, 300));
      await stopChild(child, 10000);
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** RTCP receiver reports in a capture as tshark dissects them (udp `port` decoded as RTCP). */
export function tsharkReceiverReports(pcapFile: string, rtcpPort: number): { ssrc: number; fraction: number; jitter: number; cumulativeLost: number; cname: string }[] {
  const r = spawnSync('tshark', ['-r', pcapFile, '-n', '-d', `udp.port==${rtcpPort},rtcp`, '-Y', 'rtcp.pt==201',
    '-T', 'fields', '-E', 'separator=/t', '-e', 'rtcp.senderssrc', '-e', 'rtcp.ssrc.fraction', '-e', 'rtcp.ssrc.jitter',
    '-e', 'rtcp.ssrc.cum_nr', '-e', 'rtcp.sdes.text'], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => {
    const [ssrc, fraction, jitter, lost, cname] = l.split('\t');
    return {
      ssrc: Number(ssrc), fraction: Number((fraction ?? '').split(',')[0] || NaN), jitter: Number((jitter ?? '').split(',')[0] || NaN),
      cumulativeLost: Number((lost ?? '').split(',')[0] || NaN), cname: cname ?? '',
    };
  });
}

/* ------------------------------------------------------------------------------------------ */
/* VLC                                                                                         */

/** uid/gid of `nobody` when we are root (VLC will not run as root), else nothing. */
function nobodyIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const num = (flag: string): number => {
    const r = spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' });
    const n = Number((r.stdout ?? '').trim());
    return r.status === 0 && Number.isInteger(n) ? n : 65534; // Debian's nobody/nogroup
  };
  return { uid: num('-u'), gid: num('-g') };
}

export interface VlcServer { url: string; stop(): Promise<void> }

/**
 * VLC 3 as RTSP server (UDP only), transcoding a short FFmpeg-made MJPEG clip with the two
 * fixes peers.md §3 needs (strict=-1, standard Huffman + duplicated matrix). VLC refuses to
 * run as root, so it runs as `nobody` when we are root.
 */
export async function startVlcServer(o: { width?: number; height?: number; clipSeconds?: number; duration?: number } = {}): Promise<VlcServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vlc-'));
  chmodSync(dir, 0o777);
  const clip = join(dir, 'src.avi');
  const size = `${o.width ?? 320}x${o.height ?? 240}`;
  const mk = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`,
    '-t', String(o.clipSeconds ?? 60), '-c:v', 'mjpeg', '-q:v', '5', '-pix_fmt', 'yuvj420p', '-y', clip], { timeout: 120000 });
  if (mk.status !== 0) throw new Error(`ffmpeg clip failed: ${mk.stderr?.toString()}`);
  chmodSync(clip, 0o644);
  const port = await freeTcpPort();
  const url = `rtsp://127.0.0.1:${port}/vlc`;
  const ids = nobodyIds();
  const args = ['-I', 'dummy', '--no-audio', '--loop', '--sout-avcodec-strict=-1',
    '--sout-avcodec-options={huffman=default,force_duplicated_matrix=1}',
    '--sout', `#transcode{vcodec=MJPG,vb=4000,fps=25}:rtp{sdp=${url}}`, '--sout-keep',
    clip];
  // `timeout` bounds VLC's life even if this process is SIGKILLed; HOME must be writable by nobody
  const child = spawnTracked('timeout', ['-s', 'KILL', String(o.duration ?? 60), 'cvlc', ...args], { ...ids, cwd: dir, env: { ...process.env, HOME: dir } });
  child.stdout?.resume();
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  // VLC prints no ready line of its own; poll until the RTSP port accepts and DESCRIBE works.
  const deadline = Date.now() + 15000;
  let ready = false;
  while (Date.now() < deadline && child.exitCode === null) {
    const r = spawnSync('ffprobe', ['-v', 'error', '-rtsp_transport', 'udp', '-show_entries', 'stream=codec_name', '-of', 'csv', url],
      { encoding: 'utf8', timeout: 8000 });
    if (r.stdout.includes('mjpeg')) { ready = true; break; }
    await new Promise((res) => setTimeout(res, 500));
  }
  const stop = async (): Promise<void> => { await stopChild(child); rmSync(dir, { recursive: true, force: true }); };
  if (!ready) {
    await stop();
    throw new Error(`VLC RTSP server not ready at ${url}: ${log.slice(-1500)}`);
  }
  return { url, stop };
}

/* ------------------------------------------------------------------------------------------ */
/* plain UDP receive (FFmpeg -f rtp without RTSP)                                              */

/** Binds 127.0.0.1:port and hands every datagram to `onPacket` until close(). */
export function receiveUdp(port: number, onPacket: (p: Buffer) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.on('message', (m) => onPacket(m));
    s.bind(port, '127.0.0.1', () => {
      try { s.setRecvBufferSize(4 * 1024 * 1024); } catch { /* best effort */ }
      resolve(s);
    });
  });
}

/* ------------------------------------------------------------------------------------------ */
/* driving our client                                                                          */

export interface ReceivedFrame { jpeg: Buffer; info: FrameInfo }

export interface ClientRun {
  frames: ReceivedFrame[];
  states: StateChange[];
  errors: CameraError[];
  stats: StatsReport | null;
  /** ms from openCamera() to the first frame (null if none) */
  firstFrameMs: number | null;
}

export interface ClientRunOptions {
  /** stream this long after the first frame, ms */
  streamMs: number;
  /** give up waiting for the first frame after this long, ms (default 12000) */
  firstFrameTimeoutMs?: number;
  /** called once frames flow (e.g. to kill the server mid-stream); the run waits for it */
  during?: (session: ReturnType<typeof openCamera>, run: ClientRun) => Promise<void>;
}

/**
 * Opens our client on `url`, records everything it emits, streams `streamMs` after the first
 * frame, and always closes the session (even when the wait throws).
 */
export async function runClient(url: string, options: CameraOptions, o: ClientRunOptions): Promise<ClientRun> {
  const run: ClientRun = { frames: [], states: [], errors: [], stats: null, firstFrameMs: null };
  const t0 = Date.now();
  const session = openCamera(url, { statsIntervalMs: 500, ...options });
  let firstFrame: () => void = () => undefined;
  const gotFirst = new Promise<void>((resolve) => { firstFrame = resolve; });
  session.on('frame', (jpeg: Buffer, info: FrameInfo) => {
    if (run.firstFrameMs === null) { run.firstFrameMs = Date.now() - t0; firstFrame(); }
    run.frames.push({ jpeg, info });
  });
  session.on('state', (s: StateChange) => { run.states.push(s); });
  session.on('error', (e: CameraError) => { run.errors.push(e); });
  session.on('stats', (s: StatsReport) => { run.stats = s; });
  try {
    const timeout = o.firstFrameTimeoutMs ?? 12000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gotFirst, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeout); })]);
    clearTimeout(timer);
    if (run.firstFrameMs !== null) {
      if (o.during) await o.during(session, run);
      await new Promise((r) => setTimeout(r, o.streamMs));
    }
    run.stats = session.getStats();
  } finally {
    await session.close();
  }
  return run;
}

/** Waits until `cond()` holds, polling every 50 ms, at most `timeoutMs`; returns whether it held. */
export async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** How many frames the sender emitted between our first and last frame, from RTP timestamps (90 kHz). */
export function framesSentInWindow(frames: ReceivedFrame[], fps: number): number {
  if (frames.length === 0) return 0;
  const first = frames[0]!.info.rtpTimestamp;
  const last = frames[frames.length - 1]!.info.rtpTimestamp;
  const span = (last - first) >>> 0;
  return Math.round(span / (90000 / fps)) + 1;
}

/**
 * Decodes every frame with djpeg (test/support/djpeg.ts) and all of them with FFmpeg's MJPEG
 * decoder; returns a list of human-readable failures (empty = all good).
 */
export function undecodable(frames: ReceivedFrame[], expect?: { width: number; height: number }): string[] {
  const bad: string[] = [];
  decodeEach(frames.map((f) => f.jpeg), (d, i) => {
    if (bad.length > 5) return;
    const f = frames[i]!;
    if (!d.ok) bad.push(`djpeg frame #${f.info.index} (ts ${f.info.rtpTimestamp}): ${d.error ?? '?'}`);
    else if (expect && (d.width !== expect.width || d.height !== expect.height)) {
      bad.push(`frame #${f.info.index} decodes to ${d.width}x${d.height}, expected ${expect.width}x${expect.height}`);
    }
  });
  const ff = ffmpegDecode(frames.map((f) => f.jpeg));
  if (ff.decoded !== frames.length || ff.errors) bad.push(`ffmpeg decoded ${ff.decoded}/${frames.length}: ${ff.errors.slice(0, 500)}`);
  return bad;
}

/** SHA-1 of the decoded pixels (djpeg), for "same picture" checks across encoders' headers. */
export function pixelHash(jpeg: Buffer): string | null {
  return pixelHashes([jpeg])[0] ?? null;
}

export { pixelHashes };

/* ------------------------------------------------------------------------------------------ */
/* oracles                                                                                     */

/** Asserts the whole-run oracles: frames flowed, ≥ 95 % of what was sent, all decodable. */
export function assertGoodRun(run: ClientRun, size: { width: number; height: number }, fps = 25): void {
  assert.ok(run.frames.length > 0, `no frame; states ${JSON.stringify(run.states)}; errors ${run.errors.map((e) => e.message).join('; ')}`);
  const sent = framesSentInWindow(run.frames, fps);
  assert.ok(run.frames.length >= 0.95 * sent, `received ${run.frames.length} of ${sent} frames sent in the window`);
  const f0 = run.frames[0]!.info;
  assert.equal(f0.width, size.width);
  assert.equal(f0.height, size.height);
  assert.deepEqual(undecodable(run.frames, size), []);
  // indices are 1-based and consecutive
  run.frames.forEach((f, i) => assert.equal(f.info.index, run.frames[0]!.info.index + i));
}

/**
 * RTP timestamps of the frames whose packets are all in `packets`: the one with fragment
 * offset 0 (RFC 2435 §3.1), the one with the marker bit, and every sequence number between.
 */
function completeFrames(packets: Buffer[]): Set<number> {
  const byTs = new Map<number, { seqs: Set<number>; first: number | null; last: number | null }>();
  for (const p of packets) {
    const cc = p[0]! & 0x0f;
    let j = 12 + 4 * cc;
    if (p[0]! & 0x10) j += 4 + 4 * p.readUInt16BE(j + 2);
    if (p.length < j + 8) continue;
    const ts = p.readUInt32BE(4);
    const seq = p.readUInt16BE(2);
    let f = byTs.get(ts);
    if (!f) { f = { seqs: new Set(), first: null, last: null }; byTs.set(ts, f); }
    f.seqs.add(seq);
    if (p.readUIntBE(j + 1, 3) === 0) f.first = seq;
    if (p[1]! & 0x80) f.last = seq;
  }
  const out = new Set<number>();
  for (const [ts, f] of byTs) {
    if (f.first === null || f.last === null) continue;
    const n = ((f.last - f.first) & 0xffff) + 1;
    let all = true;
    for (let i = 0; i < n && all; i++) all = f.seqs.has((f.first + i) & 0xffff);
    if (all) out.add(ts);
  }
  return out;
}

/**
 * Our frames vs GStreamer's rtpjpegdepay over the captured packets. Compared: every frame of
 * ours whose packets are all in the capture. The capture is proven live before the client
 * starts (startCapture), but it can still end a few ms off the stream's last packets, so a
 * frame at either edge of our run may be partly outside it and is left out. Never one in the
 * middle (that is a capture that lost packets, and fails as such), and the compared frames
 * must be at least 95 % of ours. Every compared frame must be byte-identical, and GStreamer
 * must have rebuilt no frame in our window that we did not emit.
 */
export function assertMatchesGstreamer(run: ClientRun, pcapFile: string, opts: { xDimensions?: [number, number] } = {}): void {
  const { rtp } = vectorPackets(pcapFile, 26);
  assert.ok(rtp.length > 0, 'capture holds no RTP/JPEG');
  const ssrc = run.frames[0]!.info.ssrc;
  const packets = rtp.map((p) => p.packet).filter((p) => p.readUInt32BE(8) === ssrc);
  const gst = gstDepay(packets, opts);
  const complete = completeFrames(packets);
  const inCapture = run.frames.map((f) => complete.has(f.info.rtpTimestamp));
  const i0 = inCapture.indexOf(true);
  const i1 = inCapture.lastIndexOf(true);
  assert.ok(i0 >= 0, 'no frame of ours has all its packets in the capture');
  const holes = run.frames.slice(i0, i1 + 1).filter((f) => !complete.has(f.info.rtpTimestamp)).map((f) => f.info.rtpTimestamp);
  assert.deepEqual(holes, [], 'the capture lost packets of these frames (RTP timestamps) in the middle of the stream');
  const compared = run.frames.slice(i0, i1 + 1);
  assert.ok(compared.length >= 0.95 * run.frames.length,
    `only ${compared.length} of our ${run.frames.length} frames have all their packets in the capture (${i0} left out at the start, ${run.frames.length - 1 - i1} at the end)`);
  for (const f of compared) {
    const ref = gst.get(f.info.rtpTimestamp);
    assert.ok(ref, `GStreamer rebuilt no frame for ts ${f.info.rtpTimestamp}, though all its packets are in the capture`);
    assert.ok(ref.equals(f.jpeg), `frame ts ${f.info.rtpTimestamp}: ours ${f.jpeg.length} B differs from GStreamer's ${ref.length} B`);
  }
  // and we dropped nothing GStreamer could rebuild within our window
  const first = run.frames[0]!.info.rtpTimestamp;
  const last = run.frames[run.frames.length - 1]!.info.rtpTimestamp;
  const ours = new Set(run.frames.map((f) => f.info.rtpTimestamp));
  const missed = [...gst.keys()].filter((ts) => ((ts - first) >>> 0) <= ((last - first) >>> 0) && !ours.has(ts));
  assert.deepEqual(missed, [], 'GStreamer rebuilt frames (RTP timestamps) in our window that we did not emit');
}
