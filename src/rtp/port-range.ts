/**
 * The rule for a client's UDP port range for RTP and RTCP, checked in one place for the
 * editor's field, settings.js and the allocator that binds the ports. RFC 3550 §11: RTP goes
 * to an even port and RTCP to the next (odd) one, so a range starts on an even port and holds
 * at least one such pair. Ports below 1024 are system ports (RFC 6335 §6) that a process
 * needs privileges to bind: a range there would fail on every port, so it is refused.
 */

/** inclusive [first, last] */
export type PortRange = [number, number];

/** the range CameraOptions.udpPortRange defaults to */
export const DEFAULT_UDP_PORT_RANGE: PortRange = [50000, 51999];
/** the lowest port a range may start at */
export const MIN_UDP_PORT = 1024;

/** What is wrong with `range` (a short text), or null when it follows the rule. */
export function portRangeProblem(range: readonly number[]): string | null {
  const [lo, hi] = range;
  if (range.length !== 2 || !Number.isInteger(lo) || !Number.isInteger(hi)) return 'not two whole port numbers';
  const first = lo as number;
  const last = hi as number;
  if (first < MIN_UDP_PORT) return `the first port must be ${MIN_UDP_PORT} or more`;
  if (last > 65535) return 'the last port must be 65535 or less';
  if (first % 2 !== 0) return 'the first port must be even (RTP on even ports, RTCP on the next)';
  if (last < first + 1) return 'the range must hold at least one even/odd pair';
  return null;
}

/** "50000-51999" → [50000, 51999]; null when malformed or against the rule. */
export function parsePortRange(text: string | undefined): PortRange | null {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text ?? '');
  if (!m) return null;
  const range: PortRange = [Number(m[1]), Number(m[2])];
  return portRangeProblem(range) === null ? range : null;
}

/** [50000, 51999] → "50000-51999", the form the editor and settings.js write */
export function formatPortRange(range: readonly [number, number]): string {
  return `${range[0]}-${range[1]}`;
}
