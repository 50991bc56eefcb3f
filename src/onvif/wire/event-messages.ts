/**
 * The event service's Real-time Pull-Point Notification Interface (ONVIF Core §9.1):
 * CreatePullPointSubscription (§9.1.1), PullMessages (§9.1.2), Renew (§9.1.3, WS-BaseNotification
 * 1.3 §6.1.1), Unsubscribe (§9.1.4, WS-BaseNotification §6.1.2), and the notification message
 * format (§9.4.1: Topic, UtcTime, Source/Key/Data items).
 *
 * Requests to the subscription manager carry WS-Addressing 1.0 headers: Action, To (the
 * subscription's address) and every reference parameter of its endpoint reference, marked
 * wsa:IsReferenceParameter (WS-Addressing 1.0 SOAP Binding §2.3); some devices (Axis) tell
 * subscriptions apart by such a parameter alone.
 */
import { TEV, TNS1, TT, WSA_2005, WSNT } from './namespaces';
import { child, children, escapeXml, resolveQName, type XmlElement } from './xml';

export const EVENT_ACTIONS = {
  createPullPointSubscription: `${TEV}/EventPortType/CreatePullPointSubscriptionRequest`,
  pullMessages: `${TEV}/PullPointSubscription/PullMessagesRequest`,
  renew: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest',
  unsubscribe: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest',
} as const;

/** xs:duration of whole seconds, "PT60S". */
export const seconds = (s: number): string => `PT${Math.max(1, Math.round(s))}S`;

export const createPullPointSubscriptionBody = (terminationSec: number): string =>
  `<tev:CreatePullPointSubscription xmlns:tev="${TEV}"><tev:InitialTerminationTime>${seconds(terminationSec)}</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`;
export const pullMessagesBody = (timeoutSec: number, limit: number): string =>
  `<tev:PullMessages xmlns:tev="${TEV}"><tev:Timeout>${seconds(timeoutSec)}</tev:Timeout><tev:MessageLimit>${Math.max(1, Math.round(limit))}</tev:MessageLimit></tev:PullMessages>`;
export const renewBody = (terminationSec: number): string =>
  `<wsnt:Renew xmlns:wsnt="${WSNT}"><wsnt:TerminationTime>${seconds(terminationSec)}</wsnt:TerminationTime></wsnt:Renew>`;
export const unsubscribeBody = (): string => `<wsnt:Unsubscribe xmlns:wsnt="${WSNT}"/>`;

/** xsd:dateTime as ms; one without a zone is UTC (devices drop the 'Z'; Core §9.10 examples do too). */
export function parseXsdDateTime(s: string | undefined): number | null {
  if (!s) return null;
  const t = s.trim();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$/.test(t)) return null;
  const zoned = /(Z|[+-]\d\d:\d\d)$/.test(t) ? t : `${t}Z`;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : null;
}

/** An element of the subscription's endpoint reference to echo as a header. */
export type ReferenceParameter = XmlElement;

export interface Subscription {
  /** the subscription manager's address (where PullMessages, Renew and Unsubscribe go) */
  address: string;
  referenceParameters: ReferenceParameter[];
  /** device clock */
  currentTime: number | null;
  terminationTime: number | null;
}

export function parseCreatePullPointSubscriptionResponse(res: XmlElement | undefined): Subscription | null {
  const ref = child(res, TEV, 'SubscriptionReference');
  const address = child(ref, WSA_2005, 'Address')?.text ?? '';
  if (!/^https?:\/\/\S+$/i.test(address) || address.length > 2048) return null;
  return {
    address,
    referenceParameters: (child(ref, WSA_2005, 'ReferenceParameters')?.children ?? []).slice(0, 8),
    currentTime: parseXsdDateTime(child(res, WSNT, 'CurrentTime')?.text ?? child(res, TEV, 'CurrentTime')?.text),
    terminationTime: parseXsdDateTime(child(res, WSNT, 'TerminationTime')?.text ?? child(res, TEV, 'TerminationTime')?.text),
  };
}

/** Writes an element back out with its namespaces, for echoing reference parameters. */
function serialize(el: XmlElement, counter: { n: number }, marker: string): string {
  const p = `rp${counter.n++}`;
  const attrs = Object.entries(el.attrs).filter(([k]) => k !== 'IsReferenceParameter').map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
  const ns = el.ns ? ` xmlns:${p}="${escapeXml(el.ns)}"` : '';
  const tag = el.ns ? `${p}:${el.name}` : el.name;
  const inner = escapeXml(el.text) + el.children.map((c) => serialize(c, counter, '')).join('');
  return `<${tag}${ns}${marker}${attrs}>${inner}</${tag}>`;
}

