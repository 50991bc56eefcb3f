/**
 * `rtsp-camera` config node: one camera, one CameraSession shared by every node that uses
 * it. The shape follows core MQTT's broker node: users register and deregister; the session
 * opens with the first user and is torn down (RTSP TEARDOWN, via session.close()) when the
 * last user is removed or the config node itself closes. Config nodes have no visible
 * status, so state changes are pushed to every user node. Also serves the editor's
 * "Test connection" button (POST /rtsp-camera/test).
 */
import type { NodeAPI, NodeStatus } from 'node-red';
import type { Request, Response } from 'express';
import { openCamera } from '../camera/open';
import type { CameraSession } from '../camera/session';
import type { CameraOptions, FrameInfo, StateChange, StatsReport } from '../camera/types';
import { CameraError, type CameraErrorReason } from '../errors';
import { cameraOptionsFromFields, DEFAULT_UDP_PORT_RANGE, parseTransport, type CameraFields } from './camera-options';
import type { CameraCredentials, CameraDef, CameraStats, CameraUser, RtspCameraNode, SharedFrame } from './camera-contract';
import { testConnection } from './connection-test';
import { playingStatus, statusForState } from './status';
import { ConnectionLog } from './connection-log';
import { redactSecrets, splitUrlCredentials } from './url-credentials';

interface CameraSettings {
  rtspCameraUdpPortRange: string;
  rtspCameraTestTimeout: number;
}

/** a user that leaves with removed=false (a redeploy of just that node) is normally back
 * at once; if none is back after this long, the session is torn down anyway */
const LAST_USER_GRACE_MS = 3000;
/** close() of a session must finish well inside Node-RED's 15 s close timeout */
const CLOSE_TIMEOUT_MS = 8000;
const MAX_PARALLEL_TESTS = 2;
const PASSWORD_PLACEHOLDER = '__PWRD__';

function emptyStats(state: StateChange['state']): StatsReport {
  return {
    ssrc: null, packetsReceived: 0, packetsExpected: 0, packetsLost: 0, fractionLost: 0, jitterMs: 0,
    framesEmitted: 0, framesDropped: 0, fps: 0, bitrateKbps: 0, senderReport: null, transport: null,
    state, bytesReceived: 0, width: 0, height: 0,
  };
}

async function closeWithin(session: CameraSession, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    session.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  if (timer) clearTimeout(timer);
}

function settingString(v: unknown, fallback: string): string {
  return typeof v === 'string' && v.trim() !== '' ? v : fallback;
}

