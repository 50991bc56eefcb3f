/**
 * Shared helpers for the reliability suite: a recorder that watches one CameraSession (every
 * frame decoded by an independent decoder, every state change and error kept with its time),
 * bounded waits, and resource counting for leak checks.
 */
import { performance } from 'node:perf_hooks';
import { decodeJpeg } from '../support/djpeg';
import type { CameraSession } from '../../src/camera/session';
import type { StateChange } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms; rejects with `what` after timeoutMs. */
export async function until(cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(10);
  }
}

export interface TimedState extends StateChange { at: number }
export interface TimedFrame { at: number; size: number; ssrc: number; rtpTimestamp: number; index: number; width: number; height: number }

/**
 * Records everything a session emits. Frames are decoded as they arrive (djpeg, or jpeg-js
 * when djpeg is missing); `badFrames` lists every frame that failed with the decoder's words.
 */
export class Recorder {
  readonly frames: TimedFrame[] = [];
  readonly states: TimedState[] = [];
  readonly errors: { at: number; err: CameraError }[] = [];
  readonly badFrames: string[] = [];
  /** decode every frame (default) or only every n-th, for long runs */
  decodeEvery = 1;

  constructor(readonly session: CameraSession) {
    session.on('frame', (jpeg, info) => {
      const at = performance.now();
      this.frames.push({ at, size: jpeg.length, ssrc: info.ssrc, rtpTimestamp: info.rtpTimestamp, index: info.index, width: info.width, height: info.height });
      if (this.frames.length % this.decodeEvery === 0) {
        const d = decodeJpeg(jpeg);
        if (!d.ok) this.badFrames.push(`frame ${info.index} (${jpeg.length} B): ${d.error ?? 'undecodable'}`);
        else if (d.width !== info.width || d.height !== info.height) this.badFrames.push(`frame ${info.index}: decoded ${d.width}x${d.height}, info says ${info.width}x${info.height}`);
      }
    });
    session.on('state', (s) => this.states.push({ ...s, at: performance.now() }));
    session.on('error', (err) => this.errors.push({ at: performance.now(), err }));
  }

  framesAfter(t: number): TimedFrame[] {
    return this.frames.filter((f) => f.at > t);
  }

  statesAfter(t: number): TimedState[] {
    return this.states.filter((s) => s.at > t);
  }

  /** resolves with the time of the n-th frame after `t` */
  async framesSince(t: number, n: number, timeoutMs = 8000, what = `${n} frames`): Promise<number> {
    await until(() => this.framesAfter(t).length >= n, what, timeoutMs);
    return this.framesAfter(t)[n - 1]!.at;
  }

  async playing(timeoutMs = 8000): Promise<void> {
    await until(() => this.session.state === 'playing' && this.frames.length > 0, 'playing with a frame', timeoutMs);
  }

  stateTrail(since = 0): string {
    return this.statesAfter(since).map((s) => `${s.state}${s.reason ? `(${s.reason})` : ''}${s.retryInMs !== undefined ? `+${s.retryInMs}ms` : ''}`).join(' → ');
  }
}

/** process.getActiveResourcesInfo() as counts per kind. */
export function resourceCounts(): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) c[r] = (c[r] ?? 0) + 1;
  return c;
}

/** Kinds whose count is above the baseline ("TCPSocketWrap 3→5"); FSReqCallback is noise. */
export function resourcesAbove(baseline: Record<string, number>): string[] {
  const now = resourceCounts();
  return Object.keys(now)
    .filter((k) => k !== 'FSReqCallback' && (now[k] ?? 0) > (baseline[k] ?? 0))
    .map((k) => `${k} ${baseline[k] ?? 0}→${now[k]}`);
}

export const MB = 1024 * 1024;

/** Forces a full GC when the process was started with --expose-gc or can enable it. */
export function forceGc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) { g(); return; }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const v8 = require('node:v8') as typeof import('node:v8');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vm = require('node:vm') as typeof import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const fn = vm.runInNewContext('gc') as () => void;
  (globalThis as { gc?: () => void }).gc = fn;
  fn();
}

/** Heap used after a full GC, in bytes. */
export function heapAfterGc(): number {
  forceGc();
  forceGc();
  return process.memoryUsage().heapUsed;
}
