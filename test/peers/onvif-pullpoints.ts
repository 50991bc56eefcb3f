/**
 * The event service of the device emulations: ONVIF Core §9.1 pull points.
 * CreatePullPointSubscription makes one with its own termination time; PullMessages answers at
 * once with queued notifications or holds the request until one is raised or its Timeout ends
 * (§9.1.2); Renew extends it (§9.1.3); Unsubscribe ends it (§9.1.4); a pull point past its
 * termination time is gone, and requests to it get a wsrf-rw:ResourceUnknownFault.
 *
 * Two ways of addressing a subscription, both seen in devices: a URL per subscription
 * ('path', as Hikvision's …/Events/PullSubManager_… addresses) or one URL plus a
 * SubscriptionId reference parameter the client must echo as a SOAP header
 * ('reference-parameter', as Axis firmware does). `extendOnPull: false` is Axis's behaviour
 * of extending a subscription only on Renew.
 */
import { envelope, fault, qname, x, type El, type Style } from './onvif-xml-writer';

export interface PullPointBehaviour {
  addressing: 'path' | 'reference-parameter';
  extendOnPull: boolean;
  /** the longest termination the device grants, s */
  maxTerminationSec: number;
}

interface Queued { topic: string; source: Record<string, string>; data: Record<string, string>; operation: string; at: number }

interface Sub {
  id: string;
  termination: number;
  lifeMs: number;
  queue: Queued[];
  waiter: ((q: Queued[]) => void) | null;
  waitTimer: NodeJS.Timeout | null;
}

export interface PullPointCounters {
  created: number;
  renewed: number;
  unsubscribed: number;
  pulls: number;
  expired: number;
  unknown: number;
  /** device-clock time each notification was handed to a pull (tests measure delivery from it) */
  delivered: number[];
}

type Json = Record<string, unknown>;
const at = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), o);
const str = (v: unknown): string => (typeof v === 'string' ? v : v && typeof v === 'object' && '#text' in (v as Json) ? String((v as Json)['#text']) : '');

