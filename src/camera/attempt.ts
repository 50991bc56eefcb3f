/**
 * The seam between CameraSession and one connection attempt. The session runs what every
 * source shares: the states, backoff and quick retries, the stall watchdog, statistics and
 * close(). An attempt is one try at the camera: it creates and holds everything that try
 * needs (connections, sockets, port pairs, tracks, its timers) and releases all of it in
 * close(). A source makes a new attempt for every try and keeps what outlives one attempt
 * (the RTSP source keeps our RTCP SSRC, and the transport 'auto' settled on).
 *
 * RTSP is rtsp-attempt.ts. Another kind of source (an HTTP multipart/x-mixed-replace stream,
 * a polled snapshot URL) implements AttemptSource and ConnectionAttempt and gets the same
 * lifecycle, events and stats without touching the session's logic.
 */
import type { CameraError } from '../errors';
import type { StatsReport, TrackInfo } from './types';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * What an attempt tells the session that drives it. Every call names the attempt: the
 * session ignores calls from an attempt that is no longer its current one.
 */
export interface AttemptHost {
  /** diagnostics; the session redacts credentials */
  log(level: LogLevel, msg: string): void;
  /** the tracks the camera offers, once known */
  tracks(a: ConnectionAttempt, list: TrackInfo[]): void;
  /** one complete JPEG (SOI … EOI); times in ms since epoch, capturedAt null when unknown */
  frame(a: ConnectionAttempt, jpeg: Buffer, width: number, height: number, rtpTimestamp: number, ssrc: number, receivedAt: number, capturedAt: number | null): void;
  /** the attempt broke after open() (connection lost, session gone, end of stream): the session closes it and retries with backoff */
  fail(a: ConnectionAttempt, err: CameraError): void;
  /**
   * The attempt must be replaced at once, without backoff (RTSP 'auto' that gets no media over
   * UDP starts over on TCP): the session closes it, waits for that (bounded), and starts the
   * next. The attempt logs why.
   */
  restart(a: ConnectionAttempt): void;
}

/** open() rejects with this when the attempt is to be replaced at once (AttemptHost.restart) rather than retried with backoff. */
export class RestartAttempt extends Error {}

/** What an attempt knows of the stream it receives, for the session's StatsReport. */
export interface AttemptStats {
  ssrc: number | null;
  packetsReceived: number;
  packetsExpected: number;
  packetsLost: number;
  fractionLost: number;
  jitterMs: number;
  /** frames this attempt dropped */
  framesDropped: number;
  senderReport: StatsReport['senderReport'];
  transport: StatsReport['transport'];
  /** what the source announced (0 when unknown); the session prefers the last frame's size */
  width: number;
  height: number;
}

export interface ConnectionAttempt {
  /**
   * Connects and starts the media; resolves once frames may flow (the session is then
   * 'playing'). Rejects with a CameraError (transient ones are retried quickly, others with
   * backoff) or a RestartAttempt. Frames may arrive before it resolves.
   */
  open(): Promise<void>;
  /** called on the session's tick (at most every 500 ms) while playing: release media held for reordering */
  flush(): void;
  /** bytes of media received by this attempt (RTP headers included), cumulative */
  readonly bytesReceived: number;
  /** frames dropped for being larger than the frame-size cap, cumulative */
  readonly oversizeFrames: number;
  /** readable after close(): the session reports the last attempt's figures until the next one starts */
  stats(): AttemptStats;
  /**
   * Releases every socket, port, track and timer at once and calls the host no more. With
   * `teardownWaitMs`, the server is told first (RTSP TEARDOWN, after a SETUP still in flight
   * is answered), each step waiting at most that long; the promise resolves when that is
   * done or given up, never rejects. A later call without a wait cuts such a wait short.
   * Idempotent.
   */
  close(teardownWaitMs?: number): Promise<void>;
}

/** Makes the attempts of one camera. */
export interface AttemptSource {
  newAttempt(id: number, host: AttemptHost): ConnectionAttempt;
}
