/**
 * The `rtcp stats` payload: the contract's fields (ARCHITECTURE.md) from the session's
 * cumulative counters, with fps and bitrate computed over the caller's own interval.
 */
import type { StatsReport } from '../../camera/types';
import type { CameraStats } from './camera-contract';

/** The contract's fields, exactly as the session reports them, plus the node-side drops. */
export type RtcpStatsPayload = Pick<StatsReport,
  'ssrc' | 'packetsReceived' | 'packetsExpected' | 'packetsLost' | 'fractionLost' | 'jitterMs' | 'framesEmitted' |
  'framesDropped' | 'fps' | 'bitrateKbps' | 'senderReport' | 'transport' | 'state' | 'bytesReceived' | 'width' | 'height'> & { framesDroppedDownstream: number };

export interface Sample {
  at: number;
  frames: number;
  bytes: number;
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Builds the payload from the current cumulative stats and the previous sample. */
export function statsPayload(s: CameraStats, prev: Sample, now: number): { payload: RtcpStatsPayload; sample: Sample } {
  const sample: Sample = { at: now, frames: s.framesEmitted, bytes: s.bytesReceived };
  const dt = (now - prev.at) / 1000;
  // counters restart with a new session: a negative delta means "since the restart"
  const dFrames = s.framesEmitted >= prev.frames ? s.framesEmitted - prev.frames : s.framesEmitted;
  const dBytes = s.bytesReceived >= prev.bytes ? s.bytesReceived - prev.bytes : s.bytesReceived;
  const fps = dt > 0 ? dFrames / dt : s.fps;
  const kbps = dt > 0 ? (dBytes * 8) / dt / 1000 : s.bitrateKbps;
  return {
    sample,
    payload: {
      ssrc: s.ssrc,
      packetsReceived: s.packetsReceived,
      packetsExpected: s.packetsExpected,
      packetsLost: s.packetsLost,
      fractionLost: s.fractionLost,
      jitterMs: s.jitterMs === null ? null : round(s.jitterMs, 3),
      framesEmitted: s.framesEmitted,
      framesDropped: s.framesDropped,
      fps: round(fps, 2),
      bitrateKbps: round(kbps, 1),
      senderReport: s.senderReport ? { ...s.senderReport } : null,
      transport: s.transport,
      state: s.state,
      bytesReceived: s.bytesReceived,
      width: s.width,
      height: s.height,
      framesDroppedDownstream: s.framesDroppedDownstream,
    },
  };
}
