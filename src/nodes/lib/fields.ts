/**
 * Editor fields and settings.js values as the runtime reads them. The editor stores numbers
 * as numbers or strings and validates them, but flows are also written by hand, imported or
 * deployed through the admin API: a bad value falls back to the default instead of throwing,
 * so no hand-edited flow takes the runtime down. Every node reads its fields through these.
 */

/**
 * A number field: blank (`''`, null, undefined), a boolean, non-numeric text, or a value
 * outside [min, max] gives `fallback` (which may be `undefined`, for "not set").
 */
export function numberField<F extends number | undefined>(v: unknown, min: number, max: number, fallback: F): number | F {
  if (v === '' || v === null || v === undefined || typeof v === 'boolean') return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

/** A checkbox: `true`/`"true"` and `false`/`"false"` (older flows store strings); anything else gives `fallback`. */
export function flagField(v: unknown, fallback: boolean): boolean {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return fallback;
}

/** the highest rate a maxFps field takes (the editor's spinner limit) */
export const MAX_FPS_LIMIT = 1000;

/** A `maxFps` field: frames per second, 0 (also for blank or bad values) = every frame. */
export function maxFpsField(v: unknown): number {
  return numberField(v, 0, MAX_FPS_LIMIT, 0);
}

/** the default `maxAge` of a snapshot, seconds */
export const DEFAULT_SNAPSHOT_MAX_AGE_S = 2;

/** A snapshot's `maxAge` field (seconds, 0…3600) in ms: a snapshot is never older. */
export function snapshotMaxAgeMs(v: unknown): number {
  return numberField(v, 0, 3600, DEFAULT_SNAPSHOT_MAX_AGE_S) * 1000;
}
