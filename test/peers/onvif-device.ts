/**
 * The engine under the ONVIF device emulations (onvif-devices.ts): an HTTP server on
 * 127.0.0.1 answering the device service (ONVIF Core §8: GetSystemDateAndTime, GetServices,
 * GetCapabilities, GetDeviceInformation, GetScopes, GetHostname), the Media service (Media
 * §5.2.2 GetProfiles, §5.2.3 GetProfile, GetVideoSources, §5.15.1 GetStreamUri, §5.16.1 GetSnapshotUri), the
 * Media 2 service (Media 2 §5.1.2, §5.3 GetVideoSourceConfigurations, §5.4.1, §5.5.1) and the event service's pull points
 * (onvif-pullpoints.ts), each the way the device's profile says: which services exist, which
 * authentication (WS-Security only, HTTP Digest only, either), its clock, its namespace style.
 *
 * Written from the specifications; it imports nothing from src/onvif, and its WS-Security
 * check (UsernameToken Profile 1.0 §3.1) and Digest check are its own, so a client bug shared
 * with the emulation cannot pass unnoticed. Requests are read with fast-xml-parser with
 * namespace prefixes removed (a device only needs the operation's local name).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { envelope, fault, x, type El, type Style } from './onvif-xml-writer';
import { PullPoints, type PullPointBehaviour } from './onvif-pullpoints';

export interface EmulatedProfile {
  token: string;
  name: string;
  encoding: 'JPEG' | 'H264' | 'H265';
  width: number;
  height: number;
  fps: number;
  /** RTSP path (the stream URI is rtsp://127.0.0.1:<rtspPort><path>) */
  path: string;
}

export interface DeviceBehaviour {
  name: string;
  /** the published source this device follows, for the test report */
  source: string;
  style: Style;
  /** 'ws-security': token only (a request without one: HTTP 400 + ter:NotAuthorized, Core §5.9.1); 'digest': HTTP Digest only (401); 'either' */
  auth: 'ws-security' | 'digest' | 'either' | 'none';
  /** the device's clock minus the real one */
  clockOffsetMs: number;
  /** largest accepted distance between a token's Created and the device clock (default 5 s) */
  maxSkewMs?: number;
  media1: boolean;
  media2: boolean;
  /** GetServices answered (old devices: ActionNotSupported, GetCapabilities only) */
  getServices: boolean;
  profiles: EmulatedProfile[];
  events: PullPointBehaviour | null;
  manufacturer: string;
  model: string;
  /** puts user:password@ into stream URIs (some firmware does) */
  credentialsInUri?: boolean;
}

export interface DeviceCounters {
  requests: { op: string; auth: 'token' | 'digest' | 'none'; status: number }[];
  authFailures: number;
}

/** ONVIF Core §8: the device-service operations whose access class is PRE_AUTH */
const PRE_AUTH = new Set(['GetSystemDateAndTime', 'GetServices', 'GetCapabilities', 'GetWsdlUrl', 'GetServiceCapabilities', 'GetEndpointReference', 'GetHostname']);
const REALM = 'onvif-emulation';

const reader = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, processEntities: false, parseTagValue: false });

type Json = Record<string, unknown>;
const at = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), o);
const str = (v: unknown): string => (typeof v === 'string' ? v : v && typeof v === 'object' && '#text' in (v as Json) ? String((v as Json)['#text']) : '');

function utcParts(ms: number): El {
  const d = new Date(ms);
  return x('tt', 'UTCDateTime',
    x('tt', 'Time', x('tt', 'Hour', String(d.getUTCHours())), x('tt', 'Minute', String(d.getUTCMinutes())), x('tt', 'Second', String(d.getUTCSeconds()))),
    x('tt', 'Date', x('tt', 'Year', String(d.getUTCFullYear())), x('tt', 'Month', String(d.getUTCMonth() + 1)), x('tt', 'Day', String(d.getUTCDate()))));
}

