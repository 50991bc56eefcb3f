/**
 * The demo camera's ONVIF web services over HTTP (ONVIF Core §5.1.2: SOAP 1.2, POST): the
 * device service, the Media service with one JPEG profile (the demo camera's own RTSP stream)
 * and one H.264 profile, a snapshot URL, and the event service's pull points.
 *
 * Authentication follows ONVIF Core §5.9.1 for a device that supports both: a request without
 * credentials gets HTTP 401 with the camera's challenge (Digest or Basic, as its RTSP side), a
 * WS-Security UsernameToken (checked against the camera's clock, 5 min window) or the HTTP
 * credentials both pass, a wrong token gets 400 + ter:NotAuthorized. PRE_AUTH operations
 * (GetSystemDateAndTime, GetServices, GetCapabilities) need none.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSoap } from '../onvif/wire/soap';
import { TDS, TRT } from '../onvif/wire/namespaces';
import { child, type XmlElement } from '../onvif/wire/xml';
import { verifyUsernameToken } from '../onvif/wire/ws-security';
import { DemoAuth } from './demo-auth';
import { DemoPullPoints, type Reply } from './onvif-pullpoints';
import * as R from './onvif-replies';

/** ONVIF Core §8: device-service operations of access class PRE_AUTH */
const PRE_AUTH = new Set(['GetSystemDateAndTime', 'GetServices', 'GetCapabilities', 'GetWsdlUrl', 'GetServiceCapabilities', 'GetHostname']);
const MAX_REQUEST_BYTES = 256 * 1024;

export interface OnvifServerOptions {
  host: string;
  /** what the URLs in replies name (the camera's host, as clients reach it) */
  urlHost: string;
  auth: 'none' | 'basic' | 'digest';
  username: string;
  password: string;
  profiles: (base: string) => R.DemoProfile[];
  width: number;
  height: number;
  fps: number;
  scopes: string[];
  serial: string;
  snapshot: () => Buffer;
}

export interface OnvifServerStats {
  requests: number;
  authFailures: number;
}

export class DemoOnvifServer {
  readonly stats: OnvifServerStats = { requests: 0, authFailures: 0 };
  readonly pullPoints: DemoPullPoints;
  port = 0;
  private readonly server: Server;
  private readonly auth: DemoAuth;

  constructor(private readonly o: OnvifServerOptions) {
    this.auth = new DemoAuth(o.auth, o.username, o.password);
    this.pullPoints = new DemoPullPoints(() => this.base);
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch(() => res.destroy());
    });
    this.server.on('clientError', (_e, socket) => socket.destroy());
  }

  get base(): string {
    return `http://${this.o.urlHost}:${this.port}`;
  }

  async start(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.o.host, () => { this.server.removeListener('error', reject); resolve(); });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.pullPoints.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private reply(res: ServerResponse, r: Reply, extra: Record<string, string> = {}): void {
    if (res.destroyed) return;
    const body = r.body === '' ? '' : R.envelope(r.body);
    // header names in their usual case: simple camera clients (libonvif) look for "Content-Length: " exactly
    res.writeHead(r.status, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...extra });
    res.end(body);
  }

  private challenge(res: ServerResponse): void {
    this.stats.authFailures++;
    res.writeHead(401, { 'WWW-Authenticate': this.auth.challenge(), 'Content-Type': 'text/plain', 'Content-Length': 12 });
    res.end('unauthorized');
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/onvif/snapshot.jpg') {
      if (this.o.auth !== 'none' && !this.auth.authorized('GET', req.headers['authorization'])) { this.challenge(res); return; }
      const jpeg = this.o.snapshot();
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length, 'Cache-Control': 'no-store' });
      res.end(jpeg);
      return;
    }
    if (req.method !== 'POST') { res.writeHead(405, { allow: 'POST' }); res.end(); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_REQUEST_BYTES) { res.writeHead(413); res.end(); req.destroy(); return; }
      chunks.push(c as Buffer);
    }
    let op: XmlElement | undefined;
    let header: XmlElement | undefined;
    try {
      const msg = parseSoap(Buffer.concat(chunks).toString('utf8'), 'request', { maxChars: MAX_REQUEST_BYTES });
      op = msg.body;
      header = msg.header;
    } catch {
      this.reply(res, { status: 400, body: R.faultBody('Sender', ['ter:WellFormed'], 'Well-formed Error') });
      return;
    }
    if (!op) { this.reply(res, { status: 400, body: R.faultBody('Sender', ['ter:MissingAttr'], 'empty Body') }); return; }
    if (this.o.auth !== 'none' && !PRE_AUTH.has(op.name)) {
      const token = verifyUsernameToken(header, { username: this.o.username, password: this.o.password, deviceNowMs: Date.now() });
      const http = this.auth.authorized('POST', req.headers['authorization']);
      if (!http && token !== 'ok') {
        if (token === 'missing') { this.challenge(res); return; }
        this.stats.authFailures++;
        this.reply(res, { status: 400, body: R.faultBody('Sender', ['ter:NotAuthorized'], 'Sender not Authorized') });
        return;
      }
    }
    const r = this.answer(path, op);
    if ('wait' in r) {
      const late = await r.wait;
      this.reply(res, late);
      return;
    }
    this.reply(res, r);
  }

  private answer(path: string, op: XmlElement): Reply | { wait: Promise<Reply> } {
    const ok = (body: string): Reply => ({ status: 200, body });
    const notSupported: Reply = { status: 500, body: R.faultBody('Receiver', ['ter:ActionNotSupported'], 'Optional Action Not Implemented') };
    if (path === '/onvif/device_service' && op.ns === TDS) {
      switch (op.name) {
        case 'GetSystemDateAndTime': return ok(R.systemDateAndTime(Date.now()));
        case 'GetServices': return ok(R.services(this.base));
        case 'GetCapabilities': return ok(R.capabilities(this.base));
        case 'GetDeviceInformation': return ok(R.deviceInformation(this.o.serial));
        case 'GetScopes': return ok(R.scopes(this.o.scopes));
        case 'GetHostname': return ok(R.hostname('demo-camera'));
        default: return notSupported;
      }
    }
    if (path === '/onvif/media_service' && op.ns === TRT) {
      const list = this.o.profiles(this.base);
      const profile = (): R.DemoProfile | undefined => list.find((p) => p.token === child(op, TRT, 'ProfileToken')?.text);
      const noProfile: Reply = { status: 400, body: R.faultBody('Sender', ['ter:InvalidArgVal', 'ter:NoProfile'], 'The requested profile token does not exist') };
      switch (op.name) {
        case 'GetProfiles': return ok(R.profiles(list, this.o.width, this.o.height));
        case 'GetProfile': { const p = profile(); return p ? ok(R.profiles(list, this.o.width, this.o.height, p)) : noProfile; }
        case 'GetVideoSources': return ok(R.videoSources(this.o.width, this.o.height, this.o.fps));
        case 'GetStreamUri': { const p = profile(); return p ? ok(R.mediaUri('GetStreamUriResponse', p.streamUri)) : noProfile; }
        case 'GetSnapshotUri': { const p = profile(); return p ? ok(R.mediaUri('GetSnapshotUriResponse', p.snapshotUri)) : noProfile; }
        default: return notSupported;
      }
    }
    if (path === '/onvif/events_service' || path.startsWith('/onvif/subscription/')) return this.pullPoints.answer(path, op);
    return { status: 404, body: '' };
  }
}
