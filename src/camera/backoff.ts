/**
 * Reconnect delays for one camera. Exponential with jitter so that a fleet of cameras that
 * dropped together does not reconnect in lock-step; reset once a connection has been healthy
 * long enough. Failures that a retry will not cure back off to minutes: a wrong password
 * (every attempt can count towards an account lockout on the camera), a path that is still
 * not found the second time, and a camera without a Motion-JPEG stream or a URL that serves
 * no JPEG (that takes someone changing the camera's settings, so from the first failure on).
 */
export interface BackoffOptions {
  /** first delay, default 1000 ms */
  minMs?: number | undefined;
  /** cap, default 30000 ms */
  maxMs?: number | undefined;
  /** playing this long resets the schedule, default 60000 ms */
  healthyResetMs?: number | undefined;
  /** first delay after repeated auth failures, default 15000 ms, doubling */
  authMinMs?: number | undefined;
  /** cap for auth failures, default 600000 ms (10 min) */
  authMaxMs?: number | undefined;
  /** relative jitter, delay is base × [1 − jitter, 1 + jitter], default 0.2 */
  jitter?: number | undefined;
  random?: (() => number) | undefined;
}

/** From which consecutive failure of the reason on the long schedule applies. */
const LASTING_FROM: Partial<Record<string, number>> = { 'not found': 2, 'unsupported codec': 1, 'not a JPEG source': 1 };
/** Its first delay, doubling up to the auth cap (10 min by default). Thirty seconds for a
 * camera without Motion-JPEG keeps it to three connections in any two minutes. */
const LASTING_MIN_MS: Partial<Record<string, number>> = { 'not found': 15000, 'unsupported codec': 30000, 'not a JPEG source': 30000 };

export class Backoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly healthyResetMs: number;
  private readonly authMinMs: number;
  private readonly authMaxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  /** consecutive failed attempts since the last reset */
  attempts = 0;
  /** consecutive attempts that ended in 'auth failed' */
  authFailures = 0;
  /** consecutive attempts that ended with the same lasting reason ('not found', 'unsupported codec') */
  lastingFailures = 0;
  private lastingReason: string | null = null;
  private playingSince: number | null = null;

  constructor(opts: BackoffOptions = {}) {
    this.minMs = Math.max(1, opts.minMs ?? 1000);
    this.maxMs = Math.max(this.minMs, opts.maxMs ?? 30000);
    this.healthyResetMs = opts.healthyResetMs ?? 60000;
    this.authMinMs = opts.authMinMs ?? 15000;
    this.authMaxMs = Math.max(this.authMinMs, opts.authMaxMs ?? 600000);
    this.jitter = Math.min(0.9, Math.max(0, opts.jitter ?? 0.2));
    this.random = opts.random ?? Math.random;
  }

  /** The session reached 'playing' at nowMs. */
  onPlaying(nowMs: number): void {
    this.playingSince = nowMs;
    this.authFailures = 0; // the credentials worked
    this.lastingFailures = 0;
    this.lastingReason = null;
  }

  reset(): void {
    this.attempts = 0;
    this.authFailures = 0;
    this.lastingFailures = 0;
    this.lastingReason = null;
    this.playingSince = null;
  }

  /** Delay before the next attempt after a failure with the given reason. */
  next(reason: string | undefined, nowMs: number): number {
    if (this.playingSince !== null && nowMs - this.playingSince >= this.healthyResetMs) this.attempts = 0;
    this.playingSince = null;
    const exp = Math.min(this.attempts, 30);
    this.attempts++;
    let base = Math.min(this.maxMs, this.minMs * 2 ** exp);
    if (reason === 'auth failed') {
      this.authFailures++;
      // the first failure already had its one in-request retry; from the second on, minutes
      if (this.authFailures > 1) {
        base = Math.max(base, Math.min(this.authMaxMs, this.authMinMs * 2 ** Math.min(this.authFailures - 2, 30)));
      }
    } else {
      this.authFailures = 0;
    }
    const lasting = reason !== undefined && LASTING_FROM[reason] !== undefined;
    if (lasting) {
      this.lastingFailures = reason === this.lastingReason ? this.lastingFailures + 1 : 1;
      this.lastingReason = reason;
      const from = LASTING_FROM[reason]!;
      if (this.lastingFailures >= from) {
        const n = Math.min(this.lastingFailures - from, 30);
        base = Math.max(base, Math.min(this.authMaxMs, LASTING_MIN_MS[reason]! * 2 ** n));
      }
    } else {
      this.lastingFailures = 0;
      this.lastingReason = null;
    }
    const cap = reason === 'auth failed' || lasting ? this.authMaxMs : this.maxMs;
    const factor = 1 - this.jitter + 2 * this.jitter * this.random();
    return Math.max(this.minMs * (1 - this.jitter), Math.min(cap, Math.round(base * factor)));
  }
}
