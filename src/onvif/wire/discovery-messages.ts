/**
 * WS-Discovery (April 2005) messages as ONVIF uses them (ONVIF Core §7): the Probe a client
 * sends over SOAP-over-UDP to 239.255.255.250:3702 (WS-Discovery §5.2), the ProbeMatches a
 * device answers (§5.3: endpoint reference, Types, Scopes, XAddrs, MetadataVersion), and the
 * ONVIF scopes that name a device (ONVIF Core §7.3.2.2: onvif://www.onvif.org/name/…,
 * /hardware/…, /location/…).
 *
 * Parsing is bounded: each list is capped, each string is cut, and anything that is not a
 * ProbeMatches answering one of our Probes is reported as such, never thrown past the caller.
 */
import { randomUUID } from 'node:crypto';
import { CameraError } from '../../errors';
import { DN, SOAP11, SOAP12, TDS, WSA_2004, WSA_2005, WSD } from './namespaces';
import { child, children, escapeXml, parseXml, resolveQName, type XmlElement } from './xml';
import type { QName } from './soap';

export const DISCOVERY_ADDRESS = '239.255.255.250';
export const DISCOVERY_PORT = 3702;
const ACTION_PROBE = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe';
const ACTION_PROBE_MATCHES = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches';
/** WS-Discovery §2.4 / §5.2: the To of a multicast Probe */
const DISCOVERY_URN = 'urn:schemas-xmlsoap-org:ws:2005:04:discovery';
const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

/** Types a Probe can ask for: the older NetworkVideoTransmitter and the device service (ONVIF Core §7.3.2.1). */
export type ProbeType = 'NetworkVideoTransmitter' | 'Device';

export const MAX_MATCHES_PER_MESSAGE = 16;
const MAX_LIST = 64;
const MAX_STRING = 2048;

/** A fresh message id (WS-Addressing wants a URI; ONVIF Core §7.3.1 uses urn:uuid). */
export function newMessageId(): string {
  return `urn:uuid:${randomUUID()}`;
}

/** The Probe envelope for one device type (a Probe with two types only matches devices that have both, WS-Discovery §5.3). */
export function buildProbe(messageId: string, type: ProbeType): string {
  const types = type === 'Device' ? `<d:Types xmlns:tds="${TDS}">tds:Device</d:Types>` : `<d:Types xmlns:dn="${DN}">dn:NetworkVideoTransmitter</d:Types>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="${SOAP12}" xmlns:a="${WSA_2004}" xmlns:d="${WSD}">` +
    `<s:Header><a:Action s:mustUnderstand="1">${ACTION_PROBE}</a:Action>` +
    `<a:MessageID>${escapeXml(messageId)}</a:MessageID>` +
    `<a:ReplyTo><a:Address>${ANONYMOUS}</a:Address></a:ReplyTo>` +
    `<a:To s:mustUnderstand="1">${DISCOVERY_URN}</a:To></s:Header>` +
    `<s:Body><d:Probe>${types}</d:Probe></s:Body></s:Envelope>`;
}

export interface ProbeMatch {
  /** the endpoint reference address (ONVIF Core §7.3.1: a stable urn:uuid), the key to de-duplicate by */
  endpoint: string;
  types: QName[];
  scopes: string[];
  /** device-service URLs */
  xaddrs: string[];
  metadataVersion: number | null;
}

export type ProbeMatchesResult =
  | { kind: 'matches'; relatesTo: string | null; matches: ProbeMatch[] }
  /** a well-formed WS-Discovery message that is not a ProbeMatches (Hello, Bye, a Probe of another client…) */
  | { kind: 'other'; action: string };

const ENVELOPE_NS = [SOAP12, SOAP11];
const WSA = [WSA_2004, WSA_2005];

const cut = (s: string): string => (s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s);
const list = (s: string | undefined): string[] => (s ?? '').split(/[ \t\r\n]+/).filter((x) => x.length > 0).slice(0, MAX_LIST).map(cut);

function qnames(el: XmlElement | undefined): QName[] {
  if (!el) return [];
  return list(el.text).map((v) => { const q = resolveQName(el, v); return { ns: q.ns, local: q.local }; });
}

function envelopeParts(root: XmlElement): { header: XmlElement | undefined; body: XmlElement | undefined } {
  if (root.name !== 'Envelope' || !ENVELOPE_NS.includes(root.ns)) throw new CameraError('protocol error', `WS-Discovery datagram: not a SOAP envelope (root element ${root.name})`);
  return { header: child(root, root.ns, 'Header'), body: child(root, root.ns, 'Body') };
}

/**
 * Reads one datagram. Throws CameraError('protocol error') when it is not a
 * well-formed SOAP envelope; the discovery service counts those as malformed.
 */
