/**
 * What an HTTP camera URL serves, from its response: the Content-Type (RFC 9110 §8.3.1:
 * `type "/" subtype *( OWS ";" OWS parameter )`, names case-insensitive, values token or
 * quoted-string) and, when that says nothing useful (FFmpeg's and VLC's HTTP outputs send
 * `application/octet-stream`), the first bytes of the body.
 *
 * Kinds: a multipart stream (RFC 2046 §5.1; `multipart/x-mixed-replace` is Netscape's server
 * push, `multipart/mixed` what some cameras send instead), one JPEG picture (a snapshot URL,
 * polled), or something that is not Motion-JPEG (an HTML page, H.264 or another video).
 */

export interface MediaType {
  /** lower-case `type/subtype` */
  essence: string;
  /** lower-case names; quotes removed and quoted-pairs unescaped */
  params: Record<string, string>;
}

/** Parses a Content-Type value; null when it has no `type/subtype`. Never throws. */
export function parseMediaType(value: string | undefined): MediaType | null {
  if (typeof value !== 'string') return null;
  const semi = value.indexOf(';');
  const essence = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(essence)) return null;
  const params: Record<string, string> = {};
  let i = semi < 0 ? value.length : semi + 1;
  while (i < value.length) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ';')) i++;
    const eq = value.indexOf('=', i);
    const nextSemi = value.indexOf(';', i);
    if (eq < 0 || (nextSemi >= 0 && nextSemi < eq)) {
      // a parameter without a value: skip it
      i = nextSemi < 0 ? value.length : nextSemi + 1;
      continue;
    }
    const name = value.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
    let v = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < value.length) i++;
        v += value[i++];
      }
      i++; // closing quote (or past the end)
      const after = value.indexOf(';', i);
      i = after < 0 ? value.length : after + 1;
    } else {
      const end = value.indexOf(';', i);
      v = value.slice(i, end < 0 ? value.length : end).trim();
      i = end < 0 ? value.length : end + 1;
    }
    if (name.length > 0 && !(name in params)) params[name] = v;
  }
  return { essence, params };
}

/**
 * The boundary as the body will show it, without the leading `--` some servers put into the
 * parameter (`boundary=--myboundary` while the body has `--myboundary`); the multipart
 * reader accepts both spellings. null when empty or not printable ASCII.
 */
export function boundaryToken(param: string | undefined): string | null {
  if (param === undefined) return null;
  const t = param.trim().replace(/^-+/, '');
  if (t.length === 0 || t.length > 200 || !/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(t)) return null;
  return t;
}

export type SourceKind =
  | { kind: 'stream'; boundary: string | null }
  | { kind: 'snapshot' }
  /** decide from the first body bytes (sniffBody) */
  | { kind: 'sniff' }
  /** `what` completes "the URL serves …" */
  | { kind: 'rejected'; what: string };

const VIDEO_NAMES: Record<string, string> = {
  'video/h264': 'an H.264 stream', 'video/h265': 'an H.265 stream', 'video/hevc': 'an H.265 stream',
  'video/mp4': 'an MP4 video', 'video/mp2t': 'an MPEG transport stream', 'video/x-flv': 'an FLV video',
  'application/vnd.apple.mpegurl': 'an HLS playlist', 'application/x-mpegurl': 'an HLS playlist',
  'application/x-rtsp-tunnelled': 'RTSP tunnelled over HTTP (use the rtsp:// URL with transport http)',
};

/** What the Content-Type says. */
export function kindFromContentType(value: string | undefined): SourceKind {
  const mt = parseMediaType(value);
  if (!mt) return { kind: 'sniff' };
  const e = mt.essence;
  if (e === 'multipart/x-mixed-replace' || e === 'multipart/mixed') return { kind: 'stream', boundary: boundaryToken(mt.params['boundary']) };
  if (e === 'image/jpeg' || e === 'image/jpg' || e === 'image/pjpeg') return { kind: 'snapshot' };
  if (e === 'text/html' || e === 'application/xhtml+xml') return { kind: 'rejected', what: 'an HTML page (a web interface or a login page, not a picture)' };
  if (VIDEO_NAMES[e]) return { kind: 'rejected', what: VIDEO_NAMES[e] };
  if (e.startsWith('video/')) return { kind: 'rejected', what: `a ${e} video` };
  if (e.startsWith('image/')) return { kind: 'rejected', what: `a ${e.slice(6).toUpperCase()} picture, not JPEG` };
  if (e.startsWith('multipart/')) return { kind: 'rejected', what: `${e}, not a multipart stream of pictures` };
  // application/octet-stream, text/plain, anything else: the body decides
  return { kind: 'sniff' };
}

/** How many bytes sniffBody may need before it can decide. */
export const SNIFF_BYTES = 512;

export type SniffResult = SourceKind | { kind: 'more' };

function ascii(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/**
 * What the first bytes of a body are: a multipart stream (its first line a delimiter
 * `--token`), a JPEG (SOI), an HTML page, H.264 (an Annex B start code), MP4, FLV or an MPEG
 * transport stream. 'more' until it can tell (at most SNIFF_BYTES are needed; `final` when
 * the body ended or that many have arrived).
 */
export function sniffBody(buf: Uint8Array, final: boolean): SniffResult {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a || buf[i] === 0x20 || buf[i] === 0x09)) i++;
  const rest = buf.length - i;
  if (rest >= 2 && buf[i] === 0xff && buf[i + 1] === 0xd8) return { kind: 'snapshot' };
  if (rest >= 2 && buf[i] === 0x2d && buf[i + 1] === 0x2d) {
    let lf = -1;
    for (let k = i; k < Math.min(buf.length, i + 256); k++) if (buf[k] === 0x0a) { lf = k; break; }
    if (lf < 0) return final || rest >= 256 ? { kind: 'rejected', what: 'text that is neither a picture nor a multipart stream' } : { kind: 'more' };
    const token = boundaryToken(ascii(buf, i, lf).trim());
    if (token) return { kind: 'stream', boundary: token };
  }
  if (rest >= 1 && buf[i] === 0x3c) {
    const head = ascii(buf, i, Math.min(buf.length, i + 64)).toLowerCase();
    if (head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head') || head.startsWith('<body') || head.startsWith('<!--')) {
      return { kind: 'rejected', what: 'an HTML page (a web interface or a login page, not a picture)' };
    }
    if (head.startsWith('<?xml')) return { kind: 'rejected', what: 'an XML document, not a picture' };
  }
  if (buf.length >= 4 && buf[0] === 0 && buf[1] === 0 && (buf[2] === 1 || (buf[2] === 0 && buf[3] === 1))) return { kind: 'rejected', what: 'an H.264 or H.265 stream (Annex B)' };
  if (buf.length >= 8 && ascii(buf, 4, 8) === 'ftyp') return { kind: 'rejected', what: 'an MP4 video' };
  if (buf.length >= 3 && ascii(buf, 0, 3) === 'FLV') return { kind: 'rejected', what: 'an FLV video' };
  if (buf.length >= 377 && buf[0] === 0x47 && buf[188] === 0x47 && buf[376] === 0x47) return { kind: 'rejected', what: 'an MPEG transport stream' };
  if (!final && buf.length < SNIFF_BYTES) return { kind: 'more' };
  return { kind: 'rejected', what: 'something that is neither a JPEG picture nor a multipart stream' };
}
