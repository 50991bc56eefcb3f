/**
 * The RTSP handshake of one connection attempt (RFC 2326 §10): DESCRIBE (after OPTIONS, with
 * up to three same-host redirects), SETUP per track over the attempt's transport (TCP
 * interleaved §10.12, UDP unicast or multicast, §12.39), PLAY, then the media started
 * (keep-alives, RTCP). Functions over the attempt and its connection: they decide what to
 * send and what a reply means; the attempt (rtsp-attempt.ts) creates and holds what they set
 * up, and the session (session.ts) runs attempts, retries and tears down.
 */
import { CameraError, statusError } from '../errors';
import type { RtspConnection } from '../transport/rtsp-connection';
import type { UdpTrackOptions } from '../transport/udp';
import type { UdpPair } from '../transport/port-allocator';
import { header, type RtspResponse } from '../rtsp/message';
import { parseRtspUrl, chooseBaseUrl, keepConnectionHost, type RtspUrl } from '../rtsp/url';
import { parseTransport, type TransportSpec } from '../rtsp/transport-header';
import { retryAfterMs } from '../rtsp/retry-after';
import { parseSdp, type SdpDescription, type SdpTrack } from '../sdp/media';
import type { MediaTrack } from './media-track';
import type { TrackInfo, TransportMode } from './types';

const MAX_REDIRECTS = 3;

export type ActiveTransport = 'tcp' | 'udp' | 'multicast';

/**
 * The attempt a handshake runs in (rtsp-attempt.ts). It creates and holds every resource the
 * handshake asks for (the connection, the interleaved channels, UDP port pairs and their
 * transports, the tracks), so that one close() releases them whichever step failed.
 */
export interface HandshakeAttempt {
  /** where DESCRIBE goes; after redirects, where the SDP came from */
  url: string;
  /** the aggregate control URL: PLAY, keep-alives, TEARDOWN */
  aggregate: string;
  /** chosen from the mode before the first SETUP; 'tcp' once interleaved channels are in use */
  transport: ActiveTransport | null;
  /** tracks set up so far */
  readonly trackCount: number;
  /** the interleaved channel pair to ask for next */
  readonly nextChannel: number;
  /** throws CameraError 'closed' once the attempt was closed (every await is followed by it) */
  checkLive(): void;
  /** connects to `u`; the connection belongs to the attempt */
  connect(u: RtspUrl): Promise<RtspConnection>;
  /** closes the connection after a redirect, before connecting to the new location */
  dropConnection(): void;
  /** a track's receive pipeline; it belongs to the attempt once addTrack() took it */
  newTrack(t: SdpTrack, video: boolean): MediaTrack;
  addTrack(track: MediaTrack, video: boolean): void;
  /** from now on the media is interleaved on the connection (RFC 2326 §10.12) */
  useInterleaved(): void;
  /** routes the channel pair the server chose to the track about to be added */
  bindInterleaved(track: MediaTrack, channels: [number, number]): void;
  /** a UDP port pair from the configured range (rejects with 'closed' when the attempt closed meanwhile) */
  allocatePair(family: 'udp4' | 'udp6'): Promise<UdpPair>;
  /** gives back a pair the server did not take */
  releasePair(pair: UdpPair): void;
  /** the announced ports, joined to the group (rejects with 'closed' when the attempt closed meanwhile) */
  openMulticast(group: string, rtpPort: number, rtcpPort: number): Promise<UdpPair>;
  /** the UDP transport of the track about to be added */
  addUdp(o: UdpTrackOptions): void;
  /** PLAY is about to be sent: accept media, punch the NAT for UDP */
  acceptMedia(): void;
  /** PLAY succeeded: keep-alives and RTCP receiver reports */
  startMedia(): void;
}

/**
 * Thrown in 'auto' mode when UDP cannot be had on this connection (a later track refused UDP
 * after an earlier one got it): the attempt is replaced by one that starts over on TCP.
 */