export function parseProbeMatches(text: string, maxChars = 65536): ProbeMatchesResult {
  const root = parseXml(text, 'WS-Discovery datagram', { maxChars, maxDepth: 32, maxElements: 4096 });
  const { header, body } = envelopeParts(root);
  const action = child(header, WSA, 'Action')?.text ?? '';
  const pm = child(body, WSD, 'ProbeMatches');
  if (!pm) return { kind: 'other', action: cut(action) };
  if (action && action !== ACTION_PROBE_MATCHES) return { kind: 'other', action: cut(action) };
  const relates = child(header, WSA, 'RelatesTo')?.text;
  const matches: ProbeMatch[] = [];
  for (const m of children(pm, WSD, 'ProbeMatch').slice(0, MAX_MATCHES_PER_MESSAGE)) {
    const endpoint = child(child(m, WSA, 'EndpointReference'), WSA, 'Address')?.text ?? '';
    const mv = Number(child(m, WSD, 'MetadataVersion')?.text);
    matches.push({
      endpoint: cut(endpoint),
      types: qnames(child(m, WSD, 'Types')),
      scopes: list(child(m, WSD, 'Scopes')?.text),
      xaddrs: list(child(m, WSD, 'XAddrs')?.text),
      metadataVersion: Number.isFinite(mv) ? mv : null,
    });
  }
  return { kind: 'matches', relatesTo: relates === undefined ? null : cut(relates), matches };
}

export interface ScopeInfo {
  name: string | null;
  hardware: string | null;
  /** every location scope, "country/china, city/beijing" */
  location: string | null;
}

function decode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

/** Name, hardware and location from onvif://www.onvif.org/… scopes (ONVIF Core §7.3.2.2). */
export function scopeInfo(scopes: readonly string[]): ScopeInfo {
  const prefix = 'onvif://www.onvif.org/';
  const found: Record<string, string[]> = { name: [], hardware: [], location: [] };
  for (const s of scopes) {
    if (s.slice(0, prefix.length).toLowerCase() !== prefix) continue;
    const rest = s.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const cat = rest.slice(0, slash).toLowerCase();
    const value = decode(rest.slice(slash + 1)).trim();
    if (value && found[cat]) found[cat]!.push(value);
  }
  const first = (k: string): string | null => found[k]![0] ?? null;
  return { name: first('name'), hardware: first('hardware'), location: found['location']!.length ? found['location']!.join(', ') : null };
}

// ---- the device side (demo camera, device emulations) ----------------------------------

export interface ProbeMessage {
  messageId: string;
  types: QName[];
  scopes: string[];
}

/** A Probe as a device receives it; null when the datagram is something else. Throws on malformed XML. */
export function parseProbe(text: string): ProbeMessage | null {
  const root = parseXml(text, 'WS-Discovery datagram', { maxChars: 65536, maxDepth: 32, maxElements: 1024 });
  const { header, body } = envelopeParts(root);
  const probe = child(body, WSD, 'Probe');
  if (!probe) return null;
  return {
    messageId: cut(child(header, WSA, 'MessageID')?.text ?? ''),
    types: qnames(child(probe, WSD, 'Types')),
    scopes: list(child(probe, WSD, 'Scopes')?.text),
  };
}

export interface DeviceAnnouncement {
  endpoint: string;
  /** as QName text with their namespaces, e.g. [['dn', DN, 'NetworkVideoTransmitter'], ['tds', TDS, 'Device']] */
  types: [prefix: string, ns: string, local: string][];
  scopes: string[];
  xaddrs: string[];
  metadataVersion?: number;
}

/** Whether a device with these types and scopes answers the probe (WS-Discovery §5.3, rfc3986 scope rule per ONVIF Core §7.3.3). */
export function probeMatchesDevice(probe: ProbeMessage, device: DeviceAnnouncement): boolean {
  const typesOk = probe.types.every((t) => device.types.some(([, ns, local]) => ns === t.ns && local === t.local));
  const segs = (u: string): string[] => u.replace(/\/+$/, '').split('/');
  const scopesOk = probe.scopes.every((s) => device.scopes.some((d) => {
    const a = segs(s);
    const b = segs(d);
    return a.length <= b.length && a.every((x, i) => (i < 3 ? x.toLowerCase() === b[i]!.toLowerCase() : x === b[i]));
  }));
  return typesOk && scopesOk;
}

/** The ProbeMatches envelope a device sends back (unicast, to the Probe's source address). */
export function buildProbeMatches(relatesTo: string, device: DeviceAnnouncement, messageId = newMessageId()): string {
  const decl = [...new Map(device.types.map(([p, ns]) => [p, ns])).entries()].map(([p, ns]) => ` xmlns:${p}="${escapeXml(ns)}"`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="${SOAP12}" xmlns:a="${WSA_2004}" xmlns:d="${WSD}"${decl}>` +
    `<s:Header><a:MessageID>${escapeXml(messageId)}</a:MessageID><a:RelatesTo>${escapeXml(relatesTo)}</a:RelatesTo>` +
    `<a:To s:mustUnderstand="1">${ANONYMOUS}</a:To><a:Action s:mustUnderstand="1">${ACTION_PROBE_MATCHES}</a:Action></s:Header>` +
    `<s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>${escapeXml(device.endpoint)}</a:Address></a:EndpointReference>` +
    `<d:Types>${device.types.map(([p, , l]) => `${p}:${l}`).join(' ')}</d:Types>` +
    `<d:Scopes>${device.scopes.map(escapeXml).join(' ')}</d:Scopes>` +
    `<d:XAddrs>${device.xaddrs.map(escapeXml).join(' ')}</d:XAddrs>` +
    `<d:MetadataVersion>${device.metadataVersion ?? 1}</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>`;
}
