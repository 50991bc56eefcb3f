/**
 * One info line per change of a camera's connection, for the Node-RED log: connected (with
 * transport, size and frame rate, once the first frame shows the size), lost (with the
 * reason), recovered (after how long), and, before the first connection, a failure to
 * connect once per distinct reason.
 * Never one line per retry. The URL and the details it gets are already credential-free.
 */
import type { StateChange } from '../../camera/types';

export interface ConnectedInfo {
  transport: string | null;
  width: number;
  height: number;
  /** frame rate the camera announced (SDP), if any */
  fps: number | undefined;
}

export class ConnectionLog {
  private up = false;
  private awaitingFrame = false;
  private lostAt: number | null = null;
  private lastFailure: string | null = null;
  private detail = '';

  constructor(
    private readonly url: string,
    private readonly write: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** the (redacted) message of the error that ends the current attempt */
  error(message: string): void {
    this.detail = message;
  }

  state(change: StateChange): void {
    if (change.state === 'playing') {
      this.awaitingFrame = true;
      return;
    }
    const reason = change.reason;
    if ((change.state !== 'reconnecting' && change.state !== 'closed') || !reason || reason === 'closed') return;
    this.awaitingFrame = false;
    const detail = this.detail && this.detail !== reason ? ` (${this.detail})` : '';
    this.detail = '';
    if (this.up) {
      this.up = false;
      this.lostAt = this.now();
      this.lastFailure = reason;
      this.write(`lost ${this.url}: ${reason}${detail}`);
    } else if (this.lostAt === null && reason !== this.lastFailure) {
      // not yet connected: each distinct reason once (once lost, the next line is "recovered")
      this.lastFailure = reason;
      this.write(`cannot connect to ${this.url}: ${reason}${detail}`);
    }
  }

  /** call for every frame; logs only the first one of a connection */
  frame(info: () => ConnectedInfo): void {
    if (!this.awaitingFrame) return;
    this.awaitingFrame = false;
    this.up = true;
    this.lastFailure = null;
    const i = info();
    // " over tcp, 640×360 at 10 fps"
    const size = i.width > 0 && i.height > 0 ? `${i.width}×${i.height}${i.fps ? ` at ${i.fps} fps` : ''}` : i.fps ? `${i.fps} fps` : '';
    const tail = (i.transport ? ` over ${i.transport}` : '') + (size ? `${i.transport ? ',' : ''} ${size}` : '');
    if (this.lostAt !== null) {
      const secs = Math.max(0, Math.round((this.now() - this.lostAt) / 1000));
      this.lostAt = null;
      this.write(`recovered ${this.url} after ${secs} s${tail ? `,${tail}` : ''}`);
    } else {
      this.write(`connected to ${this.url}${tail}`);
    }
  }
}

/**
 * The line for an on-demand camera closed because nothing needed frames for `lingerS`
 * seconds: the counterpart of "connected to", so the log shows when the camera is free again.
 * `wasPlaying` false: it was still trying to connect when demand ended.
 */
export function idleLine(url: string, lingerS: number, wasPlaying: boolean): string {
  const why = `nothing needed frames for ${lingerS} s (connect: on demand)`;
  return wasPlaying ? `disconnected from ${url}: ${why}` : `stopped connecting to ${url}: ${why}`;
}