/** xs:duration "PT60S", "PT1M", "PT1M30S" → ms (what clients send); null otherwise */
function duration(s: string): number | null {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(s.trim());
  if (!m) return null;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class PullPoints {
  readonly counters: PullPointCounters = { created: 0, renewed: 0, unsubscribed: 0, pulls: 0, expired: 0, unknown: 0, delivered: [] };
  private readonly subs = new Map<string, Sub>();
  private next = 1;

  constructor(private readonly b: PullPointBehaviour, private readonly style: Style, private readonly now: () => number, private readonly base: () => string) {}

  get active(): number {
    this.sweep();
    return this.subs.size;
  }

  /** Queues a notification for every live subscription and answers waiting pulls. */
  raise(topic: string, source: Record<string, string>, data: Record<string, string>, operation = 'Changed'): void {
    this.sweep();
    for (const s of this.subs.values()) {
      s.queue.push({ topic, source, data, operation, at: this.now() });
      if (s.waiter) {
        const w = s.waiter;
        s.waiter = null;
        if (s.waitTimer) clearTimeout(s.waitTimer);
        w(s.queue.splice(0, s.queue.length));
      }
    }
  }

  /** A reboot: every subscription is forgotten. */
  restart(): void {
    for (const s of this.subs.values()) this.release(s);
    this.subs.clear();
  }

  close(): void { this.restart(); }

  private release(s: Sub): void {
    if (s.waitTimer) clearTimeout(s.waitTimer);
    const w = s.waiter;
    s.waiter = null;
    w?.([]);
  }

  private sweep(): void {
    for (const [id, s] of this.subs) {
      if (this.now() > s.termination && !s.waiter) { this.subs.delete(id); this.counters.expired++; }
    }
  }

  private topic(t: string): string {
    // "tns1:RuleEngine/…" written with the prefix this style binds to the ONVIF topic namespace
    return t.startsWith('tns1:') ? qname(this.style, 'tns1', t.slice(5)) : t;
  }

  private message(q: Queued): El {
    const items = (o: Record<string, string>): El[] => Object.entries(o).map(([k, v]) => x('tt', 'SimpleItem', { Name: k, Value: v }));
    return x('wsnt', 'NotificationMessage',
      x('wsnt', 'Topic', { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet' }, this.topic(q.topic)),
      x('wsnt', 'Message', x('tt', 'Message', { UtcTime: new Date(q.at).toISOString(), PropertyOperation: q.operation },
        x('tt', 'Source', ...items(q.source)), x('tt', 'Data', ...items(q.data)))));
  }

  private reference(id: string): El {
    if (this.b.addressing === 'path') return x('tev', 'SubscriptionReference', x('wsa', 'Address', `${this.base()}/onvif/subscription/${id}`));
    return x('tev', 'SubscriptionReference', x('wsa', 'Address', `${this.base()}/onvif/services`),
      x('wsa', 'ReferenceParameters', x('vendor', 'SubscriptionId', id)));
  }

  private unknown(): { status: number; body: string } {
    this.counters.unknown++;
    return { status: 400, body: fault(this.style, 'Sender', [], 'The subscription does not exist', [x('wsrf', 'ResourceUnknownFault', x('wsrf', 'Timestamp', iso(this.now())))]) };
  }

  answer(url: string, op: string, opBody: unknown, env: unknown): { status: number; body: string; wait?: Promise<{ status: number; body: string }> } {
    this.sweep();
    const ok = (el: El): { status: number; body: string } => ({ status: 200, body: envelope(this.style, [el]) });
    if (url.startsWith('/onvif/events_service') && op === 'CreatePullPointSubscription') {
      const asked = duration(str(at(opBody, 'InitialTerminationTime'))) ?? 60000;
      const lifeMs = Math.min(asked, this.b.maxTerminationSec * 1000);
      const id = String(this.next++);
      const now = this.now();
      this.subs.set(id, { id, termination: now + lifeMs, lifeMs, queue: [], waiter: null, waitTimer: null });
      this.counters.created++;
      return ok(x('tev', 'CreatePullPointSubscriptionResponse', this.reference(id),
        x('wsnt', 'CurrentTime', iso(now)), x('wsnt', 'TerminationTime', iso(now + lifeMs))));
    }
    if (url.startsWith('/onvif/events_service') && op === 'GetEventProperties') {
      return ok(x('tev', 'GetEventPropertiesResponse', x('tev', 'TopicNamespaceLocation', 'http://www.onvif.org/onvif/ver10/topics/topicns.xml'),
        x('wsnt', 'FixedTopicSet', 'true')));
    }
    const id = this.b.addressing === 'path' ? url.slice('/onvif/subscription/'.length) : str(at(env, 'Envelope', 'Header', 'SubscriptionId'));
    const sub = this.subs.get(id);
    if (!sub) return this.unknown();
    const now = this.now();
    switch (op) {
      case 'PullMessages': {
        this.counters.pulls++;
        const timeout = Math.min(duration(str(at(opBody, 'Timeout'))) ?? 10000, 60000);
        if (this.b.extendOnPull) sub.termination = Math.max(sub.termination, now + sub.lifeMs);
        const respond = (q: Queued[]): { status: number; body: string } => {
          const t = this.now();
          for (let i = 0; i < q.length; i++) this.counters.delivered.push(t);
          return ok(x('tev', 'PullMessagesResponse', x('tev', 'CurrentTime', iso(t)), x('tev', 'TerminationTime', iso(sub.termination)), ...q.map((m) => this.message(m))));
        };
        if (sub.queue.length > 0) return respond(sub.queue.splice(0, sub.queue.length));
        if (sub.waiter) return { status: 400, body: fault(this.style, 'Receiver', ['UnableToGetMessagesFault'], 'a pull is already waiting') };
        const wait = new Promise<{ status: number; body: string }>((resolve) => {
          sub.waiter = (q) => resolve(respond(q));
          sub.waitTimer = setTimeout(() => { sub.waiter = null; sub.waitTimer = null; resolve(respond([])); }, timeout);
        });
        return { status: 200, body: '', wait };
      }
      case 'Renew': {
        const asked = duration(str(at(opBody, 'TerminationTime'))) ?? 60000;
        sub.lifeMs = Math.min(asked, this.b.maxTerminationSec * 1000);
        sub.termination = now + sub.lifeMs;
        this.counters.renewed++;
        return ok(x('wsnt', 'RenewResponse', x('wsnt', 'TerminationTime', iso(sub.termination)), x('wsnt', 'CurrentTime', iso(now))));
      }
      case 'Unsubscribe':
        this.release(sub);
        this.subs.delete(id);
        this.counters.unsubscribed++;
        return ok(x('wsnt', 'UnsubscribeResponse'));
      default:
        return { status: 500, body: fault(this.style, 'Receiver', ['ActionNotSupported'], 'not supported here') };
    }
  }
}
