/**
 * The status line every node of one camera shows (config nodes have no visible status, so
 * the `rtsp-camera` node pushes this to its users, as core MQTT does). Texts stay short
 * (about 20 characters fit under a node) and never contain credentials: they are built
 * only from the state, the short error reason and numbers.
 */
import type { NodeStatus } from 'node-red';
import type { StateChange, StatsReport } from '../../camera/types';

export function statusForState(change: StateChange, stats: StatsReport | null): NodeStatus {
  switch (change.state) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: 'idle' };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: 'connecting' };
    case 'playing':
      return playingStatus(stats);
    case 'reconnecting': {
      const secs = change.retryInMs !== undefined ? Math.max(1, Math.round(change.retryInMs / 1000)) : null;
      const when = secs === null ? '' : ` in ${secs} s`;
      // a failure reason is an error the user should see in red; a plain reconnect is yellow
      if (change.reason && change.reason !== 'closed') {
        return { fill: 'red', shape: 'ring', text: `${change.reason}, retry${when}` };
      }
      return { fill: 'yellow', shape: 'ring', text: `reconnecting${when}` };
    }
    case 'closed':
      if (change.reason && change.reason !== 'closed') return { fill: 'red', shape: 'ring', text: change.reason };
      return { fill: 'grey', shape: 'ring', text: 'closed' };
    default:
      return {};
  }
}

export function playingStatus(stats: StatsReport | null): NodeStatus {
  if (!stats || stats.framesEmitted === 0) return { fill: 'green', shape: 'ring', text: 'playing' };
  const fps = stats.fps >= 10 ? stats.fps.toFixed(0) : stats.fps.toFixed(1);
  const size = stats.width > 0 && stats.height > 0 ? ` ${stats.width}×${stats.height}` : '';
  return { fill: 'green', shape: 'dot', text: `${fps} fps${size}` };
}
