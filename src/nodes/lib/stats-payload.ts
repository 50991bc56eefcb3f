/**
 * The `rtcp stats` payload: the contract's fields (ARCHITECTURE.md) from the session's
 * cumulative counters, with fps and bitrate computed over the caller's own interval
 * (camera/rate-window's rateBetween).
 */
import type { StatsReport } from '../../camera/types';
import { rateBetween, type CounterSample } from '../../camera/rate-window';
import type { CameraStats } from './camera-contract';

/** The contract's fields, exactly as the session reports them, plus the node-side drops. */
export type RtcpStatsPayload = Pick<StatsReport,
  'ssrc' | 'packetsReceived' | 'packetsExpected' | 'packetsLost' | 'fractionLost' | 'jitterMs' | 'framesEmitted' |
  'framesDropped' | 'fps' | 'bitrateKbps' | 'senderReport' | 'transport' | 'state' | 'bytesReceived' | 'width' | 'height'> & { framesDroppedDownstream: number };

/** the counters at the previous payload, `t` in ms since the epoch */
export type Sample = CounterSample;

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** The counters of `s` at `now`, the base of the next payload's rates. */
export function sampleOf(s: CameraStats, now: number): Sample {
  return { t: now, frames: s.framesEmitted, bytes: s.bytesReceived };
}

/** Builds the payload from the current cumulative stats and the previous sample. */
export function statsPayload(s: CameraStats, prev: Sample, now: number): { payload: RtcpStatsPayload; sample: Sample } {
  const sample = sampleOf(s, now);
  // no time since the previous payload: the session's own (sliding-window) rates
  const rates = rateBetween(prev, sample) ?? { fps: round(s.fps, 2), bitrateKbps: round(s.bitrateKbps, 1) };
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
      fps: rates.fps,
      bitrateKbps: rates.bitrateKbps,
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
