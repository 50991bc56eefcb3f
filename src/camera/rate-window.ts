/**
 * Frame rate and bitrate from counter samples, the one fps calculator: the session's stats
 * report (fps, bitrateKbps, and with them every node's status line), the live view's status
 * (http/mjpeg-viewers), and each `rtcp stats` node over its own interval. A rate is the
 * counters' growth between two samples over the time between them; counters that went down
 * started again from zero (a new session). RateWindow keeps the samples of a sliding window
 * and measures from the oldest one to the moment asked for, so a short grab still gets one.
 */

export interface CounterSample {
  /** ms, any one clock */
  t: number;
  frames: number;
  bytes: number;
}

export interface Rates {
  /** frames per second, 2 decimals */
  fps: number;
  /** kbit/s, 1 decimal */
  bitrateKbps: number;
}

/** Rates from `from` to `to`; null when no time passed between them. */
export function rateBetween(from: CounterSample, to: CounterSample): Rates | null {
  const dt = (to.t - from.t) / 1000;
  if (!(dt > 0)) return null;
  const frames = to.frames >= from.frames ? to.frames - from.frames : to.frames;
  const bytes = to.bytes >= from.bytes ? to.bytes - from.bytes : to.bytes;
  return {
    fps: Math.round((frames / dt) * 100) / 100,
    bitrateKbps: Math.round(((bytes * 8) / 1000 / dt) * 10) / 10,
  };
}

/** less history than this gives no rate (0): one frame's spacing would swing it wildly */
const MIN_HISTORY_MS = 200;

export class RateWindow {
  private readonly samples: CounterSample[] = [];

  /** `windowMs`: how far back the oldest kept sample may reach (one older sample stays as the base). */
  constructor(private readonly windowMs = 2000) {}

  add(sample: CounterSample): void {
    this.samples.push(sample);
    while (this.samples.length > 2 && sample.t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
  }

  /** the newest sample added, or null */
  get latest(): CounterSample | null {
    return this.samples[this.samples.length - 1] ?? null;
  }

  /** Rates from the oldest kept sample to `now`; 0 until 200 ms of history exist. */
  rates(now: CounterSample): Rates {
    const first = this.samples[0];
    if (!first || now.t - first.t < MIN_HISTORY_MS) return { fps: 0, bitrateKbps: 0 };
    return rateBetween(first, now) ?? { fps: 0, bitrateKbps: 0 };
  }
}
