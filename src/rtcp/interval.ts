/**
 * RTCP transmission interval (RFC 3550 §6.2, §6.3.1, A.7), as a pure function.
 *
 * Defaults for a receiver of one camera (what the caller should pass):
 * - session bandwidth: SDP `b=AS:<kbit/s>` of the media (RFC 4566 §5.8), else a guess;
 *   RTCP bandwidth = 5 % of it (§6.2) → {@link rtcpBandwidthFromSessionKbps}; if the SDP
 *   gives `b=RR:` (RFC 3556) that value, in bit/s, is the receivers' share directly;
 * - members = 2 (the camera and us), senders = 1, weSent = false;
 * - avgRtcpSize starts at the size of our first compound plus 28 bytes of UDP/IPv4 headers,
 *   then follows {@link updateAvgRtcpSize} for every RTCP packet sent or received;
 * - initial = true for the first report only.
 * Since senders (1) ≤ 25 % of members is false for 2 members, the 75/25 split does not apply
 * and the whole RTCP bandwidth is shared by all members; with any realistic bandwidth the
 * 5 s minimum dominates, so reports go out every 5 s · U[0.5, 1.5] / (e − 3/2) ≈ 2.05–6.16 s,
 * the first one after ≈ 1.03–3.08 s.
 */

/** §6.2: minimum deterministic interval. */
export const RTCP_MIN_TIME_MS = 5000;
/** §6.2: RTCP gets 5 % of the session bandwidth. */
export const RTCP_BANDWIDTH_FRACTION = 0.05;
/** A.7: share of the RTCP bandwidth for senders when they are ≤ 25 % of members. */
export const RTCP_SENDER_BW_FRACTION = 0.25;
export const RTCP_RCVR_BW_FRACTION = 1 - RTCP_SENDER_BW_FRACTION;
/** A.7: e − 3/2 compensates the timer reconsideration's bias toward short intervals. */
export const COMPENSATION = Math.E - 1.5;
/** UDP (8) + IPv4 (20) header bytes, counted in packet sizes (§6.2). */
export const UDP_IPV4_OVERHEAD = 28;

export interface RtcpIntervalParams {
  members: number;
  senders: number;
  rtcpBandwidthBytesPerSec: number;
  weSent: boolean;
  /** bytes, including lower-layer headers */
  avgRtcpSize: number;
  initial: boolean;
}

/**
 * Next RTCP interval in ms (A.7 rtcp_interval). `random` returns a number in [0, 1)
 * (inject a seeded one in tests). Bad inputs degrade to the minimum interval, never NaN.
 */
export function rtcpIntervalMs(p: RtcpIntervalParams, random: () => number): number {
  const minMs = p.initial ? RTCP_MIN_TIME_MS / 2 : RTCP_MIN_TIME_MS;
  let n = Math.max(1, finiteOr(p.members, 1));
  const senders = Math.max(0, finiteOr(p.senders, 0));
  let bw = finiteOr(p.rtcpBandwidthBytesPerSec, 0);
  // Dedicate a quarter of the bandwidth to senders when they are few, so their SRs (needed
  // for lip sync) are not starved by a crowd of receivers (§6.2).
  if (senders <= n * RTCP_SENDER_BW_FRACTION) {
    if (p.weSent) {
      bw *= RTCP_SENDER_BW_FRACTION;
      n = senders;
    } else {
      bw *= RTCP_RCVR_BW_FRACTION;
      n -= senders;
    }
  }
  const avg = Math.max(0, finiteOr(p.avgRtcpSize, 0));
  let tMs = bw > 0 ? ((avg * n) / bw) * 1000 : minMs;
  if (!(tMs >= minMs)) tMs = minMs;
  let u = finiteOr(random(), 0.5);
  u = Math.min(Math.max(u, 0), 1);
  // Randomize to [0.5, 1.5]·Td to avoid synchronization of members (§6.3.1), then compensate.
  return (tMs * (u + 0.5)) / COMPENSATION;
}

/** RTCP bandwidth in bytes/s for a session bandwidth in kbit/s (SDP b=AS), 5 % (§6.2). */
export function rtcpBandwidthFromSessionKbps(sessionKbps: number): number {
  return ((sessionKbps * 1000) / 8) * RTCP_BANDWIDTH_FRACTION;
}

/**
 * A.7 / §6.3.3: avg_rtcp_size = 1/16 · packet_size + 15/16 · avg_rtcp_size, with packet_size
 * the compound's RTCP bytes plus the UDP/IP overhead.
 */
export function updateAvgRtcpSize(avg: number, rtcpBytes: number, overhead = UDP_IPV4_OVERHEAD): number {
  return avg + (rtcpBytes + overhead - avg) / 16;
}

function finiteOr(v: number, d: number): number {
  return Number.isFinite(v) ? v : d;
}