export class OnvifDeviceEmulation {
  readonly counters: DeviceCounters = { requests: [], authFailures: 0 };
  readonly pullPoints: PullPoints | null;
  port = 0;
  rtspPort = 554;
  private readonly server: Server;
  private readonly nonces = new Set<string>();

  constructor(readonly b: DeviceBehaviour, readonly username = 'admin', readonly password = 'pass word:1') {
    this.server = createServer((req, res) => { this.onRequest(req, res).catch(() => { res.destroy(); }); });
    this.pullPoints = b.events ? new PullPoints(b.events, b.style, () => this.deviceNow(), () => this.base()) : null;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  base(): string { return `http://127.0.0.1:${this.port}`; }
  get deviceUrl(): string { return `${this.base()}/onvif/device_service`; }
  deviceNow(): number { return Date.now() + this.b.clockOffsetMs; }

  async close(): Promise<void> {
    this.pullPoints?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    // with a Content-Length, header names in their usual case, as camera web servers write
    // them (libonvif's HTTP reader looks for "Content-Length: " exactly)
    res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Date: new Date(this.deviceNow()).toUTCString(), ...headers });
    res.end(body);
  }

  /** WS-Security UsernameToken Profile 1.0 §3.1, checked from the parsed header */
  private tokenOk(env: unknown): 'ok' | 'missing' | 'bad' {
    const token = at(env, 'Envelope', 'Header', 'Security', 'UsernameToken');
    if (!token) return 'missing';
    const user = str(at(token, 'Username'));
    const pw = str(at(token, 'Password'));
    const nonce = str(at(token, 'Nonce'));
    const created = str(at(token, 'Created'));
    const digest = createHash('sha1').update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from(this.password)])).digest('base64');
    if (user !== this.username || pw !== digest) return 'bad';
    const t = Date.parse(created);
    if (!Number.isFinite(t) || Math.abs(t - this.deviceNow()) > (this.b.maxSkewMs ?? 5000)) return 'bad';
    return 'ok';
  }

  /** RFC 2617 Digest with qop=auth, MD5 */
  private digestOk(req: IncomingMessage): boolean {
    const h = req.headers['authorization'] ?? '';
    if (!h.startsWith('Digest ')) return false;
    const p: Record<string, string> = {};
    for (const m of h.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1]!] = m[2] ?? m[3] ?? '';
    if (p['username'] !== this.username || p['realm'] !== REALM || !this.nonces.has(p['nonce'] ?? '')) return false;
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const ha1 = md5(`${this.username}:${REALM}:${this.password}`);
    const ha2 = md5(`${req.method}:${p['uri']}`);
    return p['response'] === md5(`${ha1}:${p['nonce']}:${p['nc']}:${p['cnonce']}:${p['qop']}:${ha2}`);
  }

  private challenge(res: ServerResponse): void {
    const nonce = randomBytes(12).toString('hex');
    this.nonces.add(nonce);
    this.send(res, 401, '', { 'WWW-Authenticate': `Digest realm="${REALM}", qop="auth", nonce="${nonce}", algorithm=MD5`, 'Content-Type': 'text/html' });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = req.url ?? '/';
    if (req.method === 'GET' && url.startsWith('/onvif/snapshot/')) {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
      return;
    }
    let env: unknown;
    try { env = reader.parse(Buffer.concat(chunks).toString('utf8')); } catch { env = null; }
    const body = at(env, 'Envelope', 'Body');
    const op = body && typeof body === 'object' ? Object.keys(body).find((k) => !k.startsWith('@')) ?? '' : '';
    const opBody = at(body, op);
    const token = this.tokenOk(env);
    const digest = this.digestOk(req);
    const record = (status: number): void => {
      if (this.counters.requests.length < 2000) this.counters.requests.push({ op, auth: digest ? 'digest' : token === 'ok' ? 'token' : 'none', status });
    };
    if (!PRE_AUTH.has(op) && this.b.auth !== 'none') {
      const a = this.b.auth;
      const passed = (a === 'ws-security' && token === 'ok') || (a === 'digest' && digest) || (a === 'either' && (token === 'ok' || digest));
      if (!passed) {
        this.counters.authFailures++;
        record(a === 'ws-security' ? 400 : 401);
        // Core §5.9.1: a token-only device answers 400 + ter:NotAuthorized; a Digest one 401
        if (a === 'ws-security' || (a === 'either' && token === 'bad')) this.send(res, 400, fault(this.b.style, 'Sender', ['NotAuthorized'], 'Sender not Authorized'));
        else this.challenge(res);
        return;
      }
    }
    const reply = this.answer(url, op, opBody, env);
    record(reply.status);
    if (reply.wait) {
      const r = await reply.wait;
      if (!res.destroyed) this.send(res, r.status, r.body);
      return;
    }
    this.send(res, reply.status, reply.body);
  }

  /** the reply to one operation */
  private answer(url: string, op: string, opBody: unknown, env: unknown): { status: number; body: string; wait?: Promise<{ status: number; body: string }> } {
    const s = this.b.style;
    const ok = (el: El): { status: number; body: string } => ({ status: 200, body: envelope(s, [el]) });
    const notSupported = (): { status: number; body: string } => ({ status: 500, body: fault(s, 'Receiver', ['ActionNotSupported'], 'Optional Action Not Implemented') });
    const media1 = url.startsWith('/onvif/media_service') && this.b.media1;
    const media2 = url.startsWith('/onvif/media2_service') && this.b.media2;
    const profile = (t: unknown): EmulatedProfile | undefined => this.b.profiles.find((p) => p.token === str(t));
    if (url.startsWith('/onvif/device_service')) {
      switch (op) {
        case 'GetSystemDateAndTime':
          return ok(x('tds', 'GetSystemDateAndTimeResponse', x('tds', 'SystemDateAndTime',
            x('tt', 'DateTimeType', 'Manual'), x('tt', 'DaylightSavings', 'false'), x('tt', 'TimeZone', x('tt', 'TZ', 'UTC0')), utcParts(this.deviceNow()))));
        case 'GetServices': {
          if (!this.b.getServices) return notSupported();
          const svc = (ns: string, path: string, major: string): El => x('tds', 'Service', x('tds', 'Namespace', ns), x('tds', 'XAddr', `${this.base()}${path}`),
            x('tds', 'Version', x('tt', 'Major', major), x('tt', 'Minor', '60')));
          return ok(x('tds', 'GetServicesResponse',
            svc('http://www.onvif.org/ver10/device/wsdl', '/onvif/device_service', '2'),
            this.b.media1 ? svc('http://www.onvif.org/ver10/media/wsdl', '/onvif/media_service', '2') : null,
            this.b.media2 ? svc('http://www.onvif.org/ver20/media/wsdl', '/onvif/media2_service', '2') : null,
            this.b.events ? svc('http://www.onvif.org/ver10/events/wsdl', '/onvif/events_service', '2') : null));
        }
        case 'GetCapabilities':
          return ok(x('tds', 'GetCapabilitiesResponse', x('tds', 'Capabilities',
            x('tt', 'Device', x('tt', 'XAddr', this.deviceUrl)),
            this.b.events ? x('tt', 'Events', x('tt', 'XAddr', `${this.base()}/onvif/events_service`), x('tt', 'WSSubscriptionPolicySupport', 'false'), x('tt', 'WSPullPointSupport', 'true')) : null,
            this.b.media1 ? x('tt', 'Media', x('tt', 'XAddr', `${this.base()}/onvif/media_service`),
              x('tt', 'StreamingCapabilities', x('tt', 'RTPMulticast', 'false'), x('tt', 'RTP_TCP', 'true'), x('tt', 'RTP_RTSP_TCP', 'true'))) : null)));
        case 'GetDeviceInformation':
          return ok(x('tds', 'GetDeviceInformationResponse', x('tds', 'Manufacturer', this.b.manufacturer), x('tds', 'Model', this.b.model),
            x('tds', 'FirmwareVersion', 'V5.7.3 build 220112'), x('tds', 'SerialNumber', 'EMU0123456789'), x('tds', 'HardwareId', '88')));
        case 'GetHostname':
          return ok(x('tds', 'GetHostnameResponse', x('tds', 'HostnameInformation', x('tt', 'FromDHCP', 'false'), x('tt', 'Name', 'emulated-camera'))));
        case 'GetScopes':
          return ok(x('tds', 'GetScopesResponse', x('tds', 'Scopes', x('tt', 'ScopeDef', 'Fixed'), x('tt', 'ScopeItem', `onvif://www.onvif.org/name/${encodeURIComponent(this.b.model)}`))));
        default:
          return notSupported();
      }
    }
    if (media1) {
      switch (op) {
        case 'GetProfiles':
          return ok(x('trt', 'GetProfilesResponse', ...this.b.profiles.map((p) => this.media1Profile(p, 'Profiles'))));
        case 'GetProfile': {
          // Media §5.2.3
          const p = profile(at(opBody, 'ProfileToken'));
          if (!p) return { status: 400, body: fault(s, 'Sender', ['InvalidArgVal', 'NoProfile'], 'The requested profile token does not exist') };
          return ok(x('trt', 'GetProfileResponse', this.media1Profile(p, 'Profile')));
        }
        case 'GetVideoSources':
          return ok(x('trt', 'GetVideoSourcesResponse', x('trt', 'VideoSources', { token: 'vs0' }, x('tt', 'Framerate', '25'),
            x('tt', 'Resolution', x('tt', 'Width', '1920'), x('tt', 'Height', '1080')))));
        case 'GetStreamUri': {
          const p = profile(at(opBody, 'ProfileToken'));
          if (!p) return { status: 400, body: fault(s, 'Sender', ['InvalidArgVal', 'NoProfile'], 'The requested profile token does not exist') };
          return ok(x('trt', 'GetStreamUriResponse', x('trt', 'MediaUri', x('tt', 'Uri', this.rtspUri(p)),
            x('tt', 'InvalidAfterConnect', 'false'), x('tt', 'InvalidAfterReboot', 'false'), x('tt', 'Timeout', 'PT0S'))));
        }
        case 'GetSnapshotUri': {
          const p = profile(at(opBody, 'ProfileToken'));
          if (!p) return { status: 400, body: fault(s, 'Sender', ['InvalidArgVal', 'NoProfile'], 'no such profile') };
          return ok(x('trt', 'GetSnapshotUriResponse', x('trt', 'MediaUri', x('tt', 'Uri', `${this.base()}/onvif/snapshot/${p.token}.jpg`),
            x('tt', 'InvalidAfterConnect', 'false'), x('tt', 'InvalidAfterReboot', 'false'), x('tt', 'Timeout', 'PT0S'))));
        }
        default:
          return notSupported();
      }
    }
    if (media2) {
      switch (op) {
        case 'GetProfiles': {
          // Media 2 §5.1.2: the configurations of the requested Types only (none without a Type)
          const raw = at(opBody, 'Type');
          const types = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(str);
          const want = (t: string): boolean => types.includes('All') || types.includes(t);
          return ok(x('tr2', 'GetProfilesResponse', ...this.b.profiles.map((p) => x('tr2', 'Profiles', { token: p.token, fixed: 'true' },
            x('tr2', 'Name', p.name),
            x('tr2', 'Configurations',
              want('VideoSource') ? x('tr2', 'VideoSource', { token: 'vsc0' }, x('tt', 'Name', 'vsc0'), x('tt', 'UseCount', String(this.b.profiles.length)),
                x('tt', 'SourceToken', 'vs0'), x('tt', 'Bounds', { x: '0', y: '0', width: '1920', height: '1080' })) : null,
              !want('VideoEncoder') ? null : x('tr2', 'VideoEncoder', { token: `ve-${p.token}`, GovLength: '50', Profile: 'Main' },
              x('tt', 'Name', `ve-${p.token}`), x('tt', 'UseCount', '1'), s === 'odd' ? x('vendor', 'Encoding', 'H265') : null, x('tt', 'Encoding', p.encoding),
              x('tt', 'Resolution', x('tt', 'Width', String(p.width)), x('tt', 'Height', String(p.height))),
              x('tt', 'RateControl', { ConstantBitRate: 'false' }, x('tt', 'FrameRateLimit', String(p.fps)), x('tt', 'BitrateLimit', '4096')),
              x('tt', 'Quality', '5')))))));
        }
        case 'GetVideoSourceConfigurations':
          // Media 2 §5.3: mandatory for a Media 2 device (clients read the source bounds here)
          return ok(x('tr2', 'GetVideoSourceConfigurationsResponse', x('tr2', 'Configurations', { token: 'vsc0' }, x('tt', 'Name', 'vsc0'),
            x('tt', 'UseCount', String(this.b.profiles.length)), x('tt', 'SourceToken', 'vs0'), x('tt', 'Bounds', { x: '0', y: '0', width: '1920', height: '1080' }))));
        case 'GetStreamUri': {
          const p = profile(at(opBody, 'ProfileToken'));
          if (!p) return { status: 400, body: fault(s, 'Sender', ['InvalidArgVal', 'NoProfile'], 'no such profile') };
          return ok(x('tr2', 'GetStreamUriResponse', x('tr2', 'Uri', this.rtspUri(p))));
        }
        case 'GetSnapshotUri': {
          const p = profile(at(opBody, 'ProfileToken'));
          if (!p) return { status: 400, body: fault(s, 'Sender', ['InvalidArgVal', 'NoProfile'], 'no such profile') };
          return ok(x('tr2', 'GetSnapshotUriResponse', x('tr2', 'Uri', `${this.base()}/onvif/snapshot/${p.token}.jpg`)));
        }
        default:
          return notSupported();
      }
    }
    if (this.pullPoints && (url.startsWith('/onvif/events_service') || url.startsWith('/onvif/subscription') || url.startsWith('/onvif/services'))) {
      return this.pullPoints.answer(url, op, opBody, env);
    }
    // a service this device does not have: what most web servers in cameras answer
    return { status: 404, body: '' };
  }

  /** one Media profile (tt:Profile) as GetProfiles (element Profiles) and GetProfile (Profile) write it */
  private media1Profile(p: EmulatedProfile, element: 'Profiles' | 'Profile'): El {
    const s = this.b.style;
    return x('trt', element, { token: p.token, fixed: 'true' },
      x('tt', 'Name', p.name),
      x('tt', 'VideoSourceConfiguration', { token: 'vsc0' }, x('tt', 'Name', 'vsc0'), x('tt', 'UseCount', '2'), x('tt', 'SourceToken', 'vs0'),
      x('tt', 'Bounds', { x: '0', y: '0', width: '1920', height: '1080' })),
      x('tt', 'VideoEncoderConfiguration', { token: `vec-${p.token}` }, x('tt', 'Name', `vec-${p.token}`), x('tt', 'UseCount', '1'),
      s === 'odd' ? x('vendor', 'Encoding', 'H265') : null,
      x('tt', 'Encoding', p.encoding),
      x('tt', 'Resolution', x('tt', 'Width', String(p.width)), x('tt', 'Height', String(p.height))),
      x('tt', 'Quality', '5'),
      x('tt', 'RateControl', x('tt', 'FrameRateLimit', String(p.fps)), x('tt', 'EncodingInterval', '1'), x('tt', 'BitrateLimit', '4096')),
      x('tt', 'SessionTimeout', 'PT60S')));
  }

  private rtspUri(p: EmulatedProfile): string {
    const cred = this.b.credentialsInUri ? `${encodeURIComponent(this.username)}:${encodeURIComponent(this.password)}@` : '';
    return `rtsp://${cred}127.0.0.1:${this.rtspPort}${p.path}`;
  }
}
