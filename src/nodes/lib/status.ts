/**
 * The status line every node of one camera shows (config nodes have no visible status, so
 * the `rtsp-camera` node pushes this to its users, as core MQTT does). Texts stay short
 * and never contain credentials: they are built only from the state, the short error
 * reason, a fixed piece of advice and numbers. A failure that retrying will not cure says
 * what the user has to change.
 */
import type { NodeStatus } from 'node-red';
import type { StateChange, StatsReport } from '../../camera/types';
import { REASON_ADVICE } from '../../errors';

export const WAITING_FOR_FRAMES = 'connected, waiting for frames';

/** "in 5 s", "in 2 min" */
export function retryIn(ms: number): string {
  const secs = Math.max(1, Math.round(ms / 1000));
  return secs < 90 ? `in ${secs} s` : `in ${Math.round(secs / 60)} min`;
}

/**
 * What the status adds to a reason. Beyond the lasting failures (errors.ts), a refused
 * connection is retried at the usual pace but is as much the user's to fix: the host is there
 * and nothing listens on that port.
 */
const STATUS_ADVICE: Readonly<Record<string, string>> = {
  ...REASON_ADVICE,
  'connection refused': "check the port and that the camera's RTSP service is on",
};

function reasonText(reason: string): string {
  const advice = STATUS_ADVICE[reason];
  return advice ? `${reason}: ${advice}` : reason;
}

/**
 * `framesAtPlay`: framesEmitted when this connection started playing, so that a reconnected
 * camera shows "waiting for frames" until a frame of the new connection arrives.
 */
export function statusForState(change: StateChange, stats: StatsReport | null, framesAtPlay = 0): NodeStatus {
  switch (change.state) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: 'idle' };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: 'connecting' };
    case 'playing':
      return playingStatus(stats, framesAtPlay);
    case 'reconnecting': {
      const when = change.retryInMs !== undefined ? ` ${retryIn(change.retryInMs)}` : '';
      // a failure reason is an error the user should see in red; a plain reconnect is yellow
      if (change.reason && change.reason !== 'closed') {
        return { fill: 'red', shape: 'ring', text: `${reasonText(change.reason)}, retry${when}` };
      }
      return { fill: 'yellow', shape: 'ring', text: `reconnecting${when}` };
    }
    case 'closed':
      if (change.reason && change.reason !== 'closed') return { fill: 'red', shape: 'ring', text: reasonText(change.reason) };
      return { fill: 'grey', shape: 'ring', text: 'closed' };
    default:
      return {};
  }
}

const sizeText = (stats: StatsReport): string => (stats.width > 0 && stats.height > 0 ? ` ${stats.width}×${stats.height}` : '');

/** "12.5 fps 640×360": always one decimal, so the text does not change width at 10 fps. */
export function playingStatus(stats: StatsReport | null, framesAtPlay = 0): NodeStatus {
  if (!stats || stats.framesEmitted <= framesAtPlay || stats.fps <= 0) return { fill: 'green', shape: 'ring', text: WAITING_FOR_FRAMES };
  return { fill: 'green', shape: 'dot', text: `${stats.fps.toFixed(1)} fps${sizeText(stats)}` };
}

/**
 * The status of a node that passes frames on, once its camera plays (the green dot of
 * `playingStatus`): the rate IT sends, not the camera's. A node thinned to `maxFps` sends
 * that rate when the camera is faster; an on-request node sends nothing by itself. Every
 * other status (connecting, waiting, failures) is the camera's and passes through.
 */
export function senderStatus(camera: NodeStatus, stats: StatsReport | null, o: { maxFps: number; onRequest: boolean }): NodeStatus {
  if (camera.fill !== 'green' || camera.shape !== 'dot' || !stats) return camera;
  if (o.onRequest) return { fill: 'green', shape: 'dot', text: `on request${sizeText(stats)}` };
  if (o.maxFps > 0 && o.maxFps < stats.fps) return { fill: 'green', shape: 'dot', text: `${o.maxFps.toFixed(1)} fps${sizeText(stats)}` };
  return camera;
}
