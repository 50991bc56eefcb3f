/**
 * The `rtsp-camera` config node's logic, without Node-RED: one camera session shared by the
 * nodes that use the camera (its users). The shape follows core MQTT's broker node: users
 * register and deregister; the session opens with the first user and is torn down (RTSP
 * TEARDOWN, via session.close()) when the last user is removed or the hub closes. A user that
 * leaves without being removed (a redeploy of just that node) is normally back at once, so
 * the last one's leaving starts a grace period first. With `connect: on demand` the session
 * runs only while some user wants frames (setDemand) and closes `linger` after the last one
 * stopped wanting them (lib/on-demand). Config nodes have no visible status, so each status
 * line is pushed to every user (lib/status); each frame is handed to every user as one
 * SharedFrame; the connection's changes, and an on-demand camera's going idle, go to the log
 * (lib/connection-log).
 *
 * The node file (../rtsp-camera.ts) turns the editor's fields into CameraOptions and wires
 * this to the node; tests drive it with a fake session and fake users.
 */
import type { NodeStatus } from 'node-red';
import type { CameraSessionEvents, CameraState, FrameInfo, StateChange, StatsReport, TrackInfo } from '../../camera/types';
import { CameraError, type CameraErrorReason } from '../../errors';
import type { CameraStats, CameraUser, SharedFrame } from './camera-contract';
import { ConnectionLog, idleLine } from './connection-log';
import { MIN_LINGER_MS, OnDemand } from './on-demand';
import { playingStatus, statusForState } from './status';

type Listener<K extends keyof CameraSessionEvents> = (...args: CameraSessionEvents[K]) => void;

/** What the hub uses of a CameraSession (tests pass a fake). */
export interface HubSession {
  readonly state: CameraState;
  readonly tracks: TrackInfo[];
  readonly latestFrame: { jpeg: Buffer; info: FrameInfo } | null;
  getStats(): StatsReport;
  close(): Promise<void>;
  on<K extends keyof CameraSessionEvents>(event: K, listener: Listener<K>): unknown;
  removeListener<K extends keyof CameraSessionEvents>(event: K, listener: Listener<K>): unknown;
}

export interface CameraHubOptions {
  /** the camera URL without credentials, for the log */
  url: string;
  /** opens the session (openCamera with the camera's options); may throw on a bad URL */
  open(): HubSession;
  /** `connect: on demand` */
  onDemand: boolean;
  /** on demand: how long the session outlives the last want */
  lingerMs: number;
  /** frames above this size are dropped: the status names the limit */
  maxFrameBytes: number;
  /** strips the camera's credentials from a text */
  redact(text: string): string;
  /** one info line for Node-RED's log (connected, lost, recovered) */
  log(line: string): void;
  /** the last user left without being removed: how long to wait for one to come back */
  graceMs?: number | undefined;
  /** a session's close() is given this long */
  closeTimeoutMs?: number | undefined;
  /** wall-clock ms (tests) */
  now?: (() => number) | undefined;
}

/** a user that leaves with removed=false (a redeploy of just that node) is normally back
 * at once; if none is back after this long, the session is torn down anyway */
export const LAST_USER_GRACE_MS = 3000;
/** close() of a session must finish well inside Node-RED's 15 s close timeout */
export const CLOSE_TIMEOUT_MS = 8000;

/** the status text of frames over the size limit, which the hub completes with the limit */
const TOO_LARGE = 'frame too large';

function emptyStats(state: StateChange['state']): StatsReport {
  return {
    ssrc: null, packetsReceived: 0, packetsExpected: 0, packetsLost: 0, fractionLost: 0, jitterMs: 0,
    framesEmitted: 0, framesDropped: 0, fps: 0, bitrateKbps: 0, senderReport: null, transport: null,
    state, bytesReceived: 0, width: 0, height: 0,
  };
}

async function closeWithin(session: HubSession, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    session.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  if (timer) clearTimeout(timer);
}

export class CameraHub {
  private readonly users = new Map<string, CameraUser>();
  private session: HubSession | null = null;
  private lastState: StateChange = { state: 'idle' };
  private lastStats: StatsReport | null = null;
  /** framesEmitted when the current connection started playing */
  private framesAtPlay = 0;
  private status: NodeStatus;
  private lastStatusAt = 0;
  private downstreamDrops = 0;
  private graceTimer: NodeJS.Timeout | null = null;
  private closing = false;
  /** the listeners this hub attached, so it removes exactly those (listener hygiene) */
  private detach: (() => void) | null = null;
  private readonly demand: OnDemand;
  /** demand keys per user, so a user that leaves takes all its wants with it */
  private readonly demandKeys = new Map<string, Set<string>>();
  /** "frame too large (limit 16 MB)": the one thing to change */
  private readonly limitText: string;
  private readonly now: () => number;

  constructor(private readonly opts: CameraHubOptions) {
    this.now = opts.now ?? Date.now;
    this.status = statusForState(this.lastState, null);
    this.limitText = `${TOO_LARGE} (limit ${Math.round((opts.maxFrameBytes / 1048576) * 100) / 100} MB)`;
    this.demand = new OnDemand({
      lingerMs: opts.lingerMs,
      open: () => {
        if (!this.session && !this.closing) this.openSession();
      },
      close: () => {
        // the linger as applied (never below the floor), and whether the camera was delivering
        if (!this.closing) this.opts.log(idleLine(this.opts.url, Math.max(opts.lingerMs, MIN_LINGER_MS) / 1000, this.lastState.state === 'playing'));
        void this.closeSession().then(() => {
          if (this.closing || this.demand.active) return;
          this.pushStatus(statusForState(this.lastState, null));
          for (const u of this.users.values()) u.cameraIdle?.();
        });
      },
    });
  }

