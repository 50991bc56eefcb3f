/**
 * The parts of a DESCRIBE answer (SDP, RFC 4566) an RTSP MJPEG receiver needs: one track per
 * `m=` section with payload type, encoding, clock rate, resolved control URL, size, frame rate
 * and multicast address. Line splitting is sdp-transform's; the camera-specific attributes it
 * leaves in `invalid[]` (`x-dimensions`, `framesize`, `range`, `cliprect`) are read here.
 */
import { parse, parseParams, parsePayloads } from 'sdp-transform';
import { resolveControl } from '../rtsp/url';

export interface SdpTrack {
  /** media type: video, audio, application… */
  kind: string;
  payloadType: number;
  /** upper-case encoding name; 'JPEG' for static PT 26 */
  encoding: string;
  /** RTP clock rate in Hz; 0 when unknown */
  clockRate: number;
  /** resolved absolute control URL for SETUP */
  control: string;
  width?: number;
  height?: number;
  fps?: number;
  multicast?: { address: string; port: number; ttl?: number };
  fmtp?: Record<string, string | number>;
}

export interface SdpDescription {
  tracks: SdpTrack[];
  /** resolved aggregate control URL (PLAY, TEARDOWN, keepalives) */
  sessionControl: string;
  /** session `a=range` value, e.g. "npt=now-" */
  range?: string;
}

/** RFC 3551 §6 static payload types (name, clock rate). */
const STATIC_PT: Readonly<Record<number, [string, number]>> = {
  0: ['PCMU', 8000], 3: ['GSM', 8000], 4: ['G723', 8000], 5: ['DVI4', 8000], 6: ['DVI4', 16000],
  7: ['LPC', 8000], 8: ['PCMA', 8000], 9: ['G722', 8000], 10: ['L16', 44100], 11: ['L16', 44100],
  12: ['QCELP', 8000], 13: ['CN', 8000], 14: ['MPA', 90000], 15: ['G728', 8000], 16: ['DVI4', 11025],
  17: ['DVI4', 22050], 18: ['G729', 8000], 25: ['CELB', 90000], 26: ['JPEG', 90000], 28: ['NV', 90000],
  31: ['H261', 90000], 32: ['MPV', 90000], 33: ['MP2T', 90000], 34: ['H263', 90000],
};

type Invalid = { value: string }[] | undefined;

/** Values of attribute `name` among the lines sdp-transform did not recognise. */
function attr(invalid: Invalid, name: string): string[] {
  const out: string[] = [];
  const prefix = `${name.toLowerCase()}:`;
  for (const { value } of invalid ?? []) {
    if (typeof value === 'string' && value.toLowerCase().startsWith(prefix)) out.push(value.slice(prefix.length).trim());
  }
  return out;
}

function dims(w: string | undefined, h: string | undefined): { width: number; height: number } | null {
  const width = Number(w);
  const height = Number(h);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width > 65535 || height > 65535) return null;
  return { width, height };
}

/** Frame size from a=x-dimensions:W,H (GStreamer, Axis), a=framesize:PT W-H (Hikvision/Dahua), fmtp x-dimensions, a=cliprect. */
function frameSize(mediaInvalid: Invalid, sessionInvalid: Invalid, pt: number, fmtp: Record<string, string | number> | undefined): { width: number; height: number } | null {
  for (const v of [...attr(mediaInvalid, 'x-dimensions'), ...attr(sessionInvalid, 'x-dimensions')]) {
    const m = /^(\d+)\s*,\s*(\d+)/.exec(v);
    const d = m && dims(m[1], m[2]);
    if (d) return d;
  }
  for (const v of attr(mediaInvalid, 'framesize')) {
    const m = /^(\d+)\s+(\d+)\s*-\s*(\d+)/.exec(v);
    if (m && Number(m[1]) === pt) {
      const d = dims(m[2], m[3]);
      if (d) return d;
    }
  }
  const fx = fmtp?.['x-dimensions'];
  if (fx !== undefined) {
    const m = /^(\d+)\s*,\s*(\d+)/.exec(String(fx));
    const d = m && dims(m[1], m[2]);
    if (d) return d;
  }
  for (const v of attr(mediaInvalid, 'cliprect')) {
    // cliprect:top,left,bottom,right (RFC 2327 era QuickTime attribute)
    const m = /^(\d+),(\d+),(\d+),(\d+)/.exec(v);
    if (m) {
      const d = dims(String(Number(m[4]) - Number(m[2])), String(Number(m[3]) - Number(m[1])));
      if (d) return d;
    }
  }
  return null;
}

function isMulticast(ip: string): boolean {
  const v4 = /^(\d{1,3})\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.exec(ip);
  if (v4) {
    const first = Number(v4[1]);
    return first >= 224 && first <= 239; // 224.0.0.0/4 (RFC 5771)
  }
  return /^ff[0-9a-f]{2}:/i.test(ip); // ff00::/8 (RFC 4291)
}

