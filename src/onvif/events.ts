/**
 * A camera's own events through the Real-time Pull-Point Notification Interface (ONVIF Core
 * §9.1): CreatePullPointSubscription, then PullMessages in a loop (each waits on the device up
 * to its Timeout and returns as soon as something happens, §9.1.2), Renew before the
 * termination time (§9.1.3; some devices, Axis among them, extend a subscription only on
 * Renew, not on PullMessages), Unsubscribe on close (§9.1.4).
 *
 * When the subscription is lost (the camera restarted and forgot it, the network went away)
 * it subscribes again, with the reconnect delays of the RTSP session (camera/backoff.ts): a
 * wrong password or a device without an event service backs off to minutes.
 */
import { EventEmitter } from 'node:events';
import { Backoff, type BackoffOptions } from '../camera/backoff';
import { CameraError, type CameraErrorReason } from '../errors';
import { measureClockOffset, serviceAddresses } from './device';
import { SoapClient, type SoapClientOptions } from './soap-client';
import { newMessageId } from './wire/discovery-messages';
import {
  EVENT_ACTIONS, addressingHeader, createPullPointSubscriptionBody, notificationState, parseCreatePullPointSubscriptionResponse,
  parsePullMessagesResponse, parseRenewResponse, pullMessagesBody, renewBody, unsubscribeBody, type ItemValue, type Notification, type Subscription,
} from './wire/event-messages';

export interface EventPayload {
  /** the first true/false Data item, else the only Data item, else null */
  state: ItemValue | null;
  source: Record<string, ItemValue>;
  data: Record<string, ItemValue>;
  /** when it happened, ms since epoch on our clock (the device's UtcTime, minus its clock offset when that is over 1.5 s) */
  time: number;
}

export interface OnvifEvent {
  topic: string;
  payload: EventPayload;
  /** Initialized, Changed, Deleted (property events), or null */
  operation: string | null;
  /** UtcTime as the device's clock had it, ISO 8601, or null */
  cameraTime: string | null;
}

export type EventsState = 'connecting' | 'subscribed' | 'reconnecting' | 'closed';

export interface EventsStateChange {
  state: EventsState;
  reason?: CameraErrorReason;
  message?: string;
  /** for 'reconnecting' */
  retryInMs?: number;
}

export interface PullPointOptions extends SoapClientOptions {
  /** requested subscription lifetime, s (default 60) */
  terminationSec?: number;
  /** PullMessages Timeout: how long the device may hold a pull open, s (default 10) */
  pullTimeoutSec?: number;
  /** MessageLimit per pull (default 32) */
  messageLimit?: number;
  backoff?: BackoffOptions;
  /** how long close() waits for the Unsubscribe answer, ms (default 3000) */
  unsubscribeTimeoutMs?: number;
}

export interface PullPointStats {
  subscriptions: number;
  renewals: number;
  pulls: number;
  events: number;
  unsubscribes: number;
}

/** Below this the measured offset is mostly the device clock's whole-second reading: leave its times alone. */
const CLOCK_CORRECTION_MIN_MS = 1500;

/** Converts a notification to the node's message fields. */
export function toEvent(n: Notification, clockOffsetMs: number, now: number): OnvifEvent {
  const correction = Math.abs(clockOffsetMs) >= CLOCK_CORRECTION_MIN_MS ? clockOffsetMs : 0;
  return {
    topic: n.topic,
    operation: n.operation,
    cameraTime: n.utcTime === null ? null : new Date(n.utcTime).toISOString(),
    payload: { state: notificationState(n), source: n.source, data: n.data, time: n.utcTime === null ? now : n.utcTime - correction },
  };
}

export class PullPointSubscription extends EventEmitter {
  readonly stats: PullPointStats = { subscriptions: 0, renewals: 0, pulls: 0, events: 0, unsubscribes: 0 };
  private readonly opts: PullPointOptions;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private client: SoapClient | null = null;
  private sub: Subscription | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  private running: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private clockOffsetMs = 0;
  /** the CreatePullPointSubscription in flight, which close() lets finish */
  private creating: Promise<void> | null = null;
  /** why the current subscription was given up while a pull was waiting */
  private lost: CameraError | null = null;
  state: EventsState = 'connecting';

  constructor(readonly deviceUrl: string, opts: PullPointOptions = {}) {
    super();
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.backoff = new Backoff(opts.backoff);
  }

  /** Starts subscribing (idempotent). */
  start(): this {
    this.running ??= this.loop();
    return this;
  }

