/**
 * How the device emulations write their SOAP replies: one element tree, serialized in the
 * namespace style of a vendor's firmware. The ONVIF specifications fix namespaces, never
 * prefixes, and devices differ:
 *
 * - 'gsoap': every namespace declared once on the Envelope with the customary prefixes (env,
 *   tt, tds, trt, tr2, tev, wsnt, wsa), as gSOAP-based firmware writes (Hikvision and Dahua
 *   replies quoted in public ONVIF client projects and bug reports).
 * - 'axis': SOAP-ENV and the same customary prefixes, declared on the Envelope.
 * - 'default-ns': no prefixes at all in the body: each element that changes namespace
 *   declares it as the default (xmlns="…"), as .NET/WCF-based servers write.
 * - 'odd': made-up prefixes (ns0, ns1, …) and a trap: the Envelope binds the prefix `tt` to a
 *   vendor namespace and the response re-binds `tt` to the ONVIF schema only inside itself, so
 *   a parser matching prefixes instead of namespace URIs reads the wrong elements.
 *
 * Written independently of src/onvif (no import from it): the emulations check our parser,
 * so they must not share its assumptions.
 */
export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tr2: 'http://www.onvif.org/ver20/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsrf: 'http://docs.oasis-open.org/wsrf/rw-2',
  ter: 'http://www.onvif.org/ver10/error',
  tns1: 'http://www.onvif.org/ver10/topics',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  vendor: 'http://www.example.com/vendor/2019/schema',
} as const;

export type NsKey = keyof typeof NS;
export type Style = 'gsoap' | 'axis' | 'default-ns' | 'odd';

export interface El {
  ns: NsKey;
  name: string;
  attrs: Record<string, string>;
  kids: (El | string)[];
}

/** x('tt', 'Name', 'text'), x('trt', 'Profiles', { token: 'p0' }, x(...), …) */
export function x(ns: NsKey, name: string, ...rest: (El | string | Record<string, string> | undefined | null | false)[]): El {
  const el: El = { ns, name, attrs: {}, kids: [] };
  for (const r of rest) {
    if (r === undefined || r === null || r === false) continue;
    if (typeof r === 'string' || 'kids' in r) el.kids.push(r as El | string);
    else Object.assign(el.attrs, r);
  }
  return el;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function prefixes(style: Style): Record<NsKey, string> {
  const base = Object.fromEntries(Object.keys(NS).map((k) => [k, k])) as Record<NsKey, string>;
  if (style === 'axis') return { ...base, env: 'SOAP-ENV' };
  if (style === 'odd') {
    const out = {} as Record<NsKey, string>;
    Object.keys(NS).forEach((k, i) => { out[k as NsKey] = `ns${i}`; });
    // the ONVIF schema is written with the prefix tt, but bound only inside the response
    return { ...out, tt: 'tt', vendor: 'v' };
  }
  return base;
}

/**
 * Text of a QName value (fault subcode, topic) in this style: the prefix that is in scope for
 * the namespace where the value is written.
 */
export function qname(style: Style, ns: NsKey, local: string): string {
  if (style === 'default-ns') return `${ns}:${local}`;
  return `${prefixes(style)[ns]}:${local}`;
}

function serialize(el: El, style: Style, p: Record<NsKey, string>, parentDefault: string | null, extraDecl: string): string {
  const attrs = Object.entries(el.attrs).map(([k, v]) => ` ${k}="${esc(v)}"`).join('');
  let open: string;
  let myDefault = parentDefault;
  if (style === 'default-ns' && el.ns !== 'env') {
    const uri = NS[el.ns];
    const decl = uri !== parentDefault ? ` xmlns="${uri}"` : '';
    myDefault = uri;
    open = `${el.name}${decl}`;
  } else {
    open = `${p[el.ns]}:${el.name}`;
  }
  const inner = el.kids.map((k) => (typeof k === 'string' ? esc(k) : serialize(k, style, p, myDefault, ''))).join('');
  const tag = open.split(' ')[0]!;
  return inner === '' ? `<${open}${extraDecl}${attrs}/>` : `<${open}${extraDecl}${attrs}>${inner}</${tag}>`;
}

/**
 * A whole envelope around `body` (and optional header blocks). `qnameNs`: namespaces that QName
 * values in the body refer to (fault subcodes, topics); in the default-ns style they get
 * ordinary prefix declarations, since QName values need prefixes.
 */
export function envelope(style: Style, body: El[], header: El[] = []): string {
  const p = prefixes(style);
  const keys = Object.keys(NS) as NsKey[];
  let envDecl: string;
  let bodyDecl = '';
  if (style === 'default-ns') {
    envDecl = ` xmlns:env="${NS.env}"` + keys.filter((k) => k !== 'env').map((k) => ` xmlns:${k}="${NS[k]}"`).join('');
  } else if (style === 'odd') {
    // tt bound to the vendor namespace out here; the real binding is on each body element
    envDecl = keys.filter((k) => k !== 'tt').map((k) => ` xmlns:${p[k]}="${NS[k]}"`).join('') + ` xmlns:tt="${NS.vendor}"`;
    bodyDecl = ` xmlns:tt="${NS.tt}"`;
  } else {
    envDecl = keys.map((k) => ` xmlns:${p[k]}="${NS[k]}"`).join('');
  }
  const e = p.env;
  const hdr = header.length ? `<${e}:Header>${header.map((h) => serialize(h, style, p, null, bodyDecl)).join('')}</${e}:Header>` : '';
  const bodyXml = body.map((b) => serialize(b, style, p, null, bodyDecl)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${e}:Envelope${envDecl}>${hdr}<${e}:Body>${bodyXml}</${e}:Body></${e}:Envelope>`;
}

/** A SOAP 1.2 fault (ONVIF Core §5.8.2) in this style. */
export function fault(style: Style, code: 'Sender' | 'Receiver', subcodes: string[], reason: string, detail: El[] = []): string {
  let sub: El | null = null;
  for (const s of [...subcodes].reverse()) sub = x('env', 'Subcode', x('env', 'Value', qname(style, 'ter', s)), sub);
  return envelope(style, [x('env', 'Fault',
    x('env', 'Code', x('env', 'Value', qname(style, 'env', code)), sub),
    x('env', 'Reason', x('env', 'Text', { 'xml:lang': 'en' }, reason)),
    detail.length ? x('env', 'Detail', ...detail) : null)]);
}
