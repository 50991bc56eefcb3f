/**
 * The `rtsp-camera` dialog's "Find cameras" (admin routes, behind the editor's authentication):
 *
 * - POST /rtsp-camera/onvif/discover (permission rtsp-camera.read): WS-Discovery from the
 *   Node-RED host, multicast plus unicast to the hosts the user typed (`hosts`, `timeout` in s,
 *   `multicast: false` for only those hosts); the devices found.
 * - POST /rtsp-camera/onvif/profiles (permission rtsp-camera.write, as it uses credentials):
 *   one device's information and profiles with their stream and snapshot URIs, and the JPEG
 *   profile's stream URI for the URL field. Credentials come from the dialog, or, when the
 *   dialog shows a stored password it never received, from the node's credentials.
 *
 * One discovery and two profile queries at a time; every text that leaves is redacted.
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { CameraError } from '../../errors';
import { redactText } from '../../rtsp/redact';
import { discover, parseHostPort, type DiscoveryHost } from '../../onvif/discovery';
import { queryDevice } from '../../onvif/device';
import { parseDeviceUrl } from '../../onvif/device-url';
import type { CameraCredentials } from './camera-contract';
import { numberField } from './fields';
import { dialogLogin, wantsStoredPassword } from './dialog-login';

const MAX_PARALLEL_QUERIES = 2;

type Body = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const bodyOf = (req: Request): Body => (typeof req.body === 'object' && req.body !== null ? req.body as Body : {});

/** "a, b:3702 c" → hosts; the malformed ones listed apart */
export function parseHostList(text: string): { hosts: DiscoveryHost[]; bad: string[] } {
  const hosts: DiscoveryHost[] = [];
  const bad: string[] = [];
  for (const part of text.split(/[\s,;]+/).filter((p) => p.length > 0).slice(0, 32)) {
    const hp = parseHostPort(part);
    if (hp) hosts.push(hp); else bad.push(part.slice(0, 64));
  }
  return { hosts, bad };
}

export function registerOnvifRoutes(RED: NodeAPI): void {
  let discovering = false;
  let queries = 0;

  RED.httpAdmin.post('/rtsp-camera/onvif/discover', RED.auth.needsPermission('rtsp-camera.read'), (req: Request, res: Response) => {
    const body = bodyOf(req);
    const { hosts, bad } = parseHostList(str(body.hosts));
    if (bad.length > 0) {
      res.status(400).json({ ok: false, reason: 'invalid host', message: `not a host name or address: ${bad.join(', ')}` });
      return;
    }
    if (discovering) {
      res.status(429).json({ ok: false, reason: 'busy', message: 'a search is already running' });
      return;
    }
    const timeoutMs = numberField(body.timeout, 0.5, 10, 3) * 1000;
    discovering = true;
    // `multicast: false`, or the setting rtspCameraDiscoveryInterfaces: [] (settings.js): only the
    // hosts named (Node-RED in a container, where multicast goes nowhere); a list of IPv4
    // addresses: multicast from those interfaces only
    const ifaces = (RED.settings as unknown as Record<string, unknown>)['rtspCameraDiscoveryInterfaces'];
    const interfaces = Array.isArray(ifaces) ? ifaces.filter((a): a is string => typeof a === 'string') : undefined;
    const multicast = body.multicast !== false && (interfaces === undefined || interfaces.length > 0);
    discover({ timeoutMs, hosts, multicast, ...(interfaces ? { interfaces } : {}) })
      .then((r) => {
        res.json({
          ok: true,
          devices: r.devices.map((d) => ({ endpoint: d.endpoint, name: d.name, hardware: d.hardware, location: d.location, address: d.address, deviceUrl: d.deviceUrl, xaddrs: d.xaddrs })),
          malformed: r.malformed,
          problems: r.problems,
        });
      })
      .catch((err: unknown) => res.status(500).json({ ok: false, reason: 'protocol error', message: String(err) }))
      .finally(() => { discovering = false; });
  });

  RED.httpAdmin.post('/rtsp-camera/onvif/profiles', RED.auth.needsPermission('rtsp-camera.write'), (req: Request, res: Response) => {
    const body = bodyOf(req);
    const target = parseDeviceUrl(str(body.url));
    const stored = wantsStoredPassword(body) && str(body.id) ? (RED.nodes.getCredentials(str(body.id)) as CameraCredentials | undefined) : undefined;
    const login = dialogLogin(body, target, stored);
    const redact = (t: string): string => redactText(t, login.secrets);
    if (!target) {
      res.status(400).json({ ok: false, reason: 'invalid url', message: 'expected http://host[:port]/onvif/device_service or host[:port]' });
      return;
    }
    if (queries >= MAX_PARALLEL_QUERIES) {
      res.status(429).json({ ok: false, reason: 'busy', message: 'another camera is still being asked' });
      return;
    }
    queries++;
    queryDevice(target.url, { username: login.username, password: login.password, timeoutMs: 8000 })
      .then((r) => {
        res.json(JSON.parse(redact(JSON.stringify({
          ok: true, deviceUrl: r.deviceUrl, device: r.device, profiles: r.profiles, jpegStreamUri: r.jpegStreamUri,
          jpegProfileToken: r.jpegProfileToken, reason: r.reason, clockOffsetMs: r.clockOffsetMs, media: r.media,
        }))));
      })
      .catch((err: unknown) => {
        const e = err instanceof CameraError ? err : new CameraError('protocol error', String(err));
        res.json({ ok: false, reason: e.reason, message: redact(e.message) });
      })
      .finally(() => { queries--; });
  });
}
