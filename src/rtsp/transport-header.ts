/**
 * RTSP header values with structure: Transport (RFC 2326 §12.39), Session (§12.37),
 * RTP-Info (§12.33) and Public (§12.28). Parsers are tolerant of the quirks real cameras send
 * (`ssrc=` with leading spaces (Hikvision, Dahua), a single `server_port`, empty `source=`,
 * quoted `mode`, no `/TCP` on an interleaved reply) and never throw.
 */

export interface TransportSpec {
  /** upper-case: RTP/AVP, RTP/AVP/TCP, RTP/AVP/UDP (RTP/AVPF, RTP/SAVP kept as written) */
  protocol: string;
  unicast: boolean;
  multicast: boolean;
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  destination?: string;
  source?: string;
  port?: [number, number];
  ttl?: number;
  ssrc?: number;
  mode?: string;
}

/** Split on `sep` outside double quotes. */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out;
}

function unquote(v: string): string {
  const t = v.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/** "a-b" or "a" (→ a, a+1: RFC 2326 §12.39 port pairs) within [0, max]. */
function range(v: string, max: number): [number, number] | undefined {
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(v);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) return m[2] === undefined && a <= max ? [a, a] : undefined;
  return [a, b];
}

function intIn(v: string, max: number): number | undefined {
  const t = v.trim();
  if (!/^\d{1,10}$/.test(t)) return undefined;
  const n = Number(t);
  return n <= max ? n : undefined;
}

/** One Transport alternative, or null when it has no protocol. */
function parseOne(text: string): TransportSpec | null {
  const parts = splitOutsideQuotes(text, ';').map((p) => p.trim());
  const protocol = (parts[0] ?? '').toUpperCase();
  if (!/^[A-Z0-9]+\/[A-Z0-9]+(?:\/[A-Z0-9]+)?$/.test(protocol)) return null;
  const spec: TransportSpec = { protocol, unicast: false, multicast: false };
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1);
    switch (key) {
      case 'unicast': spec.unicast = true; break;
      case 'multicast': spec.multicast = true; break;
      case 'interleaved': { const r = range(value, 255); if (r) spec.interleaved = r; break; }
      case 'client_port': { const r = range(value, 65535); if (r) spec.clientPort = r; break; }
      case 'server_port': { const r = range(value, 65535); if (r) spec.serverPort = r; break; }
      case 'port': { const r = range(value, 65535); if (r) spec.port = r; break; }
      case 'destination': { const v = unquote(value); if (v) spec.destination = v; break; }
      case 'source': { const v = unquote(value); if (v) spec.source = v; break; }
      case 'ttl': { const n = intIn(value, 255); if (n !== undefined) spec.ttl = n; break; }
      case 'ssrc': {
        // 8 hex digits per RFC 2326; Hikvision/Dahua pad with leading spaces.
        const v = unquote(value).trim();
        if (/^[0-9A-Fa-f]{1,8}$/.test(v)) spec.ssrc = parseInt(v, 16);
        break;
      }
      case 'mode': { const v = unquote(value); if (v) spec.mode = v; break; }
      default: break;
    }
  }
  return spec;
}

/** All comma-separated alternatives of a Transport value that have a protocol. */
export function parseTransport(value: string): TransportSpec[] {
  if (typeof value !== 'string') return [];
  const out: TransportSpec[] = [];
  for (const alt of splitOutsideQuotes(value, ',')) {
    const spec = parseOne(alt);
    if (spec) out.push(spec);
  }
  return out;
}

const pair = (p: [number, number]): string => `${p[0]}-${p[1]}`;

/**
 * Format one Transport alternative. `mode` is written only when set: a play SETUP should leave
 * it out: some servers reject a SETUP that carries it.
 */