/** WS-Addressing headers for a request to the subscription manager. */
export function addressingHeader(action: string, to: string, refs: readonly ReferenceParameter[], messageId: string): string {
  const counter = { n: 0 };
  const marker = ` xmlns:wsa="${WSA_2005}" wsa:IsReferenceParameter="true"`;
  return `<wsa:Action xmlns:wsa="${WSA_2005}">${escapeXml(action)}</wsa:Action>` +
    `<wsa:MessageID xmlns:wsa="${WSA_2005}">${escapeXml(messageId)}</wsa:MessageID>` +
    `<wsa:To xmlns:wsa="${WSA_2005}">${escapeXml(to)}</wsa:To>` +
    refs.map((r) => serialize(r, counter, marker)).join('');
}

export type ItemValue = string | boolean | Record<string, unknown>;

export interface Notification {
  /** the topic with the ONVIF topic namespace written as tns1 whatever prefix the device used */
  topic: string;
  /** UtcTime as the device wrote it (its clock), ms; null when missing or unreadable */
  utcTime: number | null;
  /** Initialized, Changed or Deleted for property events (§9.4.2), else null */
  operation: string | null;
  source: Record<string, ItemValue>;
  data: Record<string, ItemValue>;
}

export interface PullMessagesResult {
  currentTime: number | null;
  terminationTime: number | null;
  messages: Notification[];
}

const MAX_ITEMS = 64;

/** "tns1:RuleEngine/CellMotionDetector/Motion" with each segment's prefix resolved: the ONVIF topic namespace becomes tns1. */
export function normalizeTopic(topicEl: XmlElement): string {
  const parts = topicEl.text.split('/').slice(0, 16).map((seg) => {
    if (seg.indexOf(':') < 0) return seg;
    const q = resolveQName(topicEl, seg);
    return q.ns === TNS1 ? `tns1:${q.local}` : seg;
  });
  return parts.join('/').slice(0, 512);
}

function elementValue(el: XmlElement, depth: number): ItemValue {
  if (el.children.length === 0 || depth > 6) return el.text;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(el.attrs)) out[k] = v;
  for (const c of el.children.slice(0, MAX_ITEMS)) out[c.name] = elementValue(c, depth + 1);
  return out;
}

function items(el: XmlElement | undefined, into: Record<string, ItemValue>): void {
  let n = 0;
  for (const it of el?.children ?? []) {
    if (it.ns !== TT || n++ >= MAX_ITEMS) continue;
    const name = (it.attrs['Name'] ?? '').slice(0, 128);
    if (!name || name === '__proto__') continue;
    if (it.name === 'SimpleItem') {
      const v = (it.attrs['Value'] ?? '').slice(0, 1024);
      into[name] = v === 'true' ? true : v === 'false' ? false : v;
    } else if (it.name === 'ElementItem') {
      const inner = it.children[0];
      into[name] = inner ? elementValue(inner, 0) : it.text;
    }
  }
}

export function parseNotification(nm: XmlElement): Notification | null {
  const topicEl = child(nm, WSNT, 'Topic');
  const msg = child(child(nm, WSNT, 'Message'), TT, 'Message');
  if (!topicEl || !msg) return null;
  const source: Record<string, ItemValue> = Object.create(null) as Record<string, ItemValue>;
  const data: Record<string, ItemValue> = Object.create(null) as Record<string, ItemValue>;
  items(child(msg, TT, 'Source'), source);
  // §9.4.1: the Key extends the source identifier
  items(child(msg, TT, 'Key'), source);
  items(child(msg, TT, 'Data'), data);
  return {
    topic: normalizeTopic(topicEl),
    utcTime: parseXsdDateTime(msg.attrs['UtcTime']),
    operation: msg.attrs['PropertyOperation'] ?? null,
    source: { ...source },
    data: { ...data },
  };
}

export function parsePullMessagesResponse(res: XmlElement | undefined, limit = 1000): PullMessagesResult {
  const messages: Notification[] = [];
  for (const nm of children(res, WSNT, 'NotificationMessage').slice(0, limit)) {
    const n = parseNotification(nm);
    if (n) messages.push(n);
  }
  return {
    currentTime: parseXsdDateTime(child(res, TEV, 'CurrentTime')?.text),
    terminationTime: parseXsdDateTime(child(res, TEV, 'TerminationTime')?.text),
    messages,
  };
}

export function parseRenewResponse(res: XmlElement | undefined): { currentTime: number | null; terminationTime: number | null } {
  return { currentTime: parseXsdDateTime(child(res, WSNT, 'CurrentTime')?.text), terminationTime: parseXsdDateTime(child(res, WSNT, 'TerminationTime')?.text) };
}

/** The `state` of a payload: the first true/false Data item, else the only Data item, else null. */
export function notificationState(n: Notification): ItemValue | null {
  const values = Object.values(n.data);
  const b = values.find((v) => typeof v === 'boolean');
  if (b !== undefined) return b;
  return values.length === 1 ? values[0]! : null;
}
