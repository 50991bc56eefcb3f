/**
 * The RTSP handshake of one connection attempt (RFC 2326 §10): DESCRIBE (after OPTIONS, with
 * up to three same-host redirects), SETUP per track over the attempt's transport (TCP
 * interleaved §10.12, UDP unicast or multicast, §12.39), PLAY, then the media started
 * (keep-alives, RTCP). Functions over the attempt and its connection; the lifecycle that runs
 * them, retries and tears down lives in session.ts.
 */
import { CameraError, statusError } from '../errors';
import { RtspConnection } from '../transport/rtsp-connection';
import { httpTunnelTarget } from '../transport/tunnel-target';
import { header, type RtspResponse } from '../rtsp/message';
import { parseRtspUrl, chooseBaseUrl, keepConnectionHost, type RtspUrl } from '../rtsp/url';
import { parseTransport, type TransportSpec } from '../rtsp/transport-header';
import { retryAfterMs } from '../rtsp/retry-after';
import { parseSdp, type SdpDescription, type SdpTrack } from '../sdp/media';
import { InterleavedTransport } from '../transport/interleaved';
import { UdpTrackTransport, openMulticastPair } from '../transport/udp';
import { allocateUdpPair, DEFAULT_UDP_PORT_RANGE, type UdpPair } from '../transport/port-allocator';
import type { MediaTrack } from './media-track';
import type { CameraOptions, TrackInfo, TransportMode } from './types';

const MAX_REDIRECTS = 3;

export type ActiveTransport = 'tcp' | 'udp' | 'multicast';

/**
 * One connection attempt. Every callback of an attempt checks `done` first, so a reply, a
 * packet or a timer that arrives after the attempt ended does nothing.
 */
export interface Attempt {
  id: number;
  conn: RtspConnection | null;
  url: string;
  aggregate: string;
  tracks: MediaTrack[];
  video: MediaTrack | null;
  udp: UdpTrackTransport[];
  pairs: UdpPair[];
  interleaved: InterleavedTransport | null;
  transport: ActiveTransport | null;
  playing: boolean;
  playingSince: number;
  done: boolean;
  autoTimer: NodeJS.Timeout | null;
  /** interleaved: next channel pair to ask for, and each track's RTCP channel */
  nextChannel: number;
  rtcpChannels: number[];
}

export function newAttempt(id: number, url: string): Attempt {
  return {
    id, conn: null, url, aggregate: url, tracks: [], video: null, udp: [], pairs: [],
    interleaved: null, transport: null, playing: false, playingSince: 0, done: false, autoTimer: null, nextChannel: 0, rtcpChannels: [],
  };
}

/**
 * Thrown in 'auto' mode when UDP cannot be had on this connection (a later track refused UDP
 * after an earlier one got it): the session tears the attempt down and starts over on TCP.
 */
export class FallbackToTcp extends Error {}

/** Why a UDP SETUP did not give UDP, and the interleaved channels when the server chose TCP itself. */
interface UdpRefusal {
  why: string;
  interleaved?: [number, number] | undefined;
}

/** What the handshake needs from the session that runs it. */
export interface HandshakeHost {
  readonly opts: CameraOptions;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly mode: TransportMode;
  readonly ssrc: number;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
  /** false once the attempt ended or the session is closing */
  isLive(a: Attempt): boolean;
  /** the connection closed, or a keep-alive found the session gone */
  onConnectionFailure(a: Attempt, err: CameraError): void;
  onTracks(tracks: TrackInfo[]): void;
  makeTrack(a: Attempt, t: SdpTrack, video: boolean): MediaTrack;
  onUdpBuffer(bytes: number): void;
  /** 'auto' settled on TCP for this session, and why (the session logs it and keeps TCP) */
  onTcpChosen(why: string): void;
}

export function trackInfo(t: SdpTrack): TrackInfo {
  return { kind: t.kind, encoding: t.encoding, payloadType: t.payloadType, clockRate: t.clockRate, control: t.control, width: t.width, height: t.height, fps: t.fps };
}

function checkLive(host: HandshakeHost, a: Attempt): void {
  if (!host.isLive(a)) throw new CameraError('closed', 'session closed');
}