  private setState(c: EventsStateChange): void {
    this.state = c.state;
    this.emit('state', c);
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      const client = new SoapClient({ ...this.opts, clockOffsetMs: this.clockOffsetMs });
      this.client = client;
      try {
        this.setState({ state: 'connecting' });
        this.clockOffsetMs = await measureClockOffset(client, this.deviceUrl, this.now);
        client.clockOffsetMs = this.clockOffsetMs;
        const services = await serviceAddresses(client, this.deviceUrl);
        if (!services.events) throw new CameraError('not found', 'the device lists no event service');
        // not aborted by close(): the device may have made the pull point already, and only
        // its reply tells us where to send the Unsubscribe
        const creating = client.call(services.events, 'CreatePullPointSubscription', EVENT_ACTIONS.createPullPointSubscription,
          createPullPointSubscriptionBody(this.opts.terminationSec ?? 60));
        this.creating = creating.then(() => undefined, () => undefined);
        const res = await creating.finally(() => { this.creating = null; });
        const sub = parseCreatePullPointSubscriptionResponse(res.body);
        if (!sub) throw new CameraError('protocol error', 'CreatePullPointSubscription: no subscription address in the reply');
        if (this.closed) { this.sub = sub; break; }
        this.sub = sub;
        this.stats.subscriptions++;
        this.backoff.onPlaying(this.now());
        this.setState({ state: 'subscribed' });
        this.scheduleRenew(sub.currentTime, sub.terminationTime);
        await this.pullLoop(client, sub);
      } catch (e) {
        if (this.closed) break;
        let err = e instanceof CameraError ? e : new CameraError('protocol error', e instanceof Error ? e.message : String(e));
        if (this.lost && err.reason === 'closed') err = this.lost;
        this.lost = null;
        this.sub = null;
        this.clearRenew();
        client.close();
        if (this.listenerCount('error') > 0) this.emit('error', err);
        const delay = this.backoff.next(err.reason, this.now());
        this.setState({ state: 'reconnecting', reason: err.reason, message: err.message, retryInMs: delay });
        await this.sleep(delay);
      }
    }
  }

  private async pullLoop(client: SoapClient, sub: Subscription): Promise<void> {
    const timeoutSec = this.opts.pullTimeoutSec ?? 10;
    while (!this.closed && this.sub === sub) {
      const started = this.now();
      const res = await client.call(sub.address, 'PullMessages', EVENT_ACTIONS.pullMessages, pullMessagesBody(timeoutSec, this.opts.messageLimit ?? 32),
        { header: addressingHeader(EVENT_ACTIONS.pullMessages, sub.address, sub.referenceParameters, newMessageId()), timeoutMs: timeoutSec * 1000 + 10000 });
      this.stats.pulls++;
      const r = parsePullMessagesResponse(res.body, 1000);
      if (this.closed) return;
      // a device that extends the subscription on every pull: keep renewing at half its remaining life
      if (r.terminationTime !== null && r.currentTime !== null) this.scheduleRenew(r.currentTime, r.terminationTime, true);
      const now = this.now();
      for (const n of r.messages) {
        this.stats.events++;
        this.emit('event', toEvent(n, this.clockOffsetMs, now));
      }
      // a device that answers an empty pull at once instead of holding it: do not spin
      if (r.messages.length === 0 && now - started < 200) await this.sleep(1000);
    }
  }

  private clearRenew(): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = null;
  }

  /** Renew at half the remaining lifetime (in the device's clock, so the offset cancels out). */
  private scheduleRenew(current: number | null, termination: number | null, onlyIfSooner = false): void {
    const lifeMs = current !== null && termination !== null && termination > current ? termination - current : (this.opts.terminationSec ?? 60) * 1000;
    const delay = Math.max(500, Math.floor(lifeMs / 2));
    if (onlyIfSooner && this.renewTimer) return;
    this.clearRenew();
    this.renewTimer = setTimeout(() => { this.renewTimer = null; void this.renew(); }, delay);
  }

  private async renew(): Promise<void> {
    const sub = this.sub;
    const client = this.client;
    if (!sub || !client || this.closed) return;
    try {
      const res = await client.call(sub.address, 'Renew', EVENT_ACTIONS.renew, renewBody(this.opts.terminationSec ?? 60),
        { header: addressingHeader(EVENT_ACTIONS.renew, sub.address, sub.referenceParameters, newMessageId()) });
      if (this.sub !== sub || this.closed) return;
      this.stats.renewals++;
      const r = parseRenewResponse(res.body);
      this.emit('renewed', r);
      this.scheduleRenew(r.currentTime, r.terminationTime);
    } catch (e) {
      if (this.sub !== sub || this.closed) return;
      const reason = e instanceof CameraError ? e.reason : 'protocol error';
      if (reason === 'session expired' || reason === 'not found' || reason === 'auth failed') {
        // the device forgot the subscription: abort the pull, the loop subscribes again
        this.lost = e as CameraError;
        client.close();
        return;
      }
      // a passing failure: try again soon, still before the termination time
      this.clearRenew();
      this.renewTimer = setTimeout(() => { this.renewTimer = null; void this.renew(); }, 2000);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.waitTimer = setTimeout(resolve, ms);
    });
  }

  /** Stops: aborts the pull, sends Unsubscribe (bounded), releases every socket and timer. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.clearRenew();
      if (this.waitTimer) clearTimeout(this.waitTimer);
      this.wake?.();
      if (this.creating) {
        let t: NodeJS.Timeout | undefined;
        await Promise.race([this.creating, new Promise<void>((r) => { t = setTimeout(r, this.opts.unsubscribeTimeoutMs ?? 3000); })]);
        clearTimeout(t);
      }
      this.client?.close();
      await this.running?.catch(() => undefined);
      const sub = this.sub;
      this.sub = null;
      if (sub) {
        const client = new SoapClient({ ...this.opts, clockOffsetMs: this.clockOffsetMs, timeoutMs: this.opts.unsubscribeTimeoutMs ?? 3000 });
        try {
          await client.call(sub.address, 'Unsubscribe', EVENT_ACTIONS.unsubscribe, unsubscribeBody(),
            { header: addressingHeader(EVENT_ACTIONS.unsubscribe, sub.address, sub.referenceParameters, newMessageId()) });
          this.stats.unsubscribes++;
        } catch { /* the subscription ends at its termination time anyway */ } finally {
          client.close();
        }
      }
      this.setState({ state: 'closed' });
    })();
    return this.closing;
  }
}