export class FallbackToTcp extends Error {}

/** Why a UDP SETUP did not give UDP, and the interleaved channels when the server chose TCP itself. */
interface UdpRefusal {
  why: string;
  interleaved?: [number, number] | undefined;
}

/** What the handshake needs besides its attempt: two settings, a log and two reports. */
export interface HandshakeHost {
  readonly mode: TransportMode;
  readonly setupAudio: boolean;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
  onTracks(tracks: TrackInfo[]): void;
  /** 'auto' settled on TCP for this camera, and why */
  onTcpChosen(why: string): void;
}

export function trackInfo(t: SdpTrack): TrackInfo {
  return { kind: t.kind, encoding: t.encoding, payloadType: t.payloadType, clockRate: t.clockRate, control: t.control, width: t.width, height: t.height, fps: t.fps };
}

/** Runs the whole handshake; on success the attempt is playing with its media started. */
export async function handshake(host: HandshakeHost, a: HandshakeAttempt): Promise<void> {
  const { conn, desc, base } = await describe(host, a);
  for (const t of desc.tracks) t.control = keepConnectionHost(t.control, a.url);
  host.onTracks(desc.tracks.map(trackInfo));
  a.checkLive(); // a 'tracks' listener may have closed the session
  const video = desc.tracks.find((t) => t.kind === 'video' && t.encoding === 'JPEG');
  if (!video) {
    const v = desc.tracks.find((t) => t.kind === 'video');
    throw new CameraError('unsupported codec', v ? `the video track is ${v.encoding || `payload type ${v.payloadType}`}, not Motion-JPEG` : 'the camera offers no video track');
  }
  a.aggregate = keepConnectionHost(desc.sessionControl || base, a.url);
  const audio = desc.tracks.find((t) => t.kind === 'audio' && t.clockRate > 0) ?? null;

  // 'http': the tunnel carries the media interleaved, as on a plain TCP connection (§10.12)
  if (host.mode === 'tcp' || host.mode === 'http') a.useInterleaved();
  else a.transport = host.mode === 'multicast' ? 'multicast' : 'udp';
  await setup(host, a, conn, video, true);
  if (audio && host.setupAudio) await setup(host, a, conn, audio, false);

  let res = await play(a, conn);
  if ((res.statusCode < 200 || res.statusCode >= 300) && res.statusCode !== 454 && audio && !host.setupAudio && a.trackCount === 1) {
    // Some cameras refuse PLAY until every track is set up.
    host.log('info', `PLAY answered ${res.statusCode}; setting up the audio track too`);
    await setup(host, a, conn, audio, false);
    res = await play(a, conn);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw replyError('PLAY', res, a.aggregate);
  a.startMedia();
}

/** OPTIONS then DESCRIBE of `a.url`, following redirects; `a.url` ends as where the SDP came from. */
async function describe(host: HandshakeHost, a: HandshakeAttempt): Promise<{ conn: RtspConnection; desc: SdpDescription; base: string }> {
  let url = a.url;
  for (let hops = 0; ; hops++) {
    const u = parseRtspUrl(url);
    if (!u) throw new CameraError('invalid url', 'invalid redirect target');
    const conn = await a.connect(u);
    // Some cameras answer OPTIONS with 404 or 501: that only means there is no Public header.
    const opt = await conn.request('OPTIONS', url, [], { noSession: true });
    a.checkLive();
    if (opt.statusCode >= 300) host.log('debug', `OPTIONS answered ${opt.statusCode}; continuing`);
    const described = await conn.request('DESCRIBE', url, [['Accept', 'application/sdp']]);
    a.checkLive();
    const s = described.statusCode;
    if (s === 301 || s === 302 || s === 303 || s === 307) {
      const target = redirectTarget(host, url, u, header(described.headers, 'Location'), hops);
      a.dropConnection();
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
async function setup(host: HandshakeHost, a: HandshakeAttempt, conn: RtspConnection, t: SdpTrack, video: boolean): Promise<void> {
  const track = a.newTrack(t, video);
  if (a.transport === 'tcp') {
    await setupInterleaved(a, conn, t, track);
  } else {
    const refused = await setupUdp(host, a, conn, t, track);
    if (refused) {
      // One session cannot mix UDP and interleaved tracks: when an earlier track got UDP,
      // start over on TCP (a new attempt, after this one's session is torn down).
      if (a.trackCount > 0) throw new FallbackToTcp(refused.why);
      await fallBackToInterleaved(host, a, conn, t, track, refused);
    }
  }
  a.addTrack(track, video);
}

/**
 * 'auto' on the same connection, as FFmpeg and GStreamer's rtspsrc do: no second DESCRIBE,
 * which a server still tearing down the media it prepared for us may answer with 503. When
 * the server already chose interleaved channels in its reply, they are used as they are
 * (its session exists with them); otherwise the SETUP is sent again asking for TCP
 * (RFC 2326 §10.12).
 */
async function fallBackToInterleaved(host: HandshakeHost, a: HandshakeAttempt, conn: RtspConnection, t: SdpTrack, track: MediaTrack, refused: UdpRefusal): Promise<void> {
  a.useInterleaved();
  if (refused.interleaved) {
    host.onTcpChosen(`${refused.why}; using the interleaved channels ${refused.interleaved[0]}-${refused.interleaved[1]} it chose`);
    a.bindInterleaved(track, refused.interleaved);
    return;
  }
  host.onTcpChosen(`${refused.why}; retrying SETUP over TCP on the same connection`);
  await setupInterleaved(a, conn, t, track);
}

async function setupInterleaved(a: HandshakeAttempt, conn: RtspConnection, t: SdpTrack, track: MediaTrack): Promise<void> {
  const ch = a.nextChannel;
  const res = await conn.request('SETUP', t.control, [['Transport', `RTP/AVP/TCP;unicast;interleaved=${ch}-${ch + 1}`]]);
  a.checkLive();
  if (res.statusCode < 200 || res.statusCode >= 300) throw replyError('SETUP', res, t.control);
  // Use the channels the server chose: some servers ignore the pair we asked for.
  a.bindInterleaved(track, replyTransport(res)?.interleaved ?? [ch, ch + 1]);
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
async function setupUdp(host: HandshakeHost, a: HandshakeAttempt, conn: RtspConnection, t: SdpTrack, track: MediaTrack): Promise<UdpRefusal | null> {
  let pair: UdpPair | null = null;
  let transportValue = 'RTP/AVP;multicast';
  if (a.transport === 'udp') {
    pair = await a.allocatePair(conn.remoteAddress.includes(':') ? 'udp6' : 'udp4');
    transportValue = `RTP/AVP;unicast;client_port=${pair.rtpPort}-${pair.rtcpPort}`;
  }
  const res = await conn.request('SETUP', t.control, [['Transport', transportValue]]);
  a.checkLive();
  const auto = host.mode === 'auto' && pair !== null;
  const refuse = (why: string, interleaved?: [number, number]): UdpRefusal => {
    // The port pair is of no use now: give it back at once.
    a.releasePair(pair!);
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
    const mpair = await a.openMulticast(group, ports[0], ports[1]);
    a.addUdp({ pair: mpair, serverAddress: server, serverRtpPort: null, serverRtcpPort: ports[1], sink: track, multicastGroup: group });
  } else {
    const sp = spec?.serverPort;
    a.addUdp({
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

async function play(a: HandshakeAttempt, conn: RtspConnection): Promise<RtspResponse> {
  // Accept media from now on: some cameras send RTP before the PLAY reply, and `$` data
  // before PLAY was sent belongs to nobody.
  a.acceptMedia();
  const res = await conn.request('PLAY', a.aggregate, [['Range', 'npt=0.000-']]);
  a.checkLive();
  return res;
}