/** Runs the whole handshake; on success the attempt is playing with its media started. */
export async function handshake(host: HandshakeHost, a: Attempt): Promise<void> {
  const { conn, desc, base } = await describe(host, a);
  for (const t of desc.tracks) t.control = keepConnectionHost(t.control, a.url);
  host.onTracks(desc.tracks.map(trackInfo));
  const video = desc.tracks.find((t) => t.kind === 'video' && t.encoding === 'JPEG');
  if (!video) {
    const v = desc.tracks.find((t) => t.kind === 'video');
    throw new CameraError('unsupported codec', v ? `the video track is ${v.encoding || `payload type ${v.payloadType}`}, not Motion-JPEG` : 'the camera offers no video track');
  }
  a.aggregate = keepConnectionHost(desc.sessionControl || base, a.url);
  const audio = desc.tracks.find((t) => t.kind === 'audio' && t.clockRate > 0) ?? null;

  // 'http': the tunnel carries the media interleaved, as on a plain TCP connection (§10.12)
  a.transport = host.mode === 'tcp' || host.mode === 'http' ? 'tcp' : host.mode === 'multicast' ? 'multicast' : 'udp';
  if (a.transport === 'tcp') a.interleaved = new InterleavedTransport((ch, p) => conn.sendInterleaved(ch, p));
  await setup(host, a, conn, video, true);
  if (audio && host.opts.setupAudio) await setup(host, a, conn, audio, false);

  let res = await play(host, a, conn);
  if ((res.statusCode < 200 || res.statusCode >= 300) && res.statusCode !== 454 && audio && !host.opts.setupAudio && a.tracks.length === 1) {
    // Some cameras refuse PLAY until every track is set up.
    host.log('info', `PLAY answered ${res.statusCode}; setting up the audio track too`);
    await setup(host, a, conn, audio, false);
    res = await play(host, a, conn);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw replyError('PLAY', res, a.aggregate);
  startMedia(a, conn);
}

async function connect(host: HandshakeHost, a: Attempt, u: RtspUrl): Promise<RtspConnection> {
  // RTSP over HTTP: port 80 (443 for rtsps) unless the URL names one; the path is the HTTP target.
  const tunnel = host.mode === 'http' ? httpTunnelTarget(u) : null;
  const conn = await RtspConnection.connect({
    host: u.host, port: tunnel?.port ?? u.port, secure: u.secure, httpTunnel: tunnel ? { path: tunnel.path } : undefined,
    username: host.username, password: host.password,
    requestTimeoutMs: host.opts.requestTimeoutMs, tlsFingerprint256: host.opts.tlsFingerprint256,
    tlsAllowSelfSigned: host.opts.tlsAllowSelfSigned, logger: host.opts.logger ? (l, m) => host.log(l, m) : undefined,
    onInterleaved: (ch, data, start, end, arrivalMs) => a.interleaved?.dispatch(ch, data, start, end, arrivalMs),
    onClose: (err) => host.onConnectionFailure(a, err),
    onKeepAliveFailure: (err) => host.onConnectionFailure(a, err),
  });
  if (!host.isLive(a)) {
    conn.close();
    throw new CameraError('closed', 'session closed');
  }
  a.conn = conn;
  return conn;
}

/** OPTIONS then DESCRIBE of `a.url`, following redirects; `a.url` ends as where the SDP came from. */
async function describe(host: HandshakeHost, a: Attempt): Promise<{ conn: RtspConnection; desc: SdpDescription; base: string }> {
  let url = a.url;
  for (let hops = 0; ; hops++) {
    const u = parseRtspUrl(url);
    if (!u) throw new CameraError('invalid url', 'invalid redirect target');
    const conn = await connect(host, a, u);
    // Some cameras answer OPTIONS with 404 or 501: that only means there is no Public header.
    const opt = await conn.request('OPTIONS', url, [], { noSession: true });
    checkLive(host, a);
    if (opt.statusCode >= 300) host.log('debug', `OPTIONS answered ${opt.statusCode}; continuing`);
    const described = await conn.request('DESCRIBE', url, [['Accept', 'application/sdp']]);
    checkLive(host, a);
    const s = described.statusCode;
    if (s === 301 || s === 302 || s === 303 || s === 307) {
      const target = redirectTarget(host, url, u, header(described.headers, 'Location'), hops);
      conn.close();
      a.conn = null;
      url = target;
      continue;
    }
    if (s < 200 || s >= 300) throw replyError('DESCRIBE', described, url);
    a.url = url;
    const base = chooseBaseUrl({ contentBase: header(described.headers, 'Content-Base'), contentLocation: header(described.headers, 'Content-Location'), requestUrl: url });
    const desc = parseSdp(described.body.toString('utf8'), base);
    if (!desc) throw new CameraError('protocol error', 'DESCRIBE: the SDP could not be parsed');
    return { conn, desc, base };
  }
}

function redirectTarget(host: HandshakeHost, current: string, cur: RtspUrl, location: string | undefined, hops: number): string {
  if (hops >= MAX_REDIRECTS) throw new CameraError('redirect refused', `more than ${MAX_REDIRECTS} redirects`);
  if (!location) throw new CameraError('protocol error', 'redirect without a Location header');
  const abs = location.startsWith('/') ? keepConnectionHost(`${cur.secure ? 'rtsps' : 'rtsp'}://${cur.host}${location}`, current) : location.trim();
  const t = parseRtspUrl(abs);
  if (!t) throw new CameraError('redirect refused', 'redirect to a non-RTSP location');
  // Same host only, so the credentials never travel elsewhere; and never from rtsps down to rtsp.
  if (t.host.toLowerCase() !== cur.host.toLowerCase()) throw new CameraError('redirect refused', `redirect to another host (${t.host}) refused`);
  if (cur.secure && !t.secure) throw new CameraError('redirect refused', 'redirect from rtsps to rtsp refused');
  host.log('info', `redirected to ${t.clean}`);
  return t.clean;
}

/** SETUP of one track over the attempt's transport. */
async function setup(host: HandshakeHost, a: Attempt, conn: RtspConnection, t: SdpTrack, video: boolean): Promise<void> {
  const track = host.makeTrack(a, t, video);
  if (a.transport === 'tcp') {
    await setupInterleaved(host, a, conn, t, track);
  } else {
    const refused = await setupUdp(host, a, conn, t, track);
    if (refused) {
      // One session cannot mix UDP and interleaved tracks: when an earlier track got UDP,
      // start over on TCP (the session tears this one down first).
      if (a.tracks.length > 0) throw new FallbackToTcp(refused.why);
      await fallBackToInterleaved(host, a, conn, t, track, refused);
    }
  }
  a.tracks.push(track);
  if (video) a.video = track;
}

/**
 * 'auto' on the same connection, as FFmpeg and GStreamer's rtspsrc do: no second DESCRIBE,
 * which a server still tearing down the media it prepared for us may answer with 503. When
 * the server already chose interleaved channels in its reply, they are used as they are
 * (its session exists with them); otherwise the SETUP is sent again asking for TCP
 * (RFC 2326 §10.12).
 */
async function fallBackToInterleaved(host: HandshakeHost, a: Attempt, conn: RtspConnection, t: SdpTrack, track: MediaTrack, refused: UdpRefusal): Promise<void> {
  a.transport = 'tcp';
  a.interleaved = new InterleavedTransport((ch, p) => conn.sendInterleaved(ch, p));
  if (refused.interleaved) {
    host.onTcpChosen(`${refused.why}; using the interleaved channels ${refused.interleaved[0]}-${refused.interleaved[1]} it chose`);
    bindInterleaved(a, track, refused.interleaved);
    return;
  }
  host.onTcpChosen(`${refused.why}; retrying SETUP over TCP on the same connection`);
  await setupInterleaved(host, a, conn, t, track);
}

async function setupInterleaved(host: HandshakeHost, a: Attempt, conn: RtspConnection, t: SdpTrack, track: MediaTrack): Promise<void> {
  const ch = a.nextChannel;
  const res = await conn.request('SETUP', t.control, [['Transport', `RTP/AVP/TCP;unicast;interleaved=${ch}-${ch + 1}`]]);
  checkLive(host, a);
  if (res.statusCode < 200 || res.statusCode >= 300) throw replyError('SETUP', res, t.control);
  // Use the channels the server chose: some servers ignore the pair we asked for.
  bindInterleaved(a, track, replyTransport(res)?.interleaved ?? [ch, ch + 1]);
}

function bindInterleaved(a: Attempt, track: MediaTrack, [rtpCh, rtcpCh]: [number, number]): void {
  a.interleaved!.bind(rtpCh, rtcpCh, track);
  a.rtcpChannels[a.tracks.length] = rtcpCh;
  a.nextChannel = Math.max(rtpCh, rtcpCh) + 1;
}

/** A non-2xx reply as a CameraError; a 503 carries the delay its Retry-After asked for. */
function replyError(method: string, res: RtspResponse, url: string): CameraError {
  const after = res.statusCode === 503 ? retryAfterMs(header(res.headers, 'Retry-After'), Date.now()) : null;
  return statusError(method, res, url, after);
}

/**
 * UDP unicast (our port pair in the request) or multicast (the group comes in the reply or
 * the SDP). In 'auto' mode a refusal of UDP is returned (the port pair released) rather than
 * thrown, for the caller to go on over TCP.
 */
async function setupUdp(host: HandshakeHost, a: Attempt, conn: RtspConnection, t: SdpTrack, track: MediaTrack): Promise<UdpRefusal | null> {
  const idx = a.tracks.length;
  let pair: UdpPair | null = null;
  let transportValue = 'RTP/AVP;multicast';
  if (a.transport === 'udp') {
    pair = await allocateUdpPair({
      range: host.opts.udpPortRange ?? DEFAULT_UDP_PORT_RANGE,
      family: conn.remoteAddress.includes(':') ? 'udp6' : 'udp4',
    });
    a.pairs.push(pair);
    host.onUdpBuffer(pair.recvBufferSize);
    checkLive(host, a);
    transportValue = `RTP/AVP;unicast;client_port=${pair.rtpPort}-${pair.rtcpPort}`;
  }
  const res = await conn.request('SETUP', t.control, [['Transport', transportValue]]);
  checkLive(host, a);
  const auto = host.mode === 'auto' && pair !== null;
  const refuse = (why: string, interleaved?: [number, number]): UdpRefusal => {
    // The port pair is of no use now: give it back at once.
    pair!.close();
    a.pairs.splice(a.pairs.indexOf(pair!), 1);
    return { why, interleaved };
  };
  // 461 Unsupported Transport (RFC 2326 §11.3.18); some servers answer 406 Not Acceptable.
  if (auto && (res.statusCode === 461 || res.statusCode === 406)) return refuse(`the camera refused UDP (SETUP: ${`${res.statusCode} ${res.reason}`.trim()})`);
  if (res.statusCode < 200 || res.statusCode >= 300) throw replyError('SETUP', res, t.control);
  const spec = replyTransport(res);
  if (spec && (spec.interleaved !== undefined || spec.protocol.endsWith('/TCP'))) {
    // The server ignored our UDP request and answered with TCP (interleaved channels, a TCP profile).
    if (auto) return refuse('the camera answered a UDP SETUP with TCP', spec.interleaved);
    throw new CameraError('unsupported transport', 'the camera answered a UDP SETUP with TCP');
  }
  const server = conn.remoteAddress;
  if (spec?.source && spec.source.replace(/^::ffff:/, '') !== server) {
    host.log('warn', 'Transport source differs from the RTSP server address; only the server address is accepted');
  }
  if (pair === null) {
    const group = spec?.destination ?? t.multicast?.address;
    const ports = spec?.port ?? (t.multicast ? [t.multicast.port, t.multicast.port + 1] as [number, number] : undefined);
    if (!group || !ports) throw new CameraError('unsupported transport', 'the camera offered no multicast group');
    const mpair = await openMulticastPair(group, ports[0], ports[1]);
    a.pairs.push(mpair);
    checkLive(host, a);
    a.udp[idx] = new UdpTrackTransport({ pair: mpair, serverAddress: server, serverRtpPort: null, serverRtcpPort: ports[1], sink: track, multicastGroup: group });
  } else {
    const sp = spec?.serverPort;
    a.udp[idx] = new UdpTrackTransport({
      pair, serverAddress: server,
      serverRtpPort: sp && sp[0] > 0 ? sp[0] : null,
      serverRtcpPort: sp && sp[1] > 0 ? sp[1] : sp && sp[0] > 0 ? sp[0] + 1 : null,
      sink: track,
    });
  }
  return null;
}

function replyTransport(res: RtspResponse): TransportSpec | null {
  const v = header(res.headers, 'Transport');
  if (!v) return null;
  return parseTransport(v)[0] ?? null;
}

async function play(host: HandshakeHost, a: Attempt, conn: RtspConnection): Promise<RtspResponse> {
  // Accept media from now on: some cameras send RTP before the PLAY reply, and `$` data
  // before PLAY was sent belongs to nobody.
  if (a.interleaved) a.interleaved.enabled = true;
  for (let i = 0; i < a.udp.length; i++) a.udp[i]!.punch(host.ssrc);
  const res = await conn.request('PLAY', a.aggregate, [['Range', 'npt=0.000-']]);
  checkLive(host, a);
  return res;
}

/** Keep-alives to the aggregate URL and RTCP receiver reports on each track's return path. */
function startMedia(a: Attempt, conn: RtspConnection): void {
  conn.startKeepAlive(a.aggregate);
  for (let i = 0; i < a.tracks.length; i++) {
    const t = a.tracks[i]!;
    const u = a.udp[i];
    if (u) t.startRtcp((p) => u.sendRtcp(p));
    else if (a.interleaved && a.rtcpChannels[i] !== undefined) t.startRtcp(a.interleaved.rtcpSender(a.rtcpChannels[i]!));
  }
}
