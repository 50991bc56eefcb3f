/**
 * The demo camera as an ONVIF device, so finding a camera works without hardware: the device
 * and Media services (one JPEG profile, the demo camera's own RTSP stream, and one H.264 profile
 * as a real camera's main stream would be), a snapshot URL, WS-Discovery answers (multicast on
 * the camera's interface and unicast), and motion events for the `onvif events` node: the
 * standard CellMotionDetector topic (IsMotion true, then false 4 s later) every
 * `motionEverySec` seconds, plus whatever `raise` is given.
 */
import { randomUUID } from 'node:crypto';
import { DN, TDS } from '../onvif/wire/namespaces';
import { multicastInterfaces } from '../onvif/discovery';
import { hostForUrl } from './demo-sdp';
import { JpegEncoder } from '../jpeg/encoder';
import { TestPattern } from './test-pattern';
import { DemoOnvifServer } from './onvif-server';
import { DemoDiscoveryResponder } from './onvif-discovery';
import type { DemoCamera, DemoCameraOptions, DemoOnvif, DemoOnvifOptions, DemoOnvifStats } from './types';

export type { DemoOnvif, DemoOnvifOptions, DemoOnvifStats };

export const MOTION_TOPIC = 'tns1:RuleEngine/CellMotionDetector/Motion';
const MOTION_SOURCE = { VideoSourceConfigurationToken: 'vsc0', VideoAnalyticsConfigurationToken: 'vac0', Rule: 'MyMotionDetectorRule' };

