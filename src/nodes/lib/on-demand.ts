/**
 * The `connect: on demand` rule of an `rtsp-camera`: the session runs while at least one
 * consumer wants frames, and is closed `linger` after the last one stopped wanting them (a
 * viewer who reloads the page, or a snapshot every few seconds, then reuses the running
 * session instead of paying a new RTSP handshake each time). Pure timing logic, no
 * Node-RED and no sockets: `open` and `close` are the caller's.
 */
import { numberField } from './fields';

export interface OnDemandOptions {
  lingerMs: number;
  open(): void;
  close(): void;
}

export const DEFAULT_LINGER_S = 10;
/** the shortest linger, whatever the setting: with 0, a viewer polling snapshots would cost a
 * new RTSP session (and handshake) per request; this keeps it to one per second per camera */
export const MIN_LINGER_MS = 1000;

export type ConnectMode = 'always' | 'on demand';

export function parseConnect(v: unknown): ConnectMode {
  return v === 'on demand' || v === 'ondemand' || v === 'on-demand' ? 'on demand' : 'always';
}

/** seconds from the editor field; bad or missing values give the default */
export function parseLingerS(v: unknown): number {
  return numberField(v, 0, 86400, DEFAULT_LINGER_S);
}

export class OnDemand {
  private readonly holders = new Set<string>();
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private disposed = false;

  constructor(private readonly opts: OnDemandOptions) {}

  /** whether the session is (meant to be) running */
  get active(): boolean {
    return this.running;
  }

  get consumers(): number {
    return this.holders.size;
  }

  /** `key` (a node id, or a node id plus a request) wants frames, or no longer does */
  set(key: string, wanted: boolean): void {
    if (this.disposed) return;
    if (wanted) {
      this.holders.add(key);
      this.cancelLinger();
      if (!this.running) {
        this.running = true;
        this.opts.open();
      }
      return;
    }
    if (!this.holders.delete(key) || this.holders.size > 0 || !this.running) return;
    this.cancelLinger();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.holders.size > 0 || !this.running) return;
      this.running = false;
      this.opts.close();
    }, Math.max(this.opts.lingerMs, MIN_LINGER_MS));
  }

  /** the caller closes the session itself (redeploy): forget everything, open nothing more */
  dispose(): void {
    this.disposed = true;
    this.cancelLinger();
    this.holders.clear();
    this.running = false;
  }

  private cancelLinger(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
