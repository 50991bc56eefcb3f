/**
 * The editor's "Test connection" button (POST /rtsp-camera/test): open a session, wait for
 * the track list and one complete frame, close it, and summarise. Failures come back as the
 * short reason plus the (already redacted) message; the route redacts once more before the
 * text leaves. At most MAX_PARALLEL_TESTS run at once.
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { openCamera } from '../../camera/open';
import type { CameraSession } from '../../camera/session';
import type { CameraOptions, FrameInfo, StatsReport, TrackInfo } from '../../camera/types';
import { CameraError } from '../../errors';
import { redactText } from '../../rtsp/redact';
import type { CameraCredentials } from './camera-contract';
import { cameraOptionsFromFields, parseTransport, type CameraFields } from './camera-options';
import { splitUrlCredentials } from './url-credentials';
import { numberField } from './fields';
import { dialogLogin, wantsStoredPassword } from './dialog-login';
import { parseRtspUrl } from '../../rtsp/url';

const MAX_PARALLEL_TESTS = 2;
const DEFAULT_TEST_TIMEOUT_MS = 10000;

export interface ConnectionTestOk {
  ok: true;
  tracks: TrackInfo[];
  codec: string | null;
  width: number;
  height: number;
  fps: number | null;
  transport: StatsReport['transport'];
  /** base64 JPEG of the first frame */
  snapshot: string;
}

export interface ConnectionTestFailed {
  ok: false;
  reason: string;
  message: string;
}

export type ConnectionTestResult = ConnectionTestOk | ConnectionTestFailed;

export async function testConnection(url: string, options: CameraOptions, timeoutMs: number): Promise<ConnectionTestResult> {
  let session: CameraSession;
  try {
    session = openCamera(url, { ...options, autoStart: true });
  } catch (err) {
    return failure(err);
  }
  let tracks: TrackInfo[] = [];
  let timer: NodeJS.Timeout | undefined;
  let onFrame: ((jpeg: Buffer, info: FrameInfo) => void) | undefined;
  let onError: ((err: CameraError) => void) | undefined;
  const onTracks = (t: TrackInfo[]): void => {
    tracks = t;
  };
  // an 'error' event without any listener would throw: keep one for the session's whole life
  const ignore = (): void => {};
  session.on('error', ignore);
  session.on('tracks', onTracks);
  try {
    const frame = await new Promise<{ jpeg: Buffer; info: FrameInfo }>((resolve, reject) => {
      timer = setTimeout(() => reject(new CameraError('timeout', `no frame within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      onFrame = (jpeg, info) => resolve({ jpeg, info });
      // the first failure answers the test: the session would otherwise back off and retry
      onError = reject;
      session.on('frame', onFrame);
      session.on('error', onError);
    });
    if (tracks.length === 0) tracks = session.tracks ?? [];
    const video = tracks.find((t) => t.kind === 'video');
    const stats = session.getStats();
    return {
      ok: true,
      tracks,
      codec: video ? video.encoding : null,
      width: frame.info.width,
      height: frame.info.height,
      fps: video?.fps ?? (stats.fps > 0 ? stats.fps : null),
      transport: stats.transport,
      snapshot: frame.jpeg.toString('base64'),
    };
  } catch (err) {
    return failure(err);
  } finally {
    if (timer) clearTimeout(timer);
    session.removeListener('tracks', onTracks);
    if (onFrame) session.removeListener('frame', onFrame);
    if (onError) session.removeListener('error', onError);
    await session.close().catch(() => undefined);
    session.removeListener('error', ignore);
  }
}

/**
 * The saved (deployed) URL of the `rtsp-camera` node `id`, or null when there is no such
 * camera. Other node types have passwords too (an MQTT broker's): those are never a camera's.
 */
function savedCameraUrl(RED: NodeAPI, id: string): string | null {
  let url: string | null = null;
  RED.nodes.eachNode((n) => {
    const cfg = n as unknown as { id?: string; type?: string; url?: unknown };
    if (cfg.id === id && cfg.type === 'rtsp-camera' && typeof cfg.url === 'string') url = cfg.url;
  });
  return url;
}

/** same scheme, host and port: where a stored password may be sent */
function sameEndpoint(a: string, b: string): boolean {
  const x = parseRtspUrl(a);
  const y = parseRtspUrl(b);
  return !!x && !!y && x.secure === y.secure && x.host.toLowerCase() === y.host.toLowerCase() && x.port === y.port;
}

function failure(err: unknown): ConnectionTestFailed {
  if (err instanceof CameraError) return { ok: false, reason: err.reason, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, reason: 'protocol error', message };
}

/**
 * Registers POST /rtsp-camera/test (needs the rtsp-camera.write permission). `portRange`: the
 * settings' UDP port range; `testTimeoutMs`: the settings' test timeout in ms (blank or bad: 10 s).
 */
export function registerConnectionTestRoute(RED: NodeAPI, portRange: () => string, testTimeoutMs: () => unknown): void {
  let runningTests = 0;
  RED.httpAdmin.post('/rtsp-camera/test', RED.auth.needsPermission('rtsp-camera.write'), (req: Request, res: Response) => {
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const split = splitUrlCredentials(str(body.url));
    let stored: CameraCredentials | undefined;
    if (wantsStoredPassword(body)) {
      // the editor never receives a stored password; it sends this placeholder instead. The
      // stored one goes only to the camera it was saved for: a URL edited to point elsewhere
      // (or an id of another node) must not make this route send it anywhere
      const id = str(body.id);
      const saved = id ? savedCameraUrl(RED, id) : null;
      if (saved === null || !sameEndpoint(splitUrlCredentials(saved).url, split.url)) {
        res.status(400).json({
          ok: false, reason: 'password not sent',
          message: saved === null
            ? 'there is no saved rtsp-camera with this id: type the password to test the connection'
            : 'the saved password belongs to the saved camera address; type it again to test another host or port',
        });
        return;
      }
      stored = RED.nodes.getCredentials(id) as CameraCredentials | undefined;
    }
    const login = dialogLogin(body, split, stored);
    const redact = (t: string): string => redactText(t, login.secrets);
    if (!/^(?:rtsps?|https?):\/\/[^/\s]+/i.test(split.url)) {
      res.status(400).json({ ok: false, reason: 'invalid url', message: 'the URL must look like rtsp://host[:port]/path or http://host[:port]/path' });
      return;
    }
    if (runningTests >= MAX_PARALLEL_TESTS) {
      res.status(429).json({ ok: false, reason: 'busy', message: 'another connection test is still running' });
      return;
    }
    runningTests++;
    const fields: CameraFields = { ...(body as CameraFields), transport: parseTransport(body.transport) };
    const options: CameraOptions = {
      ...cameraOptionsFromFields(fields, portRange()),
      username: login.username,
      password: login.password,
    };
    testConnection(split.url, options, numberField(testTimeoutMs(), 1, Number.MAX_SAFE_INTEGER, DEFAULT_TEST_TIMEOUT_MS))
      .then((result) => {
        if (result.ok) res.json(result);
        else res.json({ ok: false, reason: result.reason, message: redact(result.message) });
      })
      .catch((err: unknown) => {
        res.status(500).json({ ok: false, reason: 'protocol error', message: redact(String(err)) });
      })
      .finally(() => {
        runningTests--;
      });
  });
}