  /** whether a session is open (for tests and diagnostics) */
  get sessionOpen(): boolean {
    return this.session !== null;
  }

  get userCount(): number {
    return this.users.size;
  }

  register(user: CameraUser): void {
    this.clearGrace();
    this.users.set(user.id, user);
    if (!this.opts.onDemand && !this.session && !this.closing) this.openSession();
    user.cameraStatus(this.status);
  }

  /** A registered user wants frames or no longer does; `key` tells apart several wants of
   * one user. Only an on-demand camera acts on it. */
  setDemand(user: CameraUser, wanted: boolean, key?: string): void {
    if (!this.opts.onDemand || this.closing) return;
    const k = `${user.id}\u0000${key ?? ''}`;
    let keys = this.demandKeys.get(user.id);
    if (wanted) {
      if (!this.users.has(user.id)) return;
      if (!keys) this.demandKeys.set(user.id, (keys = new Set()));
      keys.add(k);
    } else {
      keys?.delete(k);
      if (keys?.size === 0) this.demandKeys.delete(user.id);
    }
    this.demand.set(k, wanted);
  }

  /** `removed`: the user is deleted, not redeployed; `done` once the hub no longer needs it */
  deregister(user: CameraUser, removed: boolean, done: () => void): void {
    this.users.delete(user.id);
    user.cameraStatus({});
    if (this.opts.onDemand) {
      // the session follows demand alone: let the linger rule close it
      for (const k of this.demandKeys.get(user.id) ?? []) this.demand.set(k, false);
      this.demandKeys.delete(user.id);
      done();
      return;
    }
    if (this.users.size > 0 || !this.session || this.closing) {
      done();
      return;
    }
    if (removed) {
      this.closeSession().then(done, done);
      return;
    }
    this.clearGrace();
    this.graceTimer = setTimeout(() => {
      this.graceTimer = null;
      if (this.users.size === 0) void this.closeSession();
    }, this.opts.graceMs ?? LAST_USER_GRACE_MS);
    done();
  }

  stats(): CameraStats {
    const base = this.session ? this.session.getStats() : emptyStats(this.lastState.state);
    return { ...base, framesDropped: base.framesDropped + this.downstreamDrops, framesDroppedDownstream: this.downstreamDrops };
  }

  latestFrame(): { jpeg: Buffer; info: FrameInfo } | null {
    return this.session ? this.session.latestFrame : null;
  }

  countDownstreamDrop(): void {
    this.downstreamDrops++;
  }

  currentStatus(): NodeStatus {
    return this.status;
  }

  /** The config node closes (redeploy, shutdown): the session is torn down, nothing reopens it. */
  async close(): Promise<void> {
    this.closing = true;
    this.clearGrace();
    this.demand.dispose();
    await this.closeSession();
    this.users.clear();
  }

  private pushStatus(given: NodeStatus): void {
    const text = given.text;
    const s = typeof text === 'string' && text.startsWith(TOO_LARGE) ? { ...given, text: this.limitText + text.slice(TOO_LARGE.length) } : given;
    this.status = s;
    this.lastStatusAt = this.now();
    for (const u of this.users.values()) u.cameraStatus(s);
  }

  private openSession(): void {
    let s: HubSession;
    try {
      s = this.opts.open();
    } catch (err) {
      const reason: CameraErrorReason = err instanceof CameraError ? err.reason : 'invalid url';
      const message = this.opts.redact(err instanceof Error ? err.message : String(err));
      this.lastState = { state: 'closed', reason };
      this.pushStatus(statusForState(this.lastState, null));
      for (const u of this.users.values()) u.cameraError(reason, message);
      return;
    }
    this.session = s;
    const connLog = new ConnectionLog(this.opts.url, this.opts.log);
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
      for (const u of this.users.values()) u.cameraFrame?.(shared);
    };
    const onStats = (report: StatsReport): void => {
      this.lastStats = report;
      // at most one status update per second while playing
      if (this.lastState.state === 'playing' && this.now() - this.lastStatusAt >= 1000) this.pushStatus(playingStatus(report, this.framesAtPlay));
    };
    const onState = (change: StateChange): void => {
      this.lastState = change;
      if (change.state === 'playing') this.framesAtPlay = s.getStats().framesEmitted;
      connLog.state(change);
      this.pushStatus(statusForState(change, this.lastStats, this.framesAtPlay));
    };
    const onError = (err: CameraError): void => {
      const reason: CameraErrorReason = err instanceof CameraError ? err.reason : 'protocol error';
      const message = this.opts.redact(err instanceof Error ? err.message : String(err));
      connLog.error(message);
      this.pushStatus({ fill: 'red', shape: 'ring', text: reason });
      for (const u of this.users.values()) u.cameraError(reason, message);
    };
    s.on('frame', onFrame);
    s.on('stats', onStats);
    s.on('state', onState);
    s.on('error', onError);
    this.detach = () => {
      s.removeListener('frame', onFrame);
      s.removeListener('stats', onStats);
      s.removeListener('state', onState);
      s.removeListener('error', onError);
    };
    if (s.state && s.state !== this.lastState.state) onState({ state: s.state });
  }

  private async closeSession(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.session = null;
    const off = this.detach;
    this.detach = null;
    off?.();
    // an 'error' event with no listener throws: keep a sink until close has finished
    const sink = (): void => {};
    s.on('error', sink);
    await closeWithin(s, this.opts.closeTimeoutMs ?? CLOSE_TIMEOUT_MS);
    s.removeListener('error', sink);
    this.lastState = { state: 'idle' };
    this.lastStats = null;
  }

  private clearGrace(): void {
    if (this.graceTimer) {
      clearTimeout(this.graceTimer);
      this.graceTimer = null;
    }
  }
}