export = function (RED: NodeAPI): void {
  const settings = RED.settings as unknown as Partial<CameraSettings>;
  const portRangeSetting = (): string => settingString(settings.rtspCameraUdpPortRange, DEFAULT_UDP_PORT_RANGE);

  function RtspCamera(this: RtspCameraNode, def: CameraDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const split = splitUrlCredentials(def.url ?? '');
    const creds: CameraCredentials = { ...(node.credentials ?? {}) };
    if (split.username !== undefined || split.password !== undefined) {
      // a URL with user:pass@ got past the editor: use it clean, never log it
      if (!creds.username && split.username !== undefined) creds.username = split.username;
      if (!creds.password && split.password !== undefined) creds.password = split.password;
      node.warn('credentials in the camera URL were ignored in the URL; set them in the credential fields');
    }
    const cleanUrl = split.url;
    const redact = (text: string): string => redactSecrets(text, [creds.password, split.password]);
    const options: CameraOptions = {
      ...cameraOptionsFromFields(def, portRangeSetting()),
      username: creds.username || undefined,
      password: creds.password || undefined,
      logger: (level, message) => {
        if (level === 'error' || level === 'warn') node.debug(redact(message));
        else node.trace(redact(message));
      },
    };

    Object.defineProperty(node, 'topic', { value: def.name || cleanUrl, enumerable: true });
    Object.defineProperty(node, 'cleanUrl', { value: cleanUrl, enumerable: true });

    const users = new Map<string, CameraUser>();
    let session: CameraSession | null = null;
    let lastState: StateChange = { state: 'idle' };
    let lastStats: StatsReport | null = null;
    /** framesEmitted when the current connection started playing */
    let framesAtPlay = 0;
    let status: NodeStatus = statusForState(lastState, null);
    let lastStatusAt = 0;
    let downstreamDrops = 0;
    let graceTimer: NodeJS.Timeout | null = null;
    let closing = false;
    /** the listeners this node attached, so it removes exactly those (listener hygiene) */
    let detach: (() => void) | null = null;

    const pushStatus = (s: NodeStatus): void => {
      status = s;
      lastStatusAt = Date.now();
      for (const u of users.values()) u.cameraStatus(s);
    };

    const openSession = (): void => {
      let s: CameraSession;
      try {
        s = openCamera(cleanUrl, options);
      } catch (err) {
        const reason: CameraErrorReason = err instanceof CameraError ? err.reason : 'invalid url';
        const message = redact(err instanceof Error ? err.message : String(err));
        lastState = { state: 'closed', reason };
        pushStatus(statusForState(lastState, null));
        for (const u of users.values()) u.cameraError(reason, message);
        return;
      }
      session = s;
      const connLog = new ConnectionLog(cleanUrl, (line) => node.log(line));
      const onFrame = (jpeg: Buffer, info: FrameInfo): void => {
        connLog.frame(() => ({ transport: s.getStats().transport, width: info.width, height: info.height, fps: s.tracks.find((t) => t.kind === 'video')?.fps }));
        let taken = false;
        const shared: SharedFrame = {
          info,
          take: () => {
            if (!taken) {
              taken = true;
              return jpeg;
            }
            return Buffer.from(jpeg);
          },
        };
        for (const u of users.values()) u.cameraFrame?.(shared);
      };
      const onStats = (report: StatsReport): void => {
        lastStats = report;
        // at most one status update per second while playing
        if (lastState.state === 'playing' && Date.now() - lastStatusAt >= 1000) pushStatus(playingStatus(report, framesAtPlay));
      };
      const onState = (change: StateChange): void => {
        lastState = change;
        if (change.state === 'playing') framesAtPlay = s.getStats().framesEmitted;
        connLog.state(change);
        pushStatus(statusForState(change, lastStats, framesAtPlay));
      };
      const onError = (err: CameraError): void => {
        const reason: CameraErrorReason = err instanceof CameraError ? err.reason : 'protocol error';
        const message = redact(err instanceof Error ? err.message : String(err));
        connLog.error(message);
        pushStatus({ fill: 'red', shape: 'ring', text: reason });
        for (const u of users.values()) u.cameraError(reason, message);
      };
      s.on('frame', onFrame);
      s.on('stats', onStats);
      s.on('state', onState);
      s.on('error', onError);
      detach = () => {
        s.removeListener('frame', onFrame);
        s.removeListener('stats', onStats);
        s.removeListener('state', onState);
        s.removeListener('error', onError);
      };
      if (s.state && s.state !== lastState.state) onState({ state: s.state });
    };

    const closeSession = async (): Promise<void> => {
      const s = session;
      if (!s) return;
      session = null;
      const off = detach;
      detach = null;
      off?.();
      // an 'error' event with no listener throws: keep a sink until close has finished
      const sink = (): void => {};
      s.on('error', sink);
      await closeWithin(s, CLOSE_TIMEOUT_MS);
      s.removeListener('error', sink);
      lastState = { state: 'idle' };
      lastStats = null;
    };

    const clearGrace = (): void => {
      if (graceTimer) {
        clearTimeout(graceTimer);
        graceTimer = null;
      }
    };

    node.register = (user: CameraUser): void => {
      clearGrace();
      users.set(user.id, user);
      if (!session && !closing) openSession();
      user.cameraStatus(status);
    };

    node.deregister = (user: CameraUser, removed: boolean, done: () => void): void => {
      users.delete(user.id);
      user.cameraStatus({});
      if (users.size > 0 || !session || closing) {
        done();
        return;
      }
      if (removed) {
        closeSession().then(done, done);
        return;
      }
      clearGrace();
      graceTimer = setTimeout(() => {
        graceTimer = null;
        if (users.size === 0) void closeSession();
      }, LAST_USER_GRACE_MS);
      done();
    };

    node.stats = (): CameraStats => {
      const base = session ? session.getStats() : emptyStats(lastState.state);
      return { ...base, framesDropped: base.framesDropped + downstreamDrops, framesDroppedDownstream: downstreamDrops };
    };
    node.latestFrame = () => (session ? session.latestFrame : null);
    node.countDownstreamDrop = (): void => {
      downstreamDrops++;
    };
    node.currentStatus = () => status;

    // (removed, done): two declared parameters, so Node-RED passes `done` (notes §2.4)
    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      clearGrace();
      closeSession().then(
        () => {
          users.clear();
          done();
        },
        () => done(),
      );
    });
  }

  RED.nodes.registerType<RtspCameraNode, CameraDef, CameraSettings, CameraCredentials>('rtsp-camera', RtspCamera, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
    settings: {
      rtspCameraUdpPortRange: { value: DEFAULT_UDP_PORT_RANGE, exportable: true },
      rtspCameraTestTimeout: { value: 10000, exportable: false },
    },
  });

  let runningTests = 0;
  RED.httpAdmin.post('/rtsp-camera/test', RED.auth.needsPermission('rtsp-camera.write'), (req: Request, res: Response) => {
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const split = splitUrlCredentials(str(body.url));
    let username = str(body.username) || split.username || '';
    let password = str(body.password);
    if (password === PASSWORD_PLACEHOLDER) {
      // the editor never receives a stored password; it sends this placeholder instead
      const stored = str(body.id) ? (RED.nodes.getCredentials(str(body.id)) as CameraCredentials | undefined) : undefined;
      password = stored?.password ?? '';
      if (!username) username = stored?.username ?? '';
    }
    if (!password && split.password) password = split.password;
    const redact = (t: string): string => redactSecrets(t, [password, split.password]);
    if (!/^rtsps?:\/\/[^/\s]+/i.test(split.url)) {
      res.status(400).json({ ok: false, reason: 'invalid url', message: 'the URL must look like rtsp://host[:port]/path' });
      return;
    }
    if (runningTests >= MAX_PARALLEL_TESTS) {
      res.status(429).json({ ok: false, reason: 'busy', message: 'another connection test is still running' });
      return;
    }
    runningTests++;
    const fields: CameraFields = { ...(body as CameraFields), transport: parseTransport(body.transport) };
    const options: CameraOptions = {
      ...cameraOptionsFromFields(fields, portRangeSetting()),
      username: username || undefined,
      password: password || undefined,
    };
    const timeout = Number(settings.rtspCameraTestTimeout);
    testConnection(split.url, options, Number.isFinite(timeout) && timeout > 0 ? timeout : 10000)
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
};
