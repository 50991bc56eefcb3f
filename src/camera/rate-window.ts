/**
 * Frame rate and bitrate over a sliding window of counter samples: the fps and bitrateKbps
 * of the stats report. The session samples its cumulative frame and byte counters on each
 * tick; a rate is (newest − oldest sample) / elapsed time, the window ending at the moment
 * the rate is asked for, so a short grab still gets one.
 */

export interface CounterSample {
  /** monotonic ms */
  t: number;
  frames: number;
  bytes: number;
}

export class RateWindow {
  private readonly samples: CounterSample[] = [];

  /** `windowMs`: how far back the oldest kept sample may reach (one older sample stays as the base). */
  constructor(private readonly windowMs = 2000) {}

  add(sample: CounterSample): void {
    this.samples.push(sample);
    while (this.samples.length > 2 && sample.t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
  }

  /** Rates from the oldest kept sample to `now`; 0 until 200 ms of history exist. */
  rates(now: CounterSample): { fps: number; bitrateKbps: number } {
    const first = this.samples[0];
    if (!first || now.t - first.t < 200) return { fps: 0, bitrateKbps: 0 };
    const dt = (now.t - first.t) / 1000;
    return {
      fps: Math.round(((now.frames - first.frames) / dt) * 100) / 100,
      bitrateKbps: Math.round((((now.bytes - first.bytes) * 8) / 1000 / dt) * 10) / 10,
    };
  }
}
