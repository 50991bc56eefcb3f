/**
 * The demo camera's event service: pull points (ONVIF Core §9.1). CreatePullPointSubscription
 * makes one with its own address and termination time; PullMessages answers at once with what
 * is queued or holds the request until an event is raised or its Timeout ends (§9.1.2); Renew
 * and PullMessages extend it; Unsubscribe ends it; one past its termination time is dropped,
 * and requests to it get wsrf-rw:ResourceUnknownFault. Bounded: at most MAX_SUBSCRIPTIONS live
 * pull points and MAX_QUEUE queued notifications each.
 */
import { child, type XmlElement } from '../onvif/wire/xml';
import { TEV, WSNT } from '../onvif/wire/namespaces';
import { eventProperties, faultBody, isoSeconds, pulled, renewed, subscriptionCreated, unsubscribed, type DemoNotification } from './onvif-replies';

const MAX_SUBSCRIPTIONS = 32;
const MAX_QUEUE = 100;
const MAX_TERMINATION_MS = 3600_000;

interface PullPoint {
  id: string;
  termination: number;
  lifeMs: number;
  queue: DemoNotification[];
  waiter: ((list: DemoNotification[]) => void) | null;
  timer: NodeJS.Timeout | null;
}

export interface PullPointStats {
  subscriptions: number;
  renewals: number;
  unsubscribes: number;
  pulls: number;
}

export type Reply = { status: number; body: string };

/** xs:duration of the forms clients send (PT60S, PT1M, PT1H) → ms, or null */
export function durationMs(s: string | undefined): number | null {
  if (!s) return null;
  const m = /^PT(?:(\d{1,5})H)?(?:(\d{1,5})M)?(?:(\d{1,7}(?:\.\d+)?)S)?$/.exec(s.trim());
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return null;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

export class DemoPullPoints {
  readonly stats: PullPointStats = { subscriptions: 0, renewals: 0, unsubscribes: 0, pulls: 0 };
  private readonly points = new Map<string, PullPoint>();
  private next = 1;
  /** property state sent as Initialized to each new pull point (§9.4.2) */
  private readonly properties = new Map<string, DemoNotification>();

  constructor(private readonly base: () => string) {}

  get active(): number {
    this.sweep();
    return this.points.size;
  }

  /** Queues a notification on every live pull point and answers the waiting pulls. */
  raise(n: Omit<DemoNotification, 'at'>): void {
    const full = { ...n, at: Date.now() };
    this.properties.set(`${n.topic}\u0000${JSON.stringify(n.source)}`, { ...full, operation: 'Initialized' });
    this.sweep();
    for (const p of this.points.values()) {
      if (p.queue.length >= MAX_QUEUE) p.queue.shift();
      p.queue.push(full);
      this.flush(p);
    }
  }

  close(): void {
    for (const p of this.points.values()) this.release(p);
    this.points.clear();
  }

  private flush(p: PullPoint): void {
    if (!p.waiter) return;
    const w = p.waiter;
    p.waiter = null;
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    w(p.queue.splice(0, p.queue.length));
  }

  private release(p: PullPoint): void {
    if (p.timer) clearTimeout(p.timer);
    const w = p.waiter;
    p.waiter = null;
    p.timer = null;
    w?.([]);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.points) if (now > p.termination && !p.waiter) this.points.delete(id);
  }

  private unknown(): Reply {
    return { status: 400, body: faultBody('Sender', [], 'The subscription does not exist', `<wsrf-rw:ResourceUnknownFault><wsrf-rw:Timestamp>${isoSeconds(Date.now())}</wsrf-rw:Timestamp></wsrf-rw:ResourceUnknownFault>`) };
  }

  /** Answers an event-service or subscription request; a pull may answer later (`wait`). */
  answer(path: string, op: XmlElement): Reply | { wait: Promise<Reply> } {
    this.sweep();
    const now = Date.now();
    if (path === '/onvif/events_service') {
      if (op.ns === TEV && op.name === 'GetEventProperties') return { status: 200, body: eventProperties() };
      if (op.ns !== TEV || op.name !== 'CreatePullPointSubscription') return { status: 500, body: faultBody('Receiver', ['ter:ActionNotSupported'], 'Optional Action Not Implemented') };
      if (this.points.size >= MAX_SUBSCRIPTIONS) return { status: 500, body: faultBody('Receiver', ['ter:Action', 'ter:TooManySubscriptions'], 'too many subscriptions') };
      const lifeMs = Math.min(durationMs(child(op, TEV, 'InitialTerminationTime')?.text) ?? 60000, MAX_TERMINATION_MS);
      const id = String(this.next++);
      const p: PullPoint = { id, termination: now + lifeMs, lifeMs, queue: [...this.properties.values()].slice(-MAX_QUEUE), waiter: null, timer: null };
      this.points.set(id, p);
      this.stats.subscriptions++;
      return { status: 200, body: subscriptionCreated(`${this.base()}/onvif/subscription/${id}`, now, p.termination) };
    }
    const p = this.points.get(path.slice('/onvif/subscription/'.length));
    if (!p) return this.unknown();
    if (op.ns === TEV && op.name === 'PullMessages') {
      this.stats.pulls++;
      p.termination = Math.max(p.termination, now + p.lifeMs);
      const timeout = Math.min(durationMs(child(op, TEV, 'Timeout')?.text) ?? 10000, 60000);
      const reply = (list: DemoNotification[]): Reply => ({ status: 200, body: pulled(Date.now(), p.termination, list) });
      if (p.queue.length > 0) return reply(p.queue.splice(0, p.queue.length));
      if (p.waiter) return { status: 400, body: faultBody('Receiver', ['ter:Action', 'tev:UnableToGetMessagesFault'], 'a pull is already waiting') };
      return {
        wait: new Promise<Reply>((resolve) => {
          p.waiter = (list) => resolve(reply(list));
          p.timer = setTimeout(() => { p.timer = null; p.waiter = null; resolve(reply([])); }, timeout);
        }),
      };
    }
    if (op.ns === WSNT && op.name === 'Renew') {
      p.lifeMs = Math.min(durationMs(child(op, WSNT, 'TerminationTime')?.text) ?? 60000, MAX_TERMINATION_MS);
      p.termination = now + p.lifeMs;
      this.stats.renewals++;
      return { status: 200, body: renewed(now, p.termination) };
    }
    if (op.ns === WSNT && op.name === 'Unsubscribe') {
      this.release(p);
      this.points.delete(p.id);
      this.stats.unsubscribes++;
      return { status: 200, body: unsubscribed() };
    }
    return { status: 500, body: faultBody('Receiver', ['ter:ActionNotSupported'], 'Optional Action Not Implemented') };
  }
}
