/**
 * SOAP 1.2 envelopes (SOAP 1.2 Part 1 §5) as ONVIF devices take them (ONVIF Core §5.1.2), and
 * the replies: the first element of the Body, or the Fault (SOAP 1.2 Part 1 §5.4) mapped to the
 * short reasons users already know from the camera (ONVIF Core §5.8.2: generic faults carry
 * ter: subcodes, ter:NotAuthorized for refused credentials).
 */
import { CameraError, type CameraErrorReason } from '../../errors';
import { SOAP11, SOAP12, TER, WSRF_RW, WSSE } from './namespaces';
import { child, children, parseXml, resolveQName, type XmlElement, type XmlLimits } from './xml';

/** A SOAP 1.2 envelope around `body` (XML of one element with its own namespace declarations). */
export function buildEnvelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="${SOAP12}">` +
    (header ? `<s:Header>${header}</s:Header>` : '') +
    `<s:Body>${body}</s:Body></s:Envelope>`;
}

export interface QName { ns: string; local: string }

export interface SoapFault {
  /** env:Sender, env:Receiver, env:MustUnderstand, … */
  code: QName;
  /** ter:InvalidArgVal, ter:NotAuthorized, … outermost first */
  subcodes: QName[];
  /** the Reason text (the first one) */
  reason: string;
  /** local names of the elements in Detail (wsrf-rw:ResourceUnknownFault, …) */
  detail: QName[];
}

export interface SoapMessage {
  header: XmlElement | undefined;
  /** the first element inside Body (the response), undefined for an empty Body */
  body: XmlElement | undefined;
  fault: SoapFault | null;
}

const ENVELOPES = [SOAP12, SOAP11] as const;

function faultOf(el: XmlElement): SoapFault {
  const code = child(el, SOAP12, 'Code');
  const subcodes: QName[] = [];
  let codeName: QName = { ns: '', local: '' };
  if (code) {
    // SOAP 1.2: Code/Value, Code/Subcode/Value, Subcode/Subcode/Value …
    const v = child(code, SOAP12, 'Value');
    if (v) codeName = resolveQName(v, v.text);
    let sub = child(code, SOAP12, 'Subcode');
    for (let depth = 0; sub && depth < 8; depth++) {
      const sv = child(sub, SOAP12, 'Value');
      if (sv) subcodes.push(resolveQName(sv, sv.text));
      sub = child(sub, SOAP12, 'Subcode');
    }
  } else {
    // SOAP 1.1 faultcode/faultstring (unqualified children), still seen from old firmware
    const fc = child(el, '', 'faultcode');
    if (fc) codeName = resolveQName(fc, fc.text);
  }
  const reasonText = child(child(el, SOAP12, 'Reason'), SOAP12, 'Text')?.text ?? child(el, '', 'faultstring')?.text ?? '';
  const detailEl = child(el, SOAP12, 'Detail') ?? child(el, '', 'detail');
  const detail = (detailEl?.children ?? []).map((d) => ({ ns: d.ns, local: d.name }));
  return { code: codeName, subcodes, reason: reasonText.slice(0, 500), detail };
}

/**
 * Parses a SOAP message, a reply or (server side) a request: SOAP 1.2, or 1.1 from old firmware. Throws CameraError('protocol error') when
 * it is not XML or not an Envelope with a Body.
 */
export function parseSoap(text: string, what = 'reply', limits?: Partial<XmlLimits>): SoapMessage {
  const root = parseXml(text, what, limits);
  if (root.name !== 'Envelope' || !ENVELOPES.includes(root.ns as (typeof ENVELOPES)[number])) {
    throw new CameraError('protocol error', `${what}: not a SOAP envelope (root element ${root.name})`);
  }
  const body = child(root, root.ns, 'Body');
  if (!body) throw new CameraError('protocol error', `${what}: SOAP envelope without a Body`);
  const first = body.children[0];
  const fault = first && first.name === 'Fault' && first.ns === root.ns ? faultOf(first) : null;
  return { header: child(root, root.ns, 'Header'), body: first, fault };
}

/** WS-Security 1.0 §12 fault codes: the device could not check, or refused, the token. */
const WSSE_AUTH_FAULTS = new Set(['FailedAuthentication', 'InvalidSecurity', 'InvalidSecurityToken', 'FailedCheck', 'SecurityTokenUnavailable', 'UnsupportedSecurityToken']);
/** ONVIF generic and specific faults that mean "no such thing here" (ONVIF Core §5.8.2.2, media specs). */
const NOT_FOUND = new Set(['ActionNotSupported', 'NoSuchService', 'NoProfile', 'NoConfig', 'NoSource', 'UnknownAction', 'ActionNotSupportedFault']);

/**
 * The short reason of a fault. A subcode with an undeclared prefix resolves to no namespace;
 * it still counts as ter: (firmware that forgot the declaration meant ONVIF's error codes).
 */
export function faultReason(f: SoapFault): CameraErrorReason {
  const names = [f.code, ...f.subcodes];
  const isTer = (q: QName, local: string): boolean => q.local === local && (q.ns === TER || q.ns === '');
  if (names.some((q) => isTer(q, 'NotAuthorized') || (q.ns === WSSE && WSSE_AUTH_FAULTS.has(q.local)))) return 'auth failed';
  if (f.detail.some((d) => d.ns === WSRF_RW && d.local === 'ResourceUnknownFault')) return 'session expired';
  if (names.some((q) => [...NOT_FOUND].some((n) => isTer(q, n)))) return 'not found';
  return 'protocol error';
}

/** "env:Sender/ter:NotAuthorized" style text for messages. */
export function faultText(f: SoapFault): string {
  const names = [f.code, ...f.subcodes].filter((q) => q.local).map((q) => q.local).join('/');
  const detail = f.detail.length > 0 ? ` [${f.detail.map((d) => d.local).join(', ')}]` : '';
  return `SOAP fault ${names || '(no code)'}${f.reason ? `: ${f.reason}` : ''}${detail}`;
}

/** The CameraError for a fault answering `operation`. */
export function faultError(operation: string, f: SoapFault): CameraError {
  return new CameraError(faultReason(f), `${operation}: ${faultText(f)}`);
}

/** A SOAP 1.2 fault envelope (server side: the demo camera and the device emulations). */
export function buildFault(code: 'Sender' | 'Receiver', subcodes: string[], reason: string): string {
  let sub = '';
  for (const s of [...subcodes].reverse()) sub = `<s:Subcode><s:Value>${s}</s:Value>${sub}</s:Subcode>`;
  return buildEnvelope(`<s:Fault xmlns:ter="${TER}"><s:Code><s:Value>s:${code}</s:Value>${sub}</s:Code>` +
    `<s:Reason><s:Text xml:lang="en">${reason}</s:Text></s:Reason></s:Fault>`);
}

/** Children of the Header (server side: the security header, WS-Addressing headers). */
export function headerBlocks(reply: SoapMessage, ns: string, name: string): XmlElement[] {
  return children(reply.header, ns, name);
}