export async function startDemoOnvif(cam: DemoCamera, camOpts: DemoCameraOptions, o: DemoOnvifOptions = {}): Promise<DemoOnvif> {
  const host = camOpts.host ?? '127.0.0.1';
  const urlHost = hostForUrl(host === '0.0.0.0' ? '127.0.0.1' : host);
  const width = camOpts.width ?? 640;
  const height = camOpts.height ?? 480;
  const fps = camOpts.fps ?? 15;
  const started = Date.now();
  let snap: { enc: JpegEncoder; pattern: TestPattern; planes: ReturnType<JpegEncoder['allocPlanes']> } | null = null;
  const snapshot = (): Buffer => {
    if (!snap) {
      const enc = new JpegEncoder({ width, height, subsampling: '420', quality: 85 });
      const planes = enc.allocPlanes();
      snap = { enc, planes, pattern: new TestPattern(width, height, planes) };
    }
    const now = Date.now();
    snap.pattern.render(snap.planes, Math.floor(((now - started) * fps) / 1000), now);
    return snap.enc.encode(snap.planes);
  };
  const rtspBase = new URL(cam.url);
  const endpoint = `urn:uuid:${randomUUID()}`;
  const name = o.name ?? 'demo camera';
  const scopeList = ['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/Profile/Streaming', 'onvif://www.onvif.org/Profile/S',
    `onvif://www.onvif.org/name/${encodeURIComponent(name)}`, 'onvif://www.onvif.org/hardware/rtsp-mjpeg-demo', 'onvif://www.onvif.org/location/this%20computer'];
  const server = new DemoOnvifServer({
    host, urlHost, auth: camOpts.auth ?? 'none', username: camOpts.username ?? 'admin', password: camOpts.password ?? '',
    width, height, fps, serial: `DEMO-${cam.port}`, scopes: scopeList, snapshot,
    profiles: (base) => [
      { token: 'demo_jpeg', name: 'Motion-JPEG', encoding: 'JPEG', width, height, fps, streamUri: cam.url, snapshotUri: `${base}/onvif/snapshot.jpg` },
      { token: 'demo_h264', name: 'H.264 main stream', encoding: 'H264', width: 1920, height: 1080, fps: 25,
        streamUri: `rtsp://${rtspBase.host}/h264`, snapshotUri: `${base}/onvif/snapshot.jpg` },
    ],
  });
  try {
    await server.start(o.port ?? 0);
  } catch (e) {
    if (!o.anyPortIfTaken || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    await server.start(0);
  }
  const deviceUrl = `${server.base}/onvif/device_service`;
  let responder: DemoDiscoveryResponder | null = null;
  const discoveryPort = o.discoveryPort === undefined ? 0 : o.discoveryPort;
  if (discoveryPort !== null) {
    const ifaces = host === '0.0.0.0' ? multicastInterfaces() : [host];
    responder = new DemoDiscoveryResponder(() => ({
      endpoint, scopes: scopeList, xaddrs: [deviceUrl],
      types: [['dn', DN, 'NetworkVideoTransmitter'], ['tds', TDS, 'Device']],
    }), ifaces);
    try {
      await responder.start(discoveryPort);
    } catch {
      // the port is taken (another ONVIF service on this host): the device service still works
      responder = null;
    }
  }
  const timers = new Set<NodeJS.Timeout>();
  const setMotion = (on: boolean): void => server.pullPoints.raise({ topic: MOTION_TOPIC, source: MOTION_SOURCE, data: { IsMotion: String(on) }, operation: 'Changed' });
  let interval: NodeJS.Timeout | null = null;
  const every = o.motionEverySec ?? 20;
  if (every > 0) {
    interval = setInterval(() => {
      setMotion(true);
      const t = setTimeout(() => { timers.delete(t); setMotion(false); }, Math.min(4000, every * 500));
      timers.add(t);
    }, every * 1000);
  }
  return {
    deviceUrl,
    port: server.port,
    discoveryPort: responder?.port ?? null,
    endpoint,
    get stats(): DemoOnvifStats {
      const p = server.pullPoints.stats;
      return {
        requests: server.stats.requests, authFailures: server.stats.authFailures, subscriptions: p.subscriptions, renewals: p.renewals,
        unsubscribes: p.unsubscribes, pulls: p.pulls, activeSubscriptions: server.pullPoints.active, probes: responder?.probes ?? 0, probeMatches: responder?.answered ?? 0,
      };
    },
    raise: (topic, source, data) => server.pullPoints.raise({ topic, source, data, operation: 'Changed' }),
    setMotion,
    async close() {
      if (interval) clearInterval(interval);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await responder?.close();
      await server.close();
    },
  };
}

/** Adds the ONVIF side to a started demo camera: `cam.onvif`, and close() closes it too. */
export async function withOnvif(cam: DemoCamera, camOpts: DemoCameraOptions): Promise<DemoCamera> {
  let onvif: DemoOnvif;
  try {
    onvif = await startDemoOnvif(cam, camOpts, typeof camOpts.onvif === 'object' ? camOpts.onvif : {});
  } catch (e) {
    await cam.close();
    throw e;
  }
  const closeCamera = cam.close.bind(cam);
  Object.defineProperty(cam, 'onvif', { value: onvif, enumerable: true });
  Object.defineProperty(cam, 'close', { value: async () => { await onvif.close(); await closeCamera(); }, configurable: true });
  return cam;
}

/**
 * `rtsp-mjpeg demo-camera` defaults: ONVIF on port 8580 (another one if that is taken) and
 * WS-Discovery on the standard UDP 3702; with `--port 0` (tests) both ephemeral.
 */
export function cliOnvifDefaults(rtspPort: number): DemoOnvifOptions {
  return rtspPort === 0 ? { port: 0, discoveryPort: 0 } : { port: 8580, discoveryPort: 3702, anyPortIfTaken: true };
}

/** The line the CLI prints about the ONVIF side. */
export function describeOnvif(o: DemoOnvif): string {
  const disc = o.discoveryPort === null ? 'no WS-Discovery answers (UDP port taken)' : `WS-Discovery on UDP ${o.discoveryPort}`;
  return `demo camera ONVIF: ${o.deviceUrl} (${disc})`;
}
