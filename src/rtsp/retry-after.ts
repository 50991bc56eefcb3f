/**
 * The Retry-After header of a 503 (RFC 2326 §12.31, same syntax as HTTP, RFC 9110 §10.2.3):
 * either delay-seconds or an HTTP-date. Parsed into a delay in ms, capped so that a camera
 * asking for an hour does not silence the client for an hour; never throws.
 */

/** Longest wait a Retry-After may impose, ms. */
export const RETRY_AFTER_CAP_MS = 30000;

/**
 * Delay in ms that `value` asks for, within [0, capMs]; null when absent or unparsable.
 * `nowMs` is the wall-clock time (ms since epoch) an HTTP-date is measured from.
 */
export function retryAfterMs(value: string | undefined, nowMs: number, capMs = RETRY_AFTER_CAP_MS): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  let ms: number;
  if (/^\d{1,10}$/.test(v)) {
    ms = Number(v) * 1000;
  } else {
    // An HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT", or the obsolete RFC 850 / asctime forms,
    // which Date.parse also reads). A date in the past means: now.
    const at = Date.parse(v);
    if (!Number.isFinite(at) || !/[a-z]/i.test(v)) return null;
    ms = at - nowMs;
  }
  return Math.min(capMs, Math.max(0, Math.round(ms)));
}
