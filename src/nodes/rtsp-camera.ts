/**
 * `rtsp-camera` config node: one camera, one CameraSession shared by every node that uses
 * it. The shape follows core MQTT's broker node: users register and deregister; the session
 * opens with the first user and is torn down (RTSP TEARDOWN, via session.close()) when the
 * last user is removed or the config node itself closes. Config nodes have no visible
 * status, so state changes are pushed to every user node. With `connect: on demand` the
 * session runs only while some user wants frames (setDemand) and is torn down `linger`
 * seconds after the last one stopped wanting them. Registers the editor's "Test connection"
 * route (lib/connection-test.ts).
 */
import type { NodeAPI, NodeStatus } from 'node-red';
import { openCamera } from '../camera/open';
import type { CameraSession } from '../camera/session';
import type { CameraOptions, FrameInfo, StateChange, StatsReport } from '../camera/types';
import { CameraError, type CameraErrorReason } from '../errors';
import { cameraOptionsFromFields, DEFAULT_UDP_PORT_RANGE_TEXT, onvifUrlFromField } from './lib/camera-options';
import type { CameraCredentials, CameraDef, CameraStats, CameraUser, RtspCameraNode, SharedFrame } from './lib/camera-contract';
import { registerConnectionTestRoute } from './lib/connection-test';
import { registerOnvifRoutes } from './lib/onvif-routes';
import { playingStatus, statusForState } from './lib/status';
import { splitUrlCredentials } from './lib/url-credentials';
import { installDeployGuard } from './lib/deploy-guard';
import { redactText } from '../rtsp/redact';
import { MIN_LINGER_MS, OnDemand, parseConnect, parseLingerS } from './lib/on-demand';
import { ConnectionLog, idleLine } from './lib/connection-log';
import { DEFAULT_MAX_FRAME_BYTES } from '../camera/defaults';

interface CameraSettings {
  rtspCameraUdpPortRange: string;
  rtspCameraTestTimeout: number;
}

/** a user that leaves with removed=false (a redeploy of just that node) is normally back
 * at once; if none is back after this long, the session is torn down anyway */
const LAST_USER_GRACE_MS = 3000;
/** close() of a session must finish well inside Node-RED's 15 s close timeout */
const CLOSE_TIMEOUT_MS = 8000;

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
  const portRangeSetting = (): string => settingString(settings.rtspCameraUdpPortRange, DEFAULT_UDP_PORT_RANGE_TEXT);

  function RtspCamera(this: RtspCameraNode, def: CameraDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const split = splitUrlCredentials(def.url ?? '');
    const creds: CameraCredentials = { ...(node.credentials ?? {}) };
    if (split.username !== undefined || split.password !== undefined) {
      // a URL with user:pass@ that no deploy cleaned (flows.json written by hand, or a guard
      // that could not be placed): use it clean, never log it, and say how to fix it
      if (!creds.username && split.username !== undefined) creds.username = split.username;
      if (!creds.password && split.password !== undefined) creds.password = split.password;
      node.warn('the camera URL holds a user name or password, which flows.json keeps in clear: open this camera node in the editor and deploy, which moves them to the encrypted credential fields');
    }
    const cleanUrl = split.url;
    const redact = (text: string): string => redactText(text, [creds.password, split.password]);
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
    Object.defineProperty(node, 'onvif', { value: onvifUrlFromField(def.onvif), enumerable: true });

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

    const onDemand = parseConnect(def.connect) === 'on demand';
    Object.defineProperty(node, 'onDemand', { value: onDemand, enumerable: true });

    // frames over the size limit: the status names the limit, the one thing to change
    const tooLarge = 'frame too large';
    const limitText = `${tooLarge} (limit ${Math.round(((options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) / 1048576) * 100) / 100} MB)`;
    const pushStatus = (given: NodeStatus): void => {
      const s = typeof given.text === 'string' && given.text.startsWith(tooLarge) ? { ...given, text: limitText + given.text.slice(tooLarge.length) } : given;
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

    const lingerS = parseLingerS(def.linger);
    const demand = new OnDemand({
      lingerMs: lingerS * 1000,
      open: () => {
        if (!session && !closing) openSession();
      },
      close: () => {
        if (!closing) node.log(idleLine(cleanUrl, Math.max(lingerS, MIN_LINGER_MS / 1000), lastState.state === 'playing'));
        void closeSession().then(() => {
          if (closing || demand.active) return;
          pushStatus(statusForState(lastState, null));
          for (const u of users.values()) u.cameraIdle?.();
        });
      },
    });
    /** demand keys per user, so a user that leaves takes all its wants with it */
    const demandKeys = new Map<string, Set<string>>();

    node.register = (user: CameraUser): void => {
      clearGrace();
      users.set(user.id, user);
      if (!onDemand && !session && !closing) openSession();
      user.cameraStatus(status);
    };

    node.setDemand = (user: CameraUser, wanted: boolean, key?: string): void => {
      if (!onDemand || closing) return;
      const k = `${user.id}\u0000${key ?? ''}`;
      let keys = demandKeys.get(user.id);
      if (wanted) {
        if (!users.has(user.id)) return;
        if (!keys) demandKeys.set(user.id, (keys = new Set()));
        keys.add(k);
      } else {
        keys?.delete(k);
        if (keys?.size === 0) demandKeys.delete(user.id);
      }
      demand.set(k, wanted);
    };

    node.deregister = (user: CameraUser, removed: boolean, done: () => void): void => {
      users.delete(user.id);
      user.cameraStatus({});
      if (onDemand) {
        // the session follows demand alone: let the linger rule close it
        for (const k of demandKeys.get(user.id) ?? []) demand.set(k, false);
        demandKeys.delete(user.id);
        done();
        return;
      }
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

    // (removed, done): Node-RED passes `done` only to handlers that declare two parameters
    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      clearGrace();
      demand.dispose();
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
      rtspCameraUdpPortRange: { value: DEFAULT_UDP_PORT_RANGE_TEXT, exportable: true },
      rtspCameraTestTimeout: { value: 10000, exportable: false },
    },
  });

  registerConnectionTestRoute(RED, portRangeSetting, () => Number(settings.rtspCameraTestTimeout));
  registerOnvifRoutes(RED);
  // deploys through the admin API (scripts, imports) hand a URL's credentials to the credential
  // store instead of writing them into flows.json
  const guarded = installDeployGuard(RED.httpAdmin, 'rtsp-camera', (id) => RED.nodes.getCredentials(id) as CameraCredentials | undefined,
    (n) => RED.log.info(`rtsp-camera: moved the credentials of ${n} camera URL${n === 1 ? '' : 's'} in a deploy to the credential store`));
  if (!guarded) RED.log.debug('rtsp-camera: credentials in deployed camera URLs cannot be moved to the credential store here');
};
