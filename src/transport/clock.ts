/**
 * Monotonic milliseconds for arrival times, timeouts and rates. `process.hrtime` is part of
 * Node's bootstrap, whereas `performance` loads the perf_hooks modules (≈1.5 ms and heap at
 * start-up, in every process that requires the library). The receive path reads it once per socket read, not once per packet.
 */
export function monotonicMs(): number {
  const t = process.hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}