export function formatTransport(spec: TransportSpec): string {
  const parts = [spec.protocol];
  if (spec.unicast) parts.push('unicast');
  if (spec.multicast) parts.push('multicast');
  if (spec.destination !== undefined) parts.push(`destination=${spec.destination}`);
  if (spec.source !== undefined) parts.push(`source=${spec.source}`);
  if (spec.interleaved) parts.push(`interleaved=${pair(spec.interleaved)}`);
  if (spec.ttl !== undefined) parts.push(`ttl=${spec.ttl}`);
  if (spec.port) parts.push(`port=${pair(spec.port)}`);
  if (spec.clientPort) parts.push(`client_port=${pair(spec.clientPort)}`);
  if (spec.serverPort) parts.push(`server_port=${pair(spec.serverPort)}`);
  if (spec.ssrc !== undefined) parts.push(`ssrc=${(spec.ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  if (spec.mode !== undefined) parts.push(`mode=${spec.mode}`);
  return parts.join(';');
}

/**
 * "id;timeout=60" → { id, timeoutSec } (RFC 2326 §12.37). The id is what later requests echo,
 * without the timeout (EasyDarwin#140: echoing ";timeout" gets 454).
 */
export function parseSessionHeader(value: string): { id: string; timeoutSec: number | null } {
  if (typeof value !== 'string') return { id: '', timeoutSec: null };
  const parts = value.split(';');
  const id = (parts[0] ?? '').trim();
  let timeoutSec: number | null = null;
  for (const p of parts.slice(1)) {
    const m = /^\s*timeout\s*=\s*"?(\d{1,9})"?\s*$/i.exec(p);
    if (m) {
      const n = Number(m[1]);
      timeoutSec = n > 0 ? n : null;
    }
  }
  return { id, timeoutSec };
}

/**
 * RTP-Info entries (RFC 2326 §12.33): `url=...;seq=...;rtptime=...`, comma-separated. Missing or
 * invalid seq/rtptime are left out; a trailing ';' and a path-only url are accepted. A ';' inside
 * the URL (before any known parameter) stays part of the URL.
 */
export function parseRtpInfo(value: string): { url: string; seq?: number; rtptime?: number }[] {
  if (typeof value !== 'string') return [];
  const out: { url: string; seq?: number; rtptime?: number }[] = [];
  // Split entries only at commas that start a new "url=", so commas inside URLs survive.
  const entries = value.split(/,(?=\s*url\s*=)/i);
  for (const entry of entries) {
    const parts = entry.split(';');
    const first = parts[0]!.trim();
    const m = /^url\s*=\s*(.*)$/i.exec(first);
    if (!m) continue;
    let url = unquote(m[1]!);
    const item: { url: string; seq?: number; rtptime?: number } = { url };
    let inParams = false;
    for (const raw of parts.slice(1)) {
      const p = raw.trim();
      const kv = /^(seq|rtptime|ssrc)\s*=\s*(.*)$/i.exec(p);
      if (!kv) {
        if (!inParams && p !== '') url += `;${raw}`;
        continue;
      }
      inParams = true;
      const key = kv[1]!.toLowerCase();
      if (key === 'seq') { const n = intIn(kv[2]!, 0xffff); if (n !== undefined) item.seq = n; }
      if (key === 'rtptime') { const n = intIn(kv[2]!, 0xffffffff); if (n !== undefined) item.rtptime = n; }
    }
    item.url = url.trim();
    if (item.url !== '') out.push(item);
  }
  return out;
}

const KNOWN_METHODS = [
  'DESCRIBE', 'ANNOUNCE', 'GET_PARAMETER', 'OPTIONS', 'PAUSE', 'PLAY', 'RECORD', 'REDIRECT',
  'SETUP', 'SET_PARAMETER', 'TEARDOWN', 'PLAY_NOTIFY',
];

/**
 * Methods listed in a Public header (§12.28), upper-case. Tolerates a glued next header
 * (`GET_PARAMETERDate: …`, yellowstone#84) by also adding the longest known method the token
 * starts with.
 */
export function parsePublic(value: string | undefined): Set<string> {
  const out = new Set<string>();
  if (typeof value !== 'string') return out;
  for (const item of value.split(',')) {
    const tok = /^[\s]*([A-Za-z_-]+)/.exec(item)?.[1]?.toUpperCase();
    if (!tok) continue;
    out.add(tok);
    if (!KNOWN_METHODS.includes(tok)) {
      let best = '';
      for (const m of KNOWN_METHODS) if (tok.startsWith(m) && m.length > best.length) best = m;
      if (best) out.add(best);
    }
  }
  return out;
}