/** c= address "224.2.1.1/127[/3]" (IPv4 carries the TTL, RFC 4566 §5.7). */
function connection(c: { version?: number; ip?: string } | undefined): { address: string; ttl?: number } | null {
  if (!c || typeof c.ip !== 'string') return null;
  const [address, second] = c.ip.split('/');
  if (!address) return null;
  const ttl = Number(c.version) === 4 && second !== undefined ? Number(second) : NaN;
  return Number.isInteger(ttl) && ttl >= 0 && ttl <= 255 ? { address, ttl } : { address };
}

function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  return Number.isFinite(n) && n > 0 && n < 10000 ? n : undefined;
}

/**
 * Parse an SDP against the base URL chosen by the caller (Content-Base, Content-Location or the
 * request URL, RFC 2326 §C.1.1). An absolute session-level a=control replaces the base for the
 * aggregate and the media controls (FFmpeg, GStreamer, gortsplib). Returns null when the text is
 * not SDP. Never throws.
 */
export function parseSdp(sdp: string, baseUrl: string): SdpDescription | null {
  if (typeof sdp !== 'string' || typeof baseUrl !== 'string') return null;
  if (!/^\s*v=/m.test(sdp) && !/^m=/m.test(sdp)) return null;
  try {
    return build(sdp, baseUrl);
  } catch {
    return null;
  }
}

function build(sdp: string, baseUrl: string): SdpDescription {
  const s = parse(sdp);
  const sessionInvalid = s.invalid as Invalid;
  const sessionCtl = typeof s.control === 'string' ? s.control.trim() : undefined;
  const absolute = sessionCtl !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(sessionCtl);
  const sessionControl = resolveControl(sessionCtl, baseUrl);
  const mediaBase = absolute ? sessionCtl! : baseUrl;
  const tracks: SdpTrack[] = [];
  for (const m of s.media ?? []) {
    const payloads = parsePayloads(String(m.payloads ?? '')).filter((p) => Number.isInteger(p) && p >= 0 && p <= 127);
    const rtpmap = new Map<number, { codec: string; rate: number }>();
    for (const r of m.rtp ?? []) {
      const pt = Number(r.payload);
      if (!Number.isInteger(pt) || rtpmap.has(pt)) continue;
      rtpmap.set(pt, { codec: String(r.codec ?? '').trim().toUpperCase(), rate: Number(r.rate) || 0 });
    }
    const describe = (pt: number): { encoding: string; clockRate: number } => {
      const mapped = rtpmap.get(pt);
      const st = STATIC_PT[pt];
      if (mapped && mapped.codec) return { encoding: mapped.codec, clockRate: mapped.rate || st?.[1] || 0 };
      if (st) return { encoding: st[0], clockRate: st[1] };
      return { encoding: '', clockRate: 0 };
    };
    // Prefer a JPEG format when an m= line offers several.
    const pt = payloads.find((p) => describe(p).encoding === 'JPEG') ?? payloads[0];
    if (pt === undefined) continue;
    const { encoding, clockRate } = describe(pt);
    const track: SdpTrack = {
      kind: String(m.type ?? '').toLowerCase(),
      payloadType: pt,
      encoding,
      clockRate,
      control: resolveControl(typeof m.control === 'string' ? m.control : undefined, mediaBase),
    };
    const fmtpLine = (m.fmtp ?? []).find((f) => Number(f.payload) === pt);
    if (fmtpLine && typeof fmtpLine.config === 'string') {
      const params: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(parseParams(fmtpLine.config))) {
        if (k && v !== undefined) params[k.trim()] = typeof v === 'number' ? v : String(v).trim();
      }
      track.fmtp = params;
    }
    const size = frameSize(m.invalid as Invalid, sessionInvalid, pt, track.fmtp);
    if (size) { track.width = size.width; track.height = size.height; }
    const fps = positiveNumber(m.framerate) ?? positiveNumber(attr(m.invalid as Invalid, 'x-framerate')[0]) ?? positiveNumber((s as { framerate?: unknown }).framerate);
    if (fps !== undefined) track.fps = fps;
    const conn = connection(m.connection as { version?: number; ip?: string } | undefined) ?? connection(s.connection as { version?: number; ip?: string } | undefined);
    const port = Number(m.port);
    if (conn && isMulticast(conn.address) && Number.isInteger(port) && port > 0 && port <= 65535) {
      track.multicast = conn.ttl !== undefined ? { address: conn.address, port, ttl: conn.ttl } : { address: conn.address, port };
    }
    tracks.push(track);
  }
  const desc: SdpDescription = { tracks, sessionControl };
  const range = attr(sessionInvalid, 'range')[0];
  if (range) desc.range = range;
  return desc;
}

/** The first JPEG video track (RFC 2435), or null. */
export function pickVideoTrack(d: SdpDescription): SdpTrack | null {
  return d.tracks.find((t) => t.kind === 'video' && t.encoding === 'JPEG') ?? null;
}
